"""Train a tiny churn model in pure Python and save it as JSON.

Models (--model):
  logreg    logistic regression, stochastic gradient descent on standardized features
  stump     a decision stump: the single best "feature <= threshold" rule
  centroid  nearest class centroid on standardized features

    python3 -m tinyml.train --train data/train.csv --model logreg --model-out models/model.json
"""

from __future__ import annotations

import argparse
import math
import random
import sys

from tinyml._common import (
    DIGITS,
    FEATURES,
    TaskError,
    as_float,
    as_int,
    load_dataset,
    run_cli,
    write_json,
    write_value,
)

MODELS = ("logreg", "stump", "centroid")


def _standardizer(X: list[list[float]]) -> tuple[list[float], list[float]]:
    n, d = len(X), len(X[0])
    mean = [sum(x[j] for x in X) / n for j in range(d)]
    std = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x in X) / n) or 1.0 for j in range(d)]
    return [round(m, DIGITS) for m in mean], [round(s, DIGITS) for s in std]


def _scale(model: dict, x: list[float]) -> list[float]:
    return [(v - m) / s for v, m, s in zip(x, model["mean"], model["std"])]


def _sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1 / (1 + math.exp(-z))


def fit_logreg(X, y, learning_rate: float, epochs: int, seed: int) -> dict:
    mean, std = _standardizer(X)
    model = {"mean": mean, "std": std}
    Z = [_scale(model, x) for x in X]
    w, b = [0.0] * len(FEATURES), 0.0
    rng = random.Random(seed)
    order = list(range(len(Z)))
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            err = _sigmoid(b + sum(wj * zj for wj, zj in zip(w, Z[i]))) - y[i]
            w = [wj - learning_rate * err * zj for wj, zj in zip(w, Z[i])]
            b -= learning_rate * err
    model.update(weights=[round(v, DIGITS) for v in w], bias=round(b, DIGITS))
    return model


def fit_stump(X, y) -> dict:
    best = None  # (accuracy, feature index, threshold, label when <=)
    for j in range(len(FEATURES)):
        values = sorted(set(x[j] for x in X))
        for lo, hi in zip(values, values[1:]):
            t = round((lo + hi) / 2, DIGITS)
            for below in (0, 1):
                correct = sum(1 for x, yi in zip(X, y) if (below if x[j] <= t else 1 - below) == yi)
                cand = (correct, -j, -t, below)
                if best is None or cand > best:
                    best = cand
    if best is None:
        raise TaskError("stump: every feature is constant, nothing to split on")
    _, negj, negt, below = best
    return {"feature": FEATURES[-negj], "threshold": -negt, "label_if_below": below}


def fit_centroid(X, y) -> dict:
    mean, std = _standardizer(X)
    model = {"mean": mean, "std": std, "centroids": {}}
    for label in (0, 1):
        Z = [_scale(model, x) for x, yi in zip(X, y) if yi == label]
        if not Z:
            raise TaskError(f"centroid: no rows with churned={label}")
        model["centroids"][str(label)] = [round(sum(z[j] for z in Z) / len(Z), DIGITS) for j in range(len(FEATURES))]
    return model


def predict(model: dict, x: list[float]) -> int:
    """Predict churn (0/1) for one feature vector with a model loaded from JSON."""
    kind = model["model"]
    if kind == "logreg":
        z = model["bias"] + sum(w * v for w, v in zip(model["weights"], _scale(model, x)))
        return 1 if z >= 0 else 0
    if kind == "stump":
        below = model["label_if_below"]
        return below if x[FEATURES.index(model["feature"])] <= model["threshold"] else 1 - below
    if kind == "centroid":
        z = _scale(model, x)
        d = {k: sum((a - b) ** 2 for a, b in zip(z, c)) for k, c in model["centroids"].items()}
        return 1 if d["1"] < d["0"] else 0
    raise TaskError(f"unknown model kind {kind!r}")


def accuracy(model: dict, X, y) -> float:
    return round(sum(1 for x, yi in zip(X, y) if predict(model, x) == yi) / len(y), 4) if y else 0.0


def main(
    train: str = "data/train.csv",
    model_out: str = "models/model.json",
    model: str = "logreg",
    learning_rate=0.1,
    epochs=20,
    seed=0,
    test=None,
    name=None,
    score_out=None,
    result_out=None,
) -> dict:
    """Fit, save to `model_out` and return a result dict:
    {"name", "model", "path", "accuracy", "evaluated_on", "learning_rate", "epochs"}.

    "accuracy" is measured on `test` when given, otherwise on the training data.
    """
    kind = str(model).strip()
    if kind not in MODELS:
        raise TaskError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")
    lr, n_epochs, seed = as_float(learning_rate, "learning_rate"), as_int(epochs, "epochs"), as_int(seed, "seed")
    if n_epochs < 1:
        raise TaskError(f"epochs must be at least 1, got {n_epochs}")
    _, X, y = load_dataset(train)
    if len(set(y)) < 2:
        raise TaskError(f"{train}: need both churned and retained customers to train")
    if kind == "logreg":
        params = fit_logreg(X, y, lr, n_epochs, seed)
    elif kind == "stump":
        params = fit_stump(X, y)
    else:
        params = fit_centroid(X, y)
    fitted = {"model": kind, "features": FEATURES, "train_rows": len(y), **params}
    fitted["train_accuracy"] = accuracy(fitted, X, y)
    if kind == "logreg":
        fitted.update(learning_rate=lr, epochs=n_epochs, seed=seed)
    write_json(model_out, fitted)

    acc, on = fitted["train_accuracy"], "train"
    if test:
        _, Xt, yt = load_dataset(test)
        acc, on = accuracy(fitted, Xt, yt), "test"
    result = {
        "name": str(name) if name not in (None, "") else kind,
        "model": kind,
        "path": model_out,
        "accuracy": acc,
        "evaluated_on": on,
        "learning_rate": lr if kind == "logreg" else None,
        "epochs": n_epochs if kind == "logreg" else None,
    }
    print(f"train: {result['name']} ({kind}) -> {model_out}, {on} accuracy {acc:.4f}")
    write_value(score_out, acc)
    write_value(result_out, result)
    return result


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python3 -m tinyml.train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    p.add_argument("--train", default="data/train.csv", help="training CSV (default: %(default)s)")
    p.add_argument("--model-out", default="models/model.json", help="model JSON to write (default: %(default)s)")
    p.add_argument("--model", default="logreg", help=f"one of {', '.join(MODELS)} (default: %(default)s)")
    p.add_argument("--learning-rate", type=float, default=0.1, help="logreg step size (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=20, help="logreg passes over the data (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="logreg shuffling seed (default: %(default)s)")
    p.add_argument("--test", help="held-out CSV; when given, the reported accuracy is measured on it")
    p.add_argument("--name", help="a label for this run in the result (default: the model kind)")
    p.add_argument("--score-out", help="write the accuracy (a float) to this file")
    p.add_argument("--result-out", help="write the result (a JSON object) to this file")
    return run_cli("train", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
