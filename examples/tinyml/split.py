"""Split a clean CSV into a train and a test file (seeded shuffle; rows keep their order).

python3 -m tinyml.split --src data/clean.csv --train-out data/train.csv --test-out data/test.csv
"""

from __future__ import annotations

import argparse
import random
import sys

from tinyml._common import COLUMNS, TaskError, as_float, as_int, read_csv, run_cli, write_csv


def split_rows(rows: list, test_fraction: float, seed: int) -> tuple[list, list]:
    if not 0 < test_fraction < 1:
        raise TaskError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_test = max(1, round(len(rows) * test_fraction))
    test_idx = set(order[:n_test])
    train = [r for i, r in enumerate(rows) if i not in test_idx]
    test = [r for i, r in enumerate(rows) if i in test_idx]
    return train, test


def main(
    src: str = "data/clean.csv",
    train_out: str = "data/train.csv",
    test_out: str = "data/test.csv",
    test_fraction=0.25,
    seed=0,
) -> dict:
    """Write the two files; return {"train": rows, "test": rows}."""
    _, rows = read_csv(src)
    train, test = split_rows(rows, as_float(test_fraction, "test_fraction"), as_int(seed, "seed"))
    write_csv(train_out, train, COLUMNS)
    write_csv(test_out, test, COLUMNS)
    print(f"split: {src} -> {train_out} ({len(train)} rows), {test_out} ({len(test)} rows)")
    return {"train": len(train), "test": len(test)}


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.split", description=__doc__.split("\n\n")[0])
    p.add_argument("--src", default="data/clean.csv", help="clean CSV (default: %(default)s)")
    p.add_argument("--train-out", default="data/train.csv", help="default: %(default)s")
    p.add_argument("--test-out", default="data/test.csv", help="default: %(default)s")
    p.add_argument("--test-fraction", type=float, default=0.25, help="default: %(default)s")
    p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    return run_cli("split", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
