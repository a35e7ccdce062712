"""Deploy a model: copy it into a target directory next to a small manifest.

`--fail true` simulates an outage of the target (the task fails every time), to demonstrate
fallback tasks.

    python3 -m tinyml.deploy --model models/model.json --target deployed
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys

from tinyml._common import TaskError, as_bool, ensure_parent, read_json, run_cli, write_json, write_value


def main(model: str = "models/model.json", target: str = "deployed", metrics=None, fail=False, path_out=None) -> str:
    """Write TARGET/model.json and TARGET/manifest.json; return the deployed model's path."""
    if as_bool(fail, "fail"):
        raise TaskError(f"cannot reach deployment target {target!r} (simulated outage: fail=true)")
    if not os.path.exists(model):
        raise TaskError(f"model file not found: {model}")
    read_json(model)  # refuse to deploy something that is not JSON
    with open(model, "rb") as f:
        blob = f.read()
    target = str(target).rstrip("/") or "."
    dest = f"{target}/model.json"
    manifest = {"model": dest, "source": model, "sha256": hashlib.sha256(blob).hexdigest()}
    if metrics:
        manifest["metrics"] = metrics
        manifest["accuracy"] = read_json(metrics).get("accuracy")
    ensure_parent(dest)
    with open(dest, "wb") as f:
        f.write(blob)
    write_json(f"{target}/manifest.json", manifest)
    print(f"deploy: {model} -> {dest} (sha256 {manifest['sha256'][:12]})")
    write_value(path_out, dest)
    return dest


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.deploy", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="models/model.json", help="model JSON (default: %(default)s)")
    p.add_argument("--target", default="deployed", help="directory to deploy into (default: %(default)s)")
    p.add_argument("--metrics", help="metrics JSON whose accuracy goes into the manifest")
    p.add_argument("--fail", default="false", help="true: fail on purpose, a simulated outage (default: false)")
    p.add_argument("--path-out", help="write the deployed model's path to this file")
    return run_cli("deploy", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
