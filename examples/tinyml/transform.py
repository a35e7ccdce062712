"""Clean and split in one step: drop bad rows, then write a train and a test file.

python3 -m tinyml.transform --src data/raw.csv --train-out data/train.csv --test-out data/test.csv
"""

from __future__ import annotations

import argparse
import sys

from tinyml._common import COLUMNS, TaskError, as_float, as_int, read_csv, run_cli, write_csv
from tinyml.clean import clean_rows
from tinyml.split import split_rows


def main(
    src: str = "data/raw.csv",
    train_out: str = "data/train.csv",
    test_out: str = "data/test.csv",
    test_fraction=0.25,
    seed=0,
) -> dict:
    """Return {"dropped": n, "train": rows, "test": rows}."""
    header, raw = read_csv(src)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise TaskError(f"{src}: missing columns {missing}")
    kept, dropped = clean_rows(raw)
    train, test = split_rows(kept, as_float(test_fraction, "test_fraction"), as_int(seed, "seed"))
    write_csv(train_out, train, COLUMNS)
    write_csv(test_out, test, COLUMNS)
    print(
        f"transform: {src}: dropped {dropped} bad rows; "
        f"{train_out} ({len(train)} rows), {test_out} ({len(test)} rows)"
    )
    return {"dropped": dropped, "train": len(train), "test": len(test)}


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.transform", description=__doc__.split("\n\n")[0])
    p.add_argument("--src", default="data/raw.csv", help="raw CSV (default: %(default)s)")
    p.add_argument("--train-out", default="data/train.csv", help="default: %(default)s")
    p.add_argument("--test-out", default="data/test.csv", help="default: %(default)s")
    p.add_argument("--test-fraction", type=float, default=0.25, help="default: %(default)s")
    p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    return run_cli("transform", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
