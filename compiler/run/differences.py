"""What two runs of one pipeline left differently: the files (byte for byte, with the first line
that differs) and the tasks' value outputs (values.py's canonical text)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SHOWN = 200  # characters of a differing line or value shown


@dataclass(frozen=True)
class Difference:
    kind: str  # "file" or "value"
    name: str  # the file's path in the working directory, or the value's TASK.OUTPUT
    detail: str  # what differs, in words
    line: int | None = None  # the first differing line (files)
    source: str | None = None  # that line, or the value, in the source's run (None: absent)
    converted: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_files(paths: set[str], source_root: Path, converted_root: Path) -> list[Difference]:
    """The differences among PATHS (relative) between the two working directories, by path."""
    found = []
    for path in sorted(paths):
        difference = _file_difference(path, _read(source_root / path), _read(converted_root / path))
        if difference is not None:
            found.append(difference)
    return found


def compare_values(source: dict[str, str], converted: dict[str, str]) -> list[Difference]:
    found = []
    for name in sorted(source.keys() | converted.keys()):
        mine, theirs = source.get(name), converted.get(name)
        if mine == theirs:
            continue
        if theirs is None:
            detail = "only the source's run produced it"
        elif mine is None:
            detail = "only the converted run produced it"
        else:
            detail = "the values differ"
        found.append(Difference("value", name, detail, None, _short(mine), _short(theirs)))
    return found


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _file_difference(path: str, mine: bytes | None, theirs: bytes | None) -> Difference | None:
    if mine == theirs:
        return None
    if theirs is None:
        return Difference("file", path, "only the source's run left it")
    if mine is None:
        return Difference("file", path, "only the converted run left it")
    mine_lines, their_lines = mine.split(b"\n"), theirs.split(b"\n")
    for number, (a, b) in enumerate(zip(mine_lines, their_lines), start=1):
        if a != b:
            return Difference("file", path, f"first differs at line {number}", number, _text(a), _text(b))
    number = min(len(mine_lines), len(their_lines)) + 1
    longer = "source's" if len(mine_lines) > len(their_lines) else "converted"
    return Difference("file", path, f"the {longer} file goes on after line {number - 1}", number,
                      _text(mine_lines[number - 1]) if len(mine_lines) >= number else None,
                      _text(their_lines[number - 1]) if len(their_lines) >= number else None)


def _text(line: bytes) -> str:
    return _short(line.decode("utf-8", errors="backslashreplace").rstrip("\r"))


def _short(text: str | None) -> str | None:
    if text is None or len(text) <= SHOWN:
        return text
    return text[:SHOWN] + "…"
