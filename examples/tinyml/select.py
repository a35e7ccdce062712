"""Pick the best of several model results (the fan-in step).

Input: a list of result objects as written by ``tinyml.train`` (each with "accuracy" and
"name"/"path"), given as dicts, JSON texts, or paths of JSON files (e.g. metrics files).
Or: a list of plain scores with matching labels. Highest accuracy wins; ties go to the
first name in alphabetical order.

    python3 -m tinyml.select --results metrics/logreg.json metrics/stump.json --out metrics/best.json
    python3 -m tinyml.select --scores 0.81 0.74 --labels logreg stump
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from tinyml._common import (
    TaskError,
    as_flat_list,
    as_float,
    as_json,
    ensure_parent,
    read_json,
    run_cli,
    write_json,
    write_value,
)


def _load(item, i: int) -> dict:
    item = as_json(item, f"results[{i}]")
    if isinstance(item, str) and item.endswith(".json") and os.path.exists(item):
        loaded = read_json(item)
        loaded.setdefault("source", item)
        return loaded
    if not isinstance(item, dict):
        raise TaskError(f"results[{i}]: expected an object or a JSON file, got {item!r}")
    return item


def _label(r: dict, i: int) -> str:
    return str(r.get("name") or r.get("model_path") or r.get("path") or r.get("source") or f"#{i}")


def best(
    results=None, scores=None, labels=None, out=None, model_out=None, metric: str = "accuracy", best_out=None
) -> dict:
    """Return the winning result dict; write {"best", "ranking"} to `out` and copy the
    winner's model file (its "path" or "model_path") to `model_out`, when those are set."""
    if results not in (None, "", []):
        items = [_load(r, i) for i, r in enumerate(as_flat_list(results, "results"))]
    elif scores not in (None, "", []):
        values = as_flat_list(scores, "scores")
        names = as_flat_list(labels, "labels") if labels not in (None, "") else [f"#{i}" for i in range(len(values))]
        if len(names) != len(values):
            raise TaskError(f"{len(values)} scores but {len(names)} labels")
        items = [{"name": str(n), metric: as_float(v, "scores[]")} for n, v in zip(names, values)]
    else:
        raise TaskError("nothing to choose from: give results or scores")
    if not items:
        raise TaskError("nothing to choose from: the list is empty")
    for i, r in enumerate(items):
        if metric not in r:
            raise TaskError(f"results[{i}] ({_label(r, i)}) has no {metric!r}")
        r[metric] = as_float(r[metric], metric)
    ranked = sorted(
        ({**r, "name": _label(r, i)} for i, r in enumerate(items)),
        key=lambda r: (-r[metric], r["name"]),
    )
    winner = ranked[0]
    if out:
        write_json(
            out, {"best": winner, "metric": metric, "ranking": [{"name": r["name"], metric: r[metric]} for r in ranked]}
        )
    if model_out:
        src = winner.get("path") or winner.get("model_path")
        if not src or not os.path.exists(src):
            raise TaskError(f"winner {winner['name']} names no existing model file (path={src!r})")
        ensure_parent(model_out)
        shutil.copyfile(src, model_out)
    write_value(best_out, winner)
    print(f"select: best is {winner['name']} with {metric} {winner[metric]:.4f} (of {len(ranked)})")
    return winner


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python3 -m tinyml.select",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )
    p.add_argument("--results", nargs="+", help="result JSON texts or JSON files")
    p.add_argument("--scores", nargs="+", help="plain scores (with --labels)")
    p.add_argument("--labels", nargs="+", help="names for --scores, same order")
    p.add_argument("--metric", default="accuracy", help="key to maximize (default: %(default)s)")
    p.add_argument("--out", help="write the winner and the ranking to this JSON file")
    p.add_argument("--model-out", help="copy the winner's model file here")
    p.add_argument("--best-out", help="write the winner (a JSON object) to this file")
    return run_cli("select", best, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
