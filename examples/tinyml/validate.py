"""Check a clean CSV: exact columns, valid values, unique ids, enough rows, both classes.

Exits with status 1 and a message saying what is wrong when a check fails.

    python3 -m tinyml.validate --src data/clean.csv --min-rows 100
"""

from __future__ import annotations

import argparse
import sys

from tinyml._common import COLUMNS, TaskError, as_int, parse_row, read_csv, run_cli, write_json


def check(src: str, min_rows: int = 50) -> tuple[list[str], dict]:
    """Return (problems, summary) for the file `src`."""
    header, raw = read_csv(src)
    problems = []
    if header != COLUMNS:
        problems.append(f"columns are {header}, expected {COLUMNS}")
    seen, labels = set(), {0: 0, 1: 0}
    for line, row in enumerate(raw, start=2):
        try:
            typed = parse_row(row)
        except (KeyError, ValueError, TypeError) as e:
            problems.append(f"line {line}: {e}")
            continue
        if typed["customer_id"] in seen:
            problems.append(f"line {line}: duplicate customer_id {typed['customer_id']}")
        seen.add(typed["customer_id"])
        labels[typed["churned"]] += 1
    if len(raw) < min_rows:
        problems.append(f"only {len(raw)} rows, expected at least {min_rows}")
    if raw and (labels[0] == 0 or labels[1] == 0):
        problems.append(f"only one class present (churned=0: {labels[0]}, churned=1: {labels[1]})")
    summary = {"file": src, "rows": len(raw), "churned": labels[1], "retained": labels[0]}
    return problems, summary


def main(src: str = "data/clean.csv", min_rows=50, report_out=None) -> int:
    """Validate `src`; return its row count or raise TaskError listing the problems."""
    problems, summary = check(src, as_int(min_rows, "min_rows"))
    summary["ok"] = not problems
    summary["problems"] = problems[:20]
    if report_out:
        write_json(report_out, summary)
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise TaskError(
            f"{src} failed validation ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n  {shown}{more}"
        )
    print(f"validate: {src} ok ({summary['rows']} rows, {summary['churned']} churned)")
    return summary["rows"]


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.validate", description=__doc__.split("\n\n")[0])
    p.add_argument("--src", default="data/clean.csv", help="CSV to check (default: %(default)s)")
    p.add_argument("--min-rows", type=int, default=50, help="fewest rows accepted (default: %(default)s)")
    p.add_argument("--report-out", help="also write a JSON report to this file")
    return run_cli("validate", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
