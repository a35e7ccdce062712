"""The working directory a verified run gets: a copy of the user's, without what earlier runs left
for an engine's own use, and what the run changed in it.

What changed is every file created, changed or removed, minus engine bookkeeping (git's and
DVC's folders, dvc.lock and the .gitignore entries DVC adds, dagshift's .dagshift/ folder,
kfp.local's pipeline root, Python's caches): what the tasks themselves left.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

BOOKKEEPING_DIRS = frozenset({".git", ".dvc", ".dagshift", ".kfp-local", "__pycache__"})
BOOKKEEPING_FILES = frozenset({"dvc.lock", ".gitignore", ".dvcignore"})
# Not copied: another repository's state (a DVC side makes its own), earlier runs' logs and values.
NOT_COPIED_DIRS = frozenset({".git", ".dvc", ".kfp-local", "__pycache__"})
NOT_COPIED_UNDER_DAGSHIFT = frozenset({"runs", "outputs", "done", "verify"})

Snapshot = dict[str, str]  # relative POSIX path -> sha256 of its bytes


def copy_workdir(workdir: Path, destination: Path) -> None:
    def ignore(folder: str, names: list[str]) -> list[str]:
        here = Path(folder)
        skipped = [name for name in names if name in NOT_COPIED_DIRS or name == "dvc.lock"]
        if here.name == ".dagshift":
            skipped += [name for name in names if name in NOT_COPIED_UNDER_DAGSHIFT]
        return skipped

    shutil.copytree(workdir, destination, ignore=ignore, symlinks=True)


def snapshot(root: Path) -> Snapshot:
    """Every file under ROOT but bookkeeping, by the hash of its bytes."""
    found: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(name for name in dirs if name not in BOOKKEEPING_DIRS)
        for name in files:
            if name in BOOKKEEPING_FILES:
                continue
            path = Path(folder) / name
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:  # a dangling symlink, a socket: not a file a task left
                continue
            found[path.relative_to(root).as_posix()] = digest
    return found


def changed(before: Snapshot, after: Snapshot) -> set[str]:
    """Paths created, changed or removed between the two snapshots."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
