"""Generate a small synthetic customer-churn CSV (seeded, so always the same bytes).

About 3% of the rows are deliberately broken (missing or impossible values) so that
``tinyml.clean`` has something to do.

    python3 -m tinyml.ingest --out data/raw.csv --rows 400 --seed 42
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys

from tinyml._common import COLUMNS, as_bool, as_int, read_csv, run_cli, write_csv, write_value

CONTRACT_EFFECT = {"month": 1.0, "one_year": -0.6, "two_year": -1.8}


def make_rows(rows: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(rows):
        tenure = rng.randint(0, 72)
        r = rng.random()
        contract = "month" if r < 0.5 else ("one_year" if r < 0.8 else "two_year")
        charges = round(20 + 100 * rng.random(), 2)
        calls = min(9, int(10 * rng.random() * rng.random()))
        z = 0.3 - 0.07 * tenure + 0.03 * (charges - 70) + 0.55 * calls + CONTRACT_EFFECT[contract]
        churned = 1 if rng.random() < 1 / (1 + math.exp(-z)) else 0
        row = {
            "customer_id": f"C{i + 1:05d}",
            "tenure_months": str(tenure),
            "monthly_charges": f"{charges:.2f}",
            "support_calls": str(calls),
            "contract": contract,
            "churned": str(churned),
        }
        broken, kind = rng.random() < 0.03, rng.randint(0, 2)
        if broken:
            if kind == 0:
                row["monthly_charges"] = ""
            elif kind == 1:
                row["tenure_months"] = "-1"
            else:
                row["support_calls"] = "n/a"
        out.append(row)
    return out


def main(out: str = "data/raw.csv", rows=400, seed=42, if_missing=False, rows_out=None) -> int:
    """Write `rows` synthetic rows to `out`; return the number of rows in `out`.

    With if_missing=True an existing file is left alone (used when a batch normally arrives
    from outside and the example only needs a sample one).
    """
    rows, seed = as_int(rows, "rows"), as_int(seed, "seed")
    if as_bool(if_missing, "if_missing") and os.path.exists(out):
        n = len(read_csv(out)[1])
        print(f"ingest: {out} already exists ({n} rows), leaving it")
    else:
        data = make_rows(rows, seed)
        write_csv(out, data, COLUMNS)
        n = len(data)
        print(f"ingest: wrote {n} rows to {out} (seed {seed})")
    write_value(rows_out, n)
    return n


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.ingest", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="data/raw.csv", help="CSV file to write (default: %(default)s)")
    p.add_argument("--rows", type=int, default=400, help="number of customers (default: %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default: %(default)s)")
    p.add_argument("--if-missing", action="store_true", help="keep an existing file untouched")
    p.add_argument("--rows-out", help="also write the row count to this file (a task output)")
    return run_cli("ingest", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
