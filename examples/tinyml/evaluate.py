"""Score a saved model on a labelled CSV and write metrics JSON.

    python3 -m tinyml.evaluate --model models/model.json --data data/test.csv \
        --metrics-out metrics/metrics.json --accuracy-out accuracy.txt
"""

from __future__ import annotations

import argparse
import sys

from tinyml._common import load_dataset, read_json, run_cli, write_json, write_value
from tinyml.train import predict


def metrics_for(model: dict, data: str) -> dict:
    _, X, y = load_dataset(data)
    tp = fp = tn = fn = 0
    for x, yi in zip(X, y):
        p = predict(model, x)
        tp += p == 1 and yi == 1
        fp += p == 1 and yi == 0
        tn += p == 0 and yi == 0
        fn += p == 0 and yi == 1
    n = len(y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "model": model["model"],
        "data": data,
        "rows": n,
        "accuracy": round((tp + tn) / n, 4) if n else 0.0,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
    }


def main(
    model: str = "models/model.json",
    data: str = "data/test.csv",
    metrics_out: str | None = "metrics/metrics.json",
    accuracy_out: str | None = None,
) -> float:
    """Write the metrics to `metrics_out` (if set); return the accuracy."""
    m = metrics_for(read_json(model), data)
    m["model_path"] = model
    if metrics_out:
        write_json(metrics_out, m)
    write_value(accuracy_out, m["accuracy"])
    print(f"evaluate: {model} on {data}: accuracy {m['accuracy']:.4f}, f1 {m['f1']:.4f}")
    return m["accuracy"]


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="models/model.json", help="model JSON (default: %(default)s)")
    p.add_argument("--data", default="data/test.csv", help="labelled CSV (default: %(default)s)")
    p.add_argument("--metrics-out", default="metrics/metrics.json", help="metrics JSON (default: %(default)s)")
    p.add_argument("--accuracy-out", help="write the accuracy (a float) to this file")
    return run_cli("evaluate", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
