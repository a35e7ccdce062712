"""Drop rows with missing or impossible values (and duplicate customer ids).

python3 -m tinyml.clean --src data/raw.csv --dst data/clean.csv
"""

from __future__ import annotations

import argparse
import sys

from tinyml._common import COLUMNS, TaskError, parse_row, read_csv, run_cli, write_csv, write_value


def clean_rows(raw: list[dict[str, str]]) -> tuple[list[dict[str, str]], int]:
    """Return (the valid rows, unchanged as text, in their original order; how many were dropped)."""
    kept, seen = [], set()
    for row in raw:
        try:
            parse_row(row)
        except (KeyError, ValueError, TypeError):
            continue
        if row["customer_id"] in seen:
            continue
        seen.add(row["customer_id"])
        kept.append(row)
    return kept, len(raw) - len(kept)


def main(src: str = "data/raw.csv", dst: str = "data/clean.csv", rows_out=None) -> int:
    """Clean `src` into `dst`; return the number of rows kept."""
    header, raw = read_csv(src)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise TaskError(f"{src}: missing columns {missing}")
    kept, dropped = clean_rows(raw)
    write_csv(dst, kept, COLUMNS)
    print(f"clean: kept {len(kept)} of {len(raw)} rows from {src} (dropped {dropped}) -> {dst}")
    write_value(rows_out, len(kept))
    return len(kept)


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.clean", description=__doc__.split("\n\n")[0])
    p.add_argument("--src", default="data/raw.csv", help="raw CSV (default: %(default)s)")
    p.add_argument("--dst", default="data/clean.csv", help="clean CSV to write (default: %(default)s)")
    p.add_argument("--rows-out", help="also write the number of kept rows to this file")
    return run_cli("clean", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
