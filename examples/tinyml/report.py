"""Join step: combine a data profile and several metrics files into one report.

    python3 -m tinyml.report --stats metrics/stats.json \
        --metrics metrics/logreg.json metrics/centroid.json --out metrics/report.json
"""

from __future__ import annotations

import argparse
import sys

from tinyml._common import TaskError, as_flat_list, read_json, run_cli, write_json, write_value


def main(metrics, out: str = "metrics/report.json", stats=None, best_out=None) -> str:
    """Write the report; return the name of the most accurate model (ties: alphabetical)."""
    files = as_flat_list(metrics, "metrics")
    if not files:
        raise TaskError("no metrics files given")
    models = {}
    for path in files:
        m = read_json(path)
        name = str(m.get("model_path") or path).rsplit("/", 1)[-1].removesuffix(".json")
        models[name] = {k: m[k] for k in ("accuracy", "f1", "precision", "recall", "rows") if k in m}
    best = sorted(models, key=lambda n: (-float(models[n].get("accuracy", 0)), n))[0]
    report = {"models": models, "best": best}
    if stats:
        s = read_json(stats)
        report["data"] = {k: s[k] for k in ("file", "rows", "churn_rate") if k in s}
    write_json(out, report)
    write_value(best_out, best)
    print(f"report: {len(models)} models, best {best} -> {out}")
    return best


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.report", description=__doc__.split("\n\n")[0])
    p.add_argument("--metrics", nargs="+", required=True, help="metrics JSON files from tinyml.evaluate")
    p.add_argument("--stats", help="profile JSON from tinyml.stats")
    p.add_argument("--out", default="metrics/report.json", help="default: %(default)s")
    p.add_argument("--best-out", help="write the best model's name to this file")
    return run_cli("report", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
