"""The project config: which pipelines `dagshift compile` builds, to which targets, where.

Read from `dagshift.toml` (its top-level table) or `[tool.dagshift]` in `pyproject.toml`, in the
current directory or the nearest parent that has one; in one directory `dagshift.toml` wins.
Every path in it is relative to the config file's directory, never to the working directory.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Severity, SourceLoc

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

CONFIG_NAME = "dagshift.toml"
PYPROJECT_NAME = "pyproject.toml"
DOCS = "docs/ci.md"

# Keys a pipeline entry may have, and those that may also be set once for every pipeline.
_ENTRY_KEYS = ("file", "targets", "output", "options", "level", "strict", "unsupported", "select")
_DEFAULT_KEYS = ("targets", "output", "options", "level", "strict", "unsupported")
_TOP_KEYS = _DEFAULT_KEYS + ("pipelines",)


@dataclass(frozen=True)
class ConfigProblem:
    key: str  # dotted key path inside the config table, e.g. "pipelines[0].targets"
    message: str
    help: str


class ProjectConfigError(Exception):
    """The config could not be read; `problems` lists every one found, `path` the file."""

    def __init__(self, path: Path, problems: list[ConfigProblem]):
        super().__init__(path, problems)
        self.path = path
        self.problems = problems

    def render(self, shown: str | None = None) -> str:
        lines = []
        for problem in self.problems:
            where = f" {problem.key}:" if problem.key else ""
            lines.append(f"{shown or self.path}: error:{where} {problem.message}")
            lines.append(f"  help: {problem.help}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class PipelineEntry:
    file: Path  # absolute
    file_label: str  # as written in the config, relative to its directory (posix)
    targets: tuple[str, ...]
    per_target_dirs: bool  # several targets (or "all"): one subdirectory each, as `compile -t a,b`
    output: Path  # absolute
    output_label: str
    options: dict[str, str] = field(default_factory=dict)
    level: int = 1
    strict: tuple[str, ...] = ()  # targets for which a setting left out is an error (--strict)
    select: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectConfig:
    path: Path  # the config file
    root: Path  # its directory: every path in the config is relative to it
    pipelines: tuple[PipelineEntry, ...]


def find_config(start: Path) -> Path | None:
    """The nearest dagshift.toml, or pyproject.toml with [tool.dagshift], in `start` or a parent."""
    for directory in (start.resolve(), *start.resolve().parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
        candidate = directory / PYPROJECT_NAME
        if candidate.is_file() and _has_tool_table(candidate):
            return candidate
    return None


def _has_tool_table(pyproject: Path) -> bool:
    data = _read_toml(pyproject)
    return isinstance(data.get("tool"), dict) and "dagshift" in data["tool"]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectConfigError(path, [ConfigProblem("", f"invalid TOML: {exc}", "fix the syntax at that line")])
    except UnicodeDecodeError as exc:
        raise ProjectConfigError(path, [ConfigProblem(
            "", f"the file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
            "TOML files are UTF-8: save it as UTF-8, or pass the config to use with --config")])
    except OSError as exc:
        raise ProjectConfigError(path, [ConfigProblem("", f"cannot read the file: {exc.strerror}",
                                                      "check that it exists and is readable")])


def load_config(path: Path) -> ProjectConfig:
    """Read and validate one config file (dagshift.toml or pyproject.toml)."""
    path = path.resolve()
    data = _read_toml(path)
    prefix = ""
    if path.name == PYPROJECT_NAME:
        tool = data.get("tool")
        if not isinstance(tool, dict) or "dagshift" not in tool:
            raise ProjectConfigError(path, [ConfigProblem("", "there is no [tool.dagshift] table",
                                                          f"add one listing the pipelines to build ({DOCS})")])
        data, prefix = tool["dagshift"], "tool.dagshift."
    problems: list[ConfigProblem] = []
    entries = _Validator(path.parent, prefix, problems).config(data)
    if problems:  # defaults shared by several pipelines would repeat their problems
        raise ProjectConfigError(path, list(dict.fromkeys(problems)))
    return ProjectConfig(path=path, root=path.parent, pipelines=tuple(entries))


class _Validator:
    """Checks the table, collecting every problem rather than stopping at the first."""

    def __init__(self, root: Path, prefix: str, problems: list[ConfigProblem]):
        self.root, self.prefix, self.problems = root, prefix, problems
        self.defaults: dict[str, Any] = {}

    def problem(self, key: str, message: str, help: str) -> None:
        self.problems.append(ConfigProblem(self.prefix + key, message, help))

    def config(self, data: Any) -> list[PipelineEntry]:
        if not isinstance(data, dict):
            self.problem("", "expected a table", f"write it as [{self.prefix.rstrip('.') or 'table'}] ({DOCS})")
            return []
        self.unknown_keys(data, _TOP_KEYS, "")
        defaults = self.defaults = {key: data[key] for key in _DEFAULT_KEYS if key in data}
        pipelines = data.get("pipelines")
        if not isinstance(pipelines, list) or not pipelines:
            self.problem("pipelines", "no pipelines listed" if pipelines is None else "expected a non-empty array of tables",
                         f'add one: [[{self.prefix}pipelines]] with file = "pipeline.yaml", targets = ["airflow"], '
                         f'output = "dags" ({DOCS})')
            return []
        entries = []
        for index, item in enumerate(pipelines):
            key = f"pipelines[{index}]"
            if not isinstance(item, dict):
                self.problem(key, "expected a table", f"write each pipeline as a [[{self.prefix}pipelines]] table")
                continue
            self.unknown_keys(item, _ENTRY_KEYS, key + ".")
            entry = self.entry(key, {**defaults, **item}, item, defaults)
            if entry is not None:
                entries.append(entry)
        return entries

    def unknown_keys(self, table: dict, known: tuple[str, ...], key: str) -> None:
        for name in table:
            if name not in known:
                self.problem(key + name, f"unknown key '{name}'", f"known keys here: {', '.join(known)}")

    def where(self, key: str, name: str, item: dict) -> str:
        # a value inherited from the top-level defaults is reported where it was written
        return name if name not in item and name in self.defaults else f"{key}.{name}"

    def entry(self, key: str, merged: dict, item: dict, defaults: dict) -> PipelineEntry | None:
        before = len(self.problems)
        file = merged.get("file")
        if not isinstance(file, str) or not file.strip():
            self.problem(f"{key}.file", _what_is_wrong(file),
                         'give the pipeline file, relative to the config file: file = "pipelines/etl.yaml"')
        elif not (self.root / file).is_file():
            self.problem(f"{key}.file", f"no such file: {file} (relative to the config file's directory)",
                         "paths in the config are relative to the config file's directory")
        targets, per_target = self.targets(self.where(key, "targets", item), merged.get("targets"))
        output = merged.get("output")
        if not isinstance(output, str) or not output.strip():
            self.problem(self.where(key, "output", item), _what_is_wrong(output),
                         'give the output directory, relative to the config file: output = "build"')
        elif (self.root / output).exists() and not (self.root / output).is_dir():
            self.problem(self.where(key, "output", item), f"{output} is a file, not a directory",
                         "name a directory (it is created if missing)")
        options = self.options(key, item, defaults, targets)
        level = merged.get("level", 1)
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 2:
            self.problem(self.where(key, "level", item), f"expected 0, 1 or 2, got {level!r}",
                         "the optimization level, as -O of `dagshift compile`")
        strict = self.strict(key, item, targets)
        select = merged.get("select", [])
        if not isinstance(select, list) or not all(isinstance(name, str) for name in select):
            self.problem(f"{key}.select", "expected an array of task ids", 'select = ["train"]')
        if len(self.problems) > before:
            return None
        return PipelineEntry(
            file=(self.root / file).resolve(), file_label=_label(file), targets=targets, per_target_dirs=per_target,
            output=(self.root / output).resolve(), output_label=_label(output), options=options, level=level,
            strict=strict, select=tuple(select))

    def strict(self, key: str, item: dict, targets: tuple[str, ...]) -> tuple[str, ...]:
        """The pipeline's strict targets: its own `strict` (or the old `unsupported`), else the default's."""
        for table, prefix in ((item, f"{key}."), (self.defaults, "")):
            if "strict" in table and "unsupported" in table:
                self.problem(f"{prefix}unsupported", "both strict and unsupported are set",
                             "keep strict: unsupported is its old spelling (\"error\" is strict = true)")
            if "strict" in table:
                return self.strict_targets(f"{prefix}strict", table["strict"], targets)
            if "unsupported" in table:
                value = table["unsupported"]
                if value not in ("error", "warn"):
                    self.problem(f"{prefix}unsupported", f"expected \"error\" or \"warn\", got {value!r}",
                                 "better: strict = true (what \"error\" meant) or leave it out (\"warn\")")
                return targets if value == "error" else ()
        return ()

    def strict_targets(self, key: str, value: Any, targets: tuple[str, ...]) -> tuple[str, ...]:
        from .backends import registry

        help = ('true (every target), false, or the targets to be strict for: strict = ["dvc"]; strict makes a '
                "setting the target leaves out an error, as --strict of `dagshift compile`")
        if isinstance(value, bool):
            return targets if value else ()
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            self.problem(key, f"expected true, false or an array of target names, got {value!r}", help)
            return ()
        unknown = [name for name in value if name not in registry.names()]
        if unknown:
            self.problem(key, f"unknown target {', '.join(map(repr, unknown))}", help)
        return tuple(name for name in targets if name in value)

    def targets(self, key: str, value: Any) -> tuple[tuple[str, ...], bool]:
        from .backends import registry

        available = registry.names()
        help = f'a list of targets, or "all": choose from {", ".join(available)}'
        if value == "all":
            return tuple(available), True
        if value is None:
            self.problem(key, "missing", help)
            return (), False
        if not isinstance(value, list) or not value or not all(isinstance(name, str) for name in value):
            self.problem(key, f"expected a non-empty array of target names or \"all\", got {value!r}", help)
            return (), False
        unknown = [name for name in value if name not in available]
        if unknown:
            self.problem(key, f"unknown target {', '.join(map(repr, unknown))}", help)
            return (), False
        targets = tuple(dict.fromkeys(value))
        return targets, len(targets) > 1

    def options(self, key: str, item: dict, defaults: dict, targets: tuple[str, ...]) -> dict[str, str]:
        from .backends import registry

        everywhere = {name for target in registry.names() for name in registry.get(target).option_help}
        known = {name: help for target in targets for name, help in registry.get(target).option_help.items()}
        choices = ", ".join(f"{k} ({v})" for k, v in known.items()) or "none for these targets"
        combined: dict[str, str] = {}
        # Defaults apply to the pipelines whose targets know them; an entry's own options must fit its targets.
        for where, table, strict in (("options", defaults.get("options", {}), False),
                                     (f"{key}.options", item.get("options", {}), True)):
            if not isinstance(table, dict):
                self.problem(where, "expected a table", 'options = {container = "docker"}')
                continue
            for name, value in table.items():
                if not isinstance(value, str):
                    self.problem(f"{where}.{name}", f"expected a string, got {value!r}", f'write it as {name} = "{value}"')
                elif name not in everywhere or (strict and targets and name not in known):
                    self.problem(f"{where}.{name}", f"unknown option '{name}'", f"known: {choices}")
                elif name in known:
                    combined[name] = value
        return combined

def _what_is_wrong(value: Any) -> str:
    return "missing" if value is None else "empty" if isinstance(value, str) else f"expected a string, got {value!r}"


def _label(relative: str) -> str:
    return posixpath.normpath(relative.replace("\\", "/"))


CONFIG_ERROR_CODE = "E701"
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def config_diagnostics(error: ProjectConfigError, shown: str) -> list[Diagnostic]:
    """The problems as diagnostics (for every --format), each at the line of its key when it can be
    found in the text (tomllib keeps no positions: this is a scan for `key =` in the right table)."""
    try:
        lines = error.path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    diagnostics = []
    for problem in error.problems:
        position = _TOML_POSITION.search(problem.message)
        line, col = (int(position[1]), int(position[2])) if position else _locate(lines, problem.key)
        source_line = lines[line - 1] if 0 < line <= len(lines) else None
        diagnostics.append(Diagnostic(CONFIG_ERROR_CODE, Severity.ERROR, problem.message,
                                      SourceLoc(shown, line, col), _yaml_path(problem.key), problem.help, source_line))
    return sorted(diagnostics, key=lambda diagnostic: (diagnostic.loc.line, diagnostic.loc.col))


def _yaml_path(key: str) -> tuple:
    # format_path renders ("pipelines", 0, "targets") as pipelines[0].targets
    parts: list = []
    for piece in filter(None, key.split(".")):
        name, _, index = piece.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index.rstrip("]")))
    return tuple(parts)


def _locate(lines: list[str], key: str) -> tuple[int, int]:
    parts = key.split(".")
    in_tool = parts[:2] == ["tool", "dagshift"]
    parts = parts[2:] if in_tool else parts
    if not parts or not parts[0]:
        return 1, 1
    headers = [(number, text.strip()) for number, text in enumerate(lines, 1) if text.strip().startswith("[")]
    table = r"tool\.dagshift" if in_tool else ""
    first, _, index = parts[0].partition("[")
    if index:  # pipelines[N]: the N-th [[...pipelines]] header
        dotted = table + r"\." if table else ""
        pattern = re.compile(rf"^\[\[\s*{dotted}pipelines\s*\]\]")
        starts = [number for number, text in headers if pattern.match(text)]
        nth = int(index.rstrip("]"))
        if nth >= len(starts):
            return _find_key(lines, 0, len(lines), "pipelines") or (1, 1)
        start, name = starts[nth], (parts[1].partition("[")[0] if len(parts) > 1 else "")
    else:
        own = [number for number, text in headers if re.match(rf"^\[\s*{table}\s*\]", text)] if table else [0]
        start, name = (own[0] if own else 0), first
    end = next((number - 1 for number, _ in headers if number > start), len(lines))
    return (_find_key(lines, start, end, name) if name else None) or (max(start, 1), 1)


def _find_key(lines: list[str], start: int, end: int, name: str) -> tuple[int, int] | None:
    pattern = re.compile(rf"^(\s*)[\"']?{re.escape(name)}[\"']?\s*=")
    for number in range(start + 1, end + 1):
        match = pattern.match(lines[number - 1])
        if match:
            return number, len(match[1]) + 1
    return None
