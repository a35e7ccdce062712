"""Profile a clean CSV: row count, churn rate, per-column min/mean/max, contract mix.

python3 -m tinyml.stats --src data/clean.csv --out metrics/stats.json
"""

from __future__ import annotations

import argparse
import sys

from tinyml._common import CONTRACT_MONTHS, load_dataset, run_cli, write_json, write_value


def main(src: str = "data/clean.csv", out: str = "metrics/stats.json", churn_rate_out=None) -> dict:
    """Write the profile to `out`; return it."""
    rows, _, y = load_dataset(src)
    profile = {"file": src, "rows": len(rows), "churn_rate": round(sum(y) / len(y), 4) if y else 0.0}
    for col in ("tenure_months", "monthly_charges", "support_calls"):
        values = [float(r[col]) for r in rows]
        profile[col] = {
            "min": min(values) if values else 0.0,
            "mean": round(sum(values) / len(values), 4) if values else 0.0,
            "max": max(values) if values else 0.0,
        }
    profile["contract"] = {c: sum(1 for r in rows if r["contract"] == c) for c in CONTRACT_MONTHS}
    write_json(out, profile)
    write_value(churn_rate_out, profile["churn_rate"])
    print(f"stats: {src}: {profile['rows']} rows, churn rate {profile['churn_rate']:.4f} -> {out}")
    return profile


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.stats", description=__doc__.split("\n\n")[0])
    p.add_argument("--src", default="data/clean.csv", help="clean CSV (default: %(default)s)")
    p.add_argument("--out", default="metrics/stats.json", help="profile JSON (default: %(default)s)")
    p.add_argument("--churn-rate-out", help="write the churn rate (a float) to this file")
    return run_cli("stats", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
