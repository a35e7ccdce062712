"""Append one line to an alerts file (a stand-in for Slack, e-mail or a pager).

python3 -m tinyml.notify --file state/alerts.log --message "training failed"
"""

from __future__ import annotations

import argparse
import sys

from tinyml._common import ensure_parent, run_cli


def main(message: str = "alert", file: str = "state/alerts.log") -> str:
    """Append `message` (one line) to `file`; return the line."""
    line = " ".join(str(message).split())
    ensure_parent(file)
    with open(file, "a", newline="\n", encoding="utf-8") as f:
        f.write(line + "\n")
    print(f"notify: {file}: {line}")
    return line


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.notify", description=__doc__.split("\n\n")[0])
    p.add_argument("--message", "-m", default="alert", help="the line to append (default: %(default)s)")
    p.add_argument("--file", default="state/alerts.log", help="alerts file (default: %(default)s)")
    return run_cli("notify", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
