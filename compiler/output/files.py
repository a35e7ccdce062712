"""Writing generated files: all of them or none, never a half-written file where a tool reads.

1. Every destination is checked before anything is created: a directory where a file goes, a
   file or a dangling symbolic link where a directory goes, a directory that cannot be written,
   and a file that holds what dagshift did not write (user_content): a file without dagshift's
   header, a params.yaml with keys the pipeline does not have, a prefect.yaml with other
   deployments. Nothing of the user's is replaced.
2. Each file is written beside its destination under a hidden temporary name that no tool
   collects (`.p.py.<pid>.dagshift-tmp`: not `*.py`, so Airflow's DAG discovery skips it).
   A failure, or SIGTERM, removes what was staged and leaves every destination as it was.
3. Then each file is renamed over its destination (atomic per file).

A run killed with SIGKILL cannot clean up: its temporary files are removed by the next run that
writes there, and `dagshift compile --check` reports them.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TEMP_SUFFIX = ".dagshift-tmp"
# The first lines of every file dagshift writes say this (the files under .dagshift/ excepted:
# that folder is dagshift's). A params.yaml without it may be a user's: only its keys are checked.
OWN_MARK = re.compile(r"(generated|Imported) by dagshift")
_HEADER_LINES = 5
_LARGEST_READ = 64 * 1024 * 1024


@dataclass
class OutputError(Exception):
    """A destination that cannot be written; nothing was written."""

    path: Path
    reason: str
    help: str

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


class OutputErrors(Exception):
    """Every destination that cannot be written (checked before the first write); nothing was written."""

    def __init__(self, problems: list[OutputError]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def write_outputs(outputs: Mapping[Path, Mapping[str, str]]) -> list[Path]:
    """Write {output directory: {relative path: text}}; returns the written paths, in order."""
    destinations = [(Path(outdir) / relative, text) for outdir, files in outputs.items()
                    for relative, text in files.items()]
    problems = [problem for destination, text in destinations if (problem := _problem(destination, text))]
    if problems:
        raise OutputErrors(problems)
    created: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        with _sigterm_as_exit():
            for destination, text in destinations:
                created += _make_directories(destination.parent)
                temporary = destination.parent / f".{destination.name}.{os.getpid()}{TEMP_SUFFIX}"
                staged.append((temporary, destination))
                with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
                    handle.write(text)
            for temporary, destination in staged:
                os.replace(temporary, destination)
    except OSError as exc:
        _remove(temporary for temporary, _ in staged)
        _remove_empty(reversed(created))
        failed = Path(exc.filename) if exc.filename else destinations[0][0]
        raise OutputErrors([OutputError(failed, exc.strerror or str(exc), _help_for(exc))]) from None
    except BaseException:  # SIGTERM, Ctrl-C: no temporary file stays behind
        _remove(temporary for temporary, _ in staged)
        raise
    for directory in dict.fromkeys(destination.parent for destination, _ in destinations):
        _remove(leftovers(directory))
    return [destination for destination, _ in destinations]


def leftovers(directory: Path) -> list[Path]:
    """Temporary files of runs that were killed while writing into `directory`."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob(f".*{TEMP_SUFFIX}")):
        pid = path.name[: -len(TEMP_SUFFIX)].rsplit(".", 1)[-1]
        if not (pid.isdigit() and _alive(int(pid))):
            found.append(path)
    return found


def _problem(destination: Path, text: str) -> OutputError | None:
    try:
        _check_destination(destination)
    except OutputError as problem:
        return problem
    foreign = user_content(destination, text)
    if foreign:
        return OutputError(destination, foreign, "move the file away, or compile into another directory with -o: "
                                                 "dagshift never replaces what it did not write")
    return None


def user_content(destination: Path, text: str) -> str | None:
    """Why writing `text` to `destination` would lose what someone else wrote there, or None."""
    if not destination.is_file() or ".dagshift" in destination.parts[:-1]:
        return None
    try:
        with open(destination, "rb") as handle:
            old = handle.read(_LARGEST_READ).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return "it is not a text file dagshift wrote"
    if old == text:
        return None
    ours = any(OWN_MARK.search(line) for line in old.splitlines()[:_HEADER_LINES])
    if destination.name == "params.yaml" and not ours:
        # JSON, so no header: it is dagshift's when the dvc.yaml beside it is, else only its keys are
        return None if _has_own_mark(destination.with_name("dvc.yaml")) else _extra_keys(old, text)
    if not ours:
        return "it was not written by dagshift (it has no dagshift header)"
    if destination.name == "prefect.yaml":
        return _other_deployments(old, text)
    return None


def _has_own_mark(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return any(OWN_MARK.search(handle.readline()) for _ in range(_HEADER_LINES))
    except OSError:
        return False


def _extra_keys(old: str, new: str) -> str | None:
    """params.yaml: dagshift owns the pipeline's params; other keys are someone else's."""
    before, after = _yaml_mapping(old), _yaml_mapping(new)
    if before is None:
        return "it is not a YAML mapping of params"
    extra = sorted(str(key) for key in before if key not in (after or {}))
    return f"it holds params the pipeline does not have: {', '.join(extra[:5])}" if extra else None


def _other_deployments(old: str, new: str) -> str | None:
    """prefect.yaml: dagshift owns its one deployment; others, and other sections, were added."""
    before, after = _yaml_mapping(old), _yaml_mapping(new) or {}
    if before is None:
        return "it is not the prefect.yaml dagshift wrote"
    ours = {d.get("name") for d in after.get("deployments", []) if isinstance(d, dict)}
    theirs = [str(d.get("name")) for d in before.get("deployments") or [] if isinstance(d, dict)
              and d.get("name") not in ours]
    sections = sorted(str(key) for key in before if key not in after)
    if theirs:
        return f"it holds deployments dagshift did not write: {', '.join(theirs[:5])}"
    if sections:
        return f"it holds sections dagshift did not write: {', '.join(sections[:5])}"
    return None


def _yaml_mapping(text: str) -> dict | None:
    from ruamel.yaml import YAML, YAMLError

    try:
        data = YAML(typ="safe", pure=True).load(text)
    except (YAMLError, ValueError):
        return None
    return data if isinstance(data, dict) else ({} if data is None else None)


def _check_destination(destination: Path) -> None:
    if destination.is_dir():
        raise OutputError(destination, "it is a directory", "remove or rename the directory, or choose another -o")
    for ancestor in reversed(destination.parents):
        if ancestor.is_symlink() and not ancestor.exists():
            raise OutputError(ancestor, f"it is a symbolic link to {os.readlink(ancestor)}, which does not exist",
                              "create the directory it points to, or choose another -o")
        if ancestor.exists() and not ancestor.is_dir():
            raise OutputError(ancestor, "it is a file, not a directory", "choose another -o")
        if not ancestor.exists():
            parent = ancestor.parent
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(ancestor, f"{parent} is not writable", "choose a directory you can write to")
            return
    if destination.parent.exists() and not os.access(destination.parent, os.W_OK | os.X_OK):
        raise OutputError(destination, f"{destination.parent} is not writable", "choose a directory you can write to")


def _make_directories(directory: Path) -> list[Path]:
    """Create `directory` and its missing parents; returns those created, outermost first."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()][::-1]
    for path in missing:
        path.mkdir()
    return missing


def _help_for(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "choose a directory you can write to"
    if exc.errno in (30,):  # EROFS
        return "the file system is read-only: choose another -o"
    return "choose another output directory with -o"


def _remove(paths) -> None:
    for path in paths:
        try:
            path.unlink()
        except OSError:
            pass


def _remove_empty(directories) -> None:
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM ends the process the way Ctrl-C does, so the cleanup above runs first."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
