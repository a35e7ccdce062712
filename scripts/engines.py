#!/usr/bin/env python3
"""Create (or reuse) one virtual environment per engine, with pinned versions.

    python scripts/engines.py ensure airflow [prefect ...]   # prints NAME=PYTHON per engine
    python scripts/engines.py list

Each engine's pins are the requirements file scripts/engines/<name>.txt. Environments live in
the cache directory $DAGSHIFT_ENGINE_CACHE (default ~/.cache/dagshift/engines), keyed by a hash
of the pins and the Python version, so a changed pin builds a new one and an unchanged one is
reused. A half-built environment (no `.complete` marker) is rebuilt. Standard library only.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PINS = Path(__file__).resolve().parent / "engines"


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dagshift" / "engines"
    return Path(os.environ.get("DAGSHIFT_ENGINE_CACHE") or default)


def available() -> list[str]:
    return sorted(path.stem for path in PINS.glob("*.txt"))


def env_dir(name: str) -> Path:
    pins = (PINS / f"{name}.txt").read_bytes()
    key = hashlib.sha256(pins + sys.version.encode()).hexdigest()[:12]
    return cache_dir() / f"{name}-{key}"


def python_of(env: Path) -> Path:
    return env / "bin" / "python"


def ensure(name: str) -> Path:
    """The engine's Python, building its environment first when needed."""
    if name not in available():
        raise SystemExit(f"unknown engine {name!r}; known: {', '.join(available())}")
    env = env_dir(name)
    env.parent.mkdir(parents=True, exist_ok=True)
    with open(env.parent / f".{env.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be building the same one
        if (env / ".complete").is_file():
            return python_of(env)
        if env.exists():
            shutil.rmtree(env)
        started = time.monotonic()
        print(f"==> building the {name} engine environment in {env}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        pip = [str(python_of(env)), "-m", "pip", "--disable-pip-version-check", "--quiet"]
        subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", "-r", str(PINS / f"{name}.txt")], check=True)
        (env / ".complete").write_text(f"built in {time.monotonic() - started:.0f}s\n")
        print(f"==> {name} engine ready ({time.monotonic() - started:.0f}s)", file=sys.stderr, flush=True)
        return python_of(env)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("ensure", "list"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "list":
        for name in available():
            env = env_dir(name)
            state = "ready" if (env / ".complete").is_file() else "not built"
            print(f"{name}: {env} ({state})")
        return 0
    for name in argv[1:] or available():
        print(f"{name}={ensure(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
