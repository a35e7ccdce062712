"""Cut a CSV into N shard files (round-robin) and report their paths, for a dynamic fan-out.

python3 -m tinyml.shard --src data/clean.csv --out-dir data/shards --shards 3 --paths-out paths.json
"""

from __future__ import annotations

import argparse
import sys

from tinyml._common import COLUMNS, TaskError, as_int, read_csv, run_cli, write_csv, write_value


def main(src: str = "data/clean.csv", out_dir: str = "data/shards", shards=3, paths_out=None) -> list:
    """Write out_dir/shard-0.csv ... shard-(N-1).csv; return the list of their paths."""
    n = as_int(shards, "shards")
    if n < 1:
        raise TaskError(f"shards must be at least 1, got {n}")
    _, rows = read_csv(src)
    paths = []
    for i in range(n):
        path = f"{out_dir.rstrip('/')}/shard-{i}.csv"
        write_csv(path, rows[i::n], COLUMNS)
        paths.append(path)
    print(f"shard: {src} ({len(rows)} rows) -> {n} shards in {out_dir}")
    write_value(paths_out, paths)
    return paths


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.shard", description=__doc__.split("\n\n")[0])
    p.add_argument("--src", default="data/clean.csv", help="CSV to cut (default: %(default)s)")
    p.add_argument("--out-dir", default="data/shards", help="default: %(default)s")
    p.add_argument("--shards", type=int, default=3, help="number of shards (default: %(default)s)")
    p.add_argument("--paths-out", help="write the JSON list of shard paths to this file")
    return run_cli("shard", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
