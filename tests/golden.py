"""Golden files: expected output kept in the repository and compared byte for byte.

Use from a test (the `golden` fixture of conftest.py wraps these with the session's update flag):

    compare_file(GOLDEN / "invalid" / "empty.txt", actual_text, update)
    compare_tree(GOLDEN / "churn" / "airflow", {"dags/churn.py": code, ...}, update)
    check_golden_set(GOLDEN / "invalid", {"empty.txt", ...}, update)

Updating: `pytest --update-golden` (or UPDATE_GOLDEN=1) writes the actual output instead of
comparing, creates missing goldens and deletes orphans (golden files no test produces). Review the
result with `git diff golden/` before committing. In CI (env `CI` set and not 0/false) asking to
update is a usage error: CI compares, it never rewrites.

Comparison is on bytes: line endings, trailing whitespace and the final newline all count. Text is
encoded as UTF-8 without any newline translation.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Iterable, Mapping

import pytest

UPDATE_OPTION = "--update-golden"
UPDATE_ENV = "UPDATE_GOLDEN"
_FALSE = ("", "0", "false", "no", "off")

Content = bytes | str


# ----------------------------------------------------------------------------- the update flag


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in _FALSE


def running_in_ci(environ: Mapping[str, str] | None = None) -> bool:
    """CI systems set CI=true (GitHub Actions, GitLab, ...); CI=0 / CI=false mean not CI."""
    return _truthy((os.environ if environ is None else environ).get("CI"))


def update_requested(option: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to update: the command-line option, or UPDATE_GOLDEN set to a true value.

    Raises pytest.UsageError when an update is asked for in CI."""
    environ = os.environ if environ is None else environ
    update = bool(option) or _truthy(environ.get(UPDATE_ENV))
    if update and running_in_ci(environ):
        source = UPDATE_OPTION if option else f"{UPDATE_ENV}={environ.get(UPDATE_ENV)}"
        raise pytest.UsageError(
            f"{source} was given but CI={environ.get('CI')!r}: CI never rewrites golden files. "
            f"Run `pytest {UPDATE_OPTION}` locally, review `git diff golden/`, and commit the result."
        )
    return update


# ----------------------------------------------------------------------------- comparing


def _as_bytes(content: Content) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def describe_difference(expected: bytes, actual: bytes, name: str) -> str:
    """A unified diff of the two contents, and where they first differ when the diff cannot show it
    (line endings, a missing final newline, undecodable bytes)."""
    expected_text = expected.decode("utf-8", "backslashreplace")
    actual_text = actual.decode("utf-8", "backslashreplace")
    diff = "".join(
        difflib.unified_diff(
            expected_text.splitlines(keepends=True),
            actual_text.splitlines(keepends=True),
            fromfile=f"{name} (golden)",
            tofile=f"{name} (actual)",
        )
    )
    if diff and not diff.endswith("\n"):
        diff += "\n\\ No newline at end of file\n"
    index = next((i for i, (a, b) in enumerate(zip(expected, actual)) if a != b), min(len(expected), len(actual)))
    where = (
        f"first difference at byte {index}: golden {expected[index:index + 20]!r}, actual {actual[index:index + 20]!r} "
        f"(golden {len(expected)} bytes, actual {len(actual)} bytes)"
    )
    return f"{diff}{where}"


def _update_hint() -> str:
    return f"if the new output is right, run `pytest {UPDATE_OPTION}` and review `git diff golden/`"


def compare_file(expected_path: Path, actual: Content, update: bool) -> None:
    """Compare `actual` with the golden file byte for byte; with `update`, write it instead."""
    expected_path = Path(expected_path)
    actual_bytes = _as_bytes(actual)
    if update:
        if not expected_path.is_file() or expected_path.read_bytes() != actual_bytes:
            expected_path.parent.mkdir(parents=True, exist_ok=True)
            expected_path.write_bytes(actual_bytes)
        return
    name = _display(expected_path)
    if not expected_path.is_file():
        pytest.fail(f"missing golden file {name}; {_update_hint()}", pytrace=False)
    expected_bytes = expected_path.read_bytes()
    if expected_bytes != actual_bytes:
        pytest.fail(
            f"output differs from golden file {name}:\n{describe_difference(expected_bytes, actual_bytes, name)}\n"
            f"{_update_hint()}",
            pytrace=False,
        )


def golden_files(directory: Path, ignore: Iterable[str] = ()) -> set[str]:
    """Every file under `directory` as a '/'-separated relative path (`ignore` and git's own dotfiles,
    such as .gitattributes, left out; generated dot-directories like `.dagshift/` count)."""
    directory = Path(directory)
    if not directory.is_dir():
        return set()
    ignored = set(ignore)
    found = set()
    for path in directory.rglob("*"):
        relative = path.relative_to(directory).as_posix()
        if path.is_file() and relative not in ignored and not path.name.startswith(".git"):
            found.add(relative)
    return found


def _prune_empty_dirs(directory: Path) -> None:
    for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def check_golden_set(directory: Path, expected: Iterable[str], update: bool, *, ignore: Iterable[str] = ()) -> None:
    """The golden files under `directory` are exactly `expected` (relative paths).

    Orphans (golden files nothing produces) and missing goldens fail; with `update`, orphans are
    deleted and missing goldens are left for the comparing tests to write."""
    directory = Path(directory)
    expected = {Path(p).as_posix() for p in expected}
    present = golden_files(directory, ignore)
    orphans = sorted(present - expected)
    missing = sorted(expected - present)
    if update:
        for relative in orphans:
            (directory / relative).unlink()
        if directory.is_dir():
            _prune_empty_dirs(directory)
        return
    problems = []
    if orphans:
        problems.append("orphan golden files (no input produces them; delete them):\n" +
                        "\n".join(f"  {_display(directory / p)}" for p in orphans))
    if missing:
        problems.append("missing golden files:\n" + "\n".join(f"  {_display(directory / p)}" for p in missing))
    if problems:
        pytest.fail("\n".join(problems) + f"\n{_update_hint()}", pytrace=False)


def compare_tree(expected_dir: Path, actual_files: Mapping[str, Content], update: bool, *,
                 ignore: Iterable[str] = ()) -> None:
    """Compare a whole generated tree (relative path -> content) with a golden directory.

    Reports every problem at once: files that differ (with diffs), files the output has but the
    golden tree lacks, and golden files the output no longer produces. With `update`, the golden
    directory is made equal to the output (written, and orphans deleted)."""
    expected_dir = Path(expected_dir)
    actual = {Path(relative).as_posix(): _as_bytes(content) for relative, content in actual_files.items()}
    for relative in actual:
        if relative.startswith("/") or ".." in relative.split("/"):
            raise ValueError(f"golden paths are relative and stay inside the tree: {relative!r}")
    present = golden_files(expected_dir, ignore)
    if update:
        for relative, content in actual.items():
            compare_file(expected_dir / relative, content, update=True)
        check_golden_set(expected_dir, actual, update=True, ignore=ignore)
        return
    problems = []
    for relative in sorted(actual):
        path = expected_dir / relative
        if relative not in present:
            problems.append(f"missing golden file {_display(path)}")
            continue
        golden = path.read_bytes()
        if golden != actual[relative]:
            problems.append(f"{_display(path)} differs:\n{describe_difference(golden, actual[relative], relative)}")
    for relative in sorted(present - set(actual)):
        problems.append(f"orphan golden file {_display(expected_dir / relative)} (the output no longer has it)")
    if problems:
        pytest.fail(f"{len(problems)} golden problem(s) in {_display(expected_dir)}:\n\n" + "\n\n".join(problems)
                    + f"\n\n{_update_hint()}", pytrace=False)
