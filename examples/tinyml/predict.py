"""Batch prediction: score a CSV with a saved model; summarize several scored shards.

python3 -m tinyml.predict --model models/best.json --data data/shards/shard-0.csv --out-dir data/predictions
python3 -m tinyml.predict summarize --summaries '[{...}, ...]' --out metrics/predictions.json
"""

from __future__ import annotations

import argparse
import os
import sys

from tinyml._common import (
    TaskError,
    as_flat_list,
    as_json,
    load_dataset,
    read_json,
    run_cli,
    write_csv,
    write_json,
    write_value,
)
from tinyml.train import predict


def main(
    model: str = "models/model.json", data: str = "data/clean.csv", out_dir: str = "data/predictions", summary_out=None
) -> dict:
    """Write out_dir/<name of data> with one prediction per customer; return a summary dict
    {"file", "rows", "predicted_churn", "churn_rate"}."""
    m = read_json(model)
    rows, X, _ = load_dataset(data)
    out = os.path.join(out_dir, os.path.basename(data)).replace(os.sep, "/")
    preds = [{"customer_id": r["customer_id"], "churn_prediction": predict(m, x)} for r, x in zip(rows, X)]
    write_csv(out, preds, ["customer_id", "churn_prediction"])
    positive = sum(p["churn_prediction"] for p in preds)
    summary = {
        "file": out,
        "rows": len(preds),
        "predicted_churn": positive,
        "churn_rate": round(positive / len(preds), 4) if preds else 0.0,
    }
    print(f"predict: {data} -> {out}: {positive} of {len(preds)} customers predicted to churn")
    write_value(summary_out, summary)
    return summary


def summarize(summaries, out: str = "metrics/predictions.json") -> dict:
    """Combine the per-shard summaries (a list of dicts, or of JSON texts) into one report."""
    items = [as_json(s, "summaries[]") for s in as_flat_list(summaries, "summaries")]
    if not all(isinstance(s, dict) for s in items):
        raise TaskError(f"summaries: expected a list of objects, got {summaries!r}")
    items = sorted(items, key=lambda s: str(s.get("file")))
    rows = sum(int(s["rows"]) for s in items)
    positive = sum(int(s["predicted_churn"]) for s in items)
    report = {
        "shards": items,
        "rows": rows,
        "predicted_churn": positive,
        "churn_rate": round(positive / rows, 4) if rows else 0.0,
    }
    write_json(out, report)
    print(f"summarize: {len(items)} shards, {rows} customers, {positive} predicted to churn -> {out}")
    return report


def cli(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["summarize"]:
        p = argparse.ArgumentParser(prog="python3 -m tinyml.predict summarize", description=summarize.__doc__)
        p.add_argument("--summaries", required=True, help="JSON list of per-shard summaries")
        p.add_argument("--out", default="metrics/predictions.json", help="default: %(default)s")
        return run_cli("predict summarize", summarize, p.parse_args(argv[1:]))
    p = argparse.ArgumentParser(
        prog="python3 -m tinyml.predict",
        description=__doc__.split("\n\n")[0],
        epilog="Use `python3 -m tinyml.predict summarize --help` for the fan-in step.",
    )
    p.add_argument("--model", default="models/model.json", help="model JSON (default: %(default)s)")
    p.add_argument("--data", default="data/clean.csv", help="CSV to score (default: %(default)s)")
    p.add_argument("--out-dir", default="data/predictions", help="default: %(default)s")
    p.add_argument("--summary-out", help="write the summary (a JSON object) to this file")
    return run_cli("predict", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
