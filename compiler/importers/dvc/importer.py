"""DVC importer: a `dvc.yaml` (with its `params.yaml` and the vars files it names) read back into
dagshift's pipeline syntax.

DVC's own rules are followed (dvc/parsing in DVC 3): `params.yaml` beside dvc.yaml and the `vars`
files and mappings make the context; `${}` is resolved in every string of a stage (a whole-string
`${x}` keeps its type, a dict inside `cmd` unpacks to `--key value` options, `\\${` is a literal
`${`); `foreach` (list, dict, list of dicts) and `matrix` make one stage per item, named
`stage@key`. Every stage becomes a task; the graph comes from outs -> deps exactly as DVC builds
it (a dep equal to, inside or above another stage's out).

What a task keeps:
- `cmd` as the command (a list of commands runs as `( c1 ) && ( c2 )`: one shell each, stop at the
  first failure, as DVC does); a scalar a `${}` reads from params/vars becomes a pipeline param
  (`${train.lr}` -> `${{ params.train_lr }}`), so its value can still be changed;
- deps and outs as artifacts (metrics / plots by kind), deps no stage writes as external ones;
- `desc` as the description, a common `wdir` as the pipeline's workdir (another as `cd WDIR &&`).
A lone dvc.yaml (copied without its params.yaml, or a vars file missing): a `${}` nothing defines
that such a file could is a required param in `cmd` (W601 where it is first used, naming the file);
in a description it stays as written; where it decides the stages or the graph (foreach, matrix,
paths, wdir, frozen) the file is manual, as it is for DVC.
Lost, each reported at its line: output options (cache, persist, push, remote, type, labels,
meta), params a script reads itself (DVC's change tracking), `frozen` (the task does nothing),
top-level metrics / plots / params / artifacts / datasets, a stage's `meta`.

dagshift's own DVC output (compiler/backends/dvc/backend.py) is recognized: a python stage's
`python3 -c '...'` line (dvc_python.py; its module's file is no input), a shell command wrapped
as `bash -c '...'`, the runner `.dagshift/run.py TASK DIGEST` with its spec in `.dagshift/tasks.json`
(text params, upstream values, containers, env; python tasks too, as earlier versions wrote
them; and `.dagshift/run.py TASK` with `.dagshift/tasks/TASK.json`, as versions before that wrote
it), value outputs under `.dagshift/outputs/`, and sentinels `.dagshift/done/TASK` (order-only
edges), so a compiled pipeline imports back as itself, minus `not_carried`.
"""

from __future__ import annotations

import itertools
import json
import keyword
import math
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from compiler.backends.dvc import shell as dvc_shell
from compiler.backends.dvc.backend import spec_digest
from compiler.backends.dvc.conventions import (
    ARGS_SUFFIX,
    BASH_COMMAND,
    DAGSHIFT_DIR,
    DONE_DIR,
    HEADER_TITLE,
    OUTPUTS_DIR,
    RUNNER,
    SPEC_KEY,
    TASKS_FILE,
)
from compiler.importers import Importer
from compiler.importers.base import Imported, Reporter, line_of, plain, yaml_documents
from compiler.importers.limits import expansion_problem
from compiler.importers.normalize import artifacts_named_by_path
from compiler.importers.yaml_read import read_yaml
from compiler.language.ir import Pipeline

from . import python as dvc_python

# `# <HEADER_TITLE>`, the pipeline's name in it
_HEADER = re.compile("^# " + r"([A-Za-z][A-Za-z0-9_-]*)".join(map(re.escape, HEADER_TITLE.split("{name}"))),
                     re.MULTILINE)
_STAGE_KEYS = {"cmd", "wdir", "deps", "params", "outs", "metrics", "plots", "frozen", "always_changed", "desc",
               "meta", "vars"}
_TOP_KEYS = {"vars", "stages", "params", "metrics", "plots", "artifacts", "datasets"}
_OUT_OPTIONS = {"cache", "persist", "remote", "push", "desc", "type", "labels", "meta", "checkpoint"}
_PLOT_OPTIONS = {"x", "y", "template", "title", "x_label", "y_label", "header"}
# DVC's `${...}`: not after a backslash, shortest match up to the first `}`
_INTERPOLATION = re.compile(r"(?<!\\)\$\{(?P<inner>.*?)\}")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_DAGSHIFT = f"{DAGSHIFT_DIR}/"
NO_STAGES = "no_stages"  # the one task of a pipeline read from a dvc.yaml without stages
_DONE_CMD = re.compile(r"^mkdir -p \S+ && echo done > \S+$")
# DIGEST: the hash of the task's spec in .dagshift/tasks.json; without it (earlier versions), the
# spec is .dagshift/tasks/TASK.json.
_RUNNER_CMD = re.compile(rf"^python3 (\S*{re.escape(RUNNER)}) ([A-Za-z][A-Za-z0-9_-]*)(?: ([0-9a-f]{{12}}))?$")
_RESOLVED_PLACEHOLDER = re.compile(r"\$\{\{ [^{}]*? \}\}")  # what the resolver makes of `${x}`
_PREPARE_CMD = re.compile(rf"^mkdir -p \S*{re.escape(OUTPUTS_DIR)}/[A-Za-z0-9_-]+$")


class DvcError(Exception):
    """Something DVC itself refuses: the file is graded manual with this reason."""

    def __init__(self, message: str, line: int | None = None, code: str = "E602"):
        super().__init__(message)
        self.line = line
        self.code = code


class Unresolved(DvcError):
    """A `${}` that nothing in the context defines."""

    def __init__(self, expression: str, line: int | None):
        super().__init__(f"could not find '{expression}' in params.yaml or vars", line)
        self.expression = expression


@dataclass(frozen=True)
class AbsentSource:
    """A file DVC would read values from that is not there: the params.yaml of a lone dvc.yaml, or a
    vars file that was not copied with it. A `${}` nothing else defines may come from it."""

    where: str  # as the user finds it: "params.yaml next to dvc.yaml", "'conf/a.yaml' (in `vars`)"
    keys: tuple[str, ...] | None = None  # `file.yaml:a,b` reads only these keys from it
    line: int | None = None  # the vars entry naming it

    def could_define(self, head: str) -> bool:
        return self.keys is None or head in self.keys


# ----------------------------------------------------------------------------- the context (vars)


class Context:
    """DVC's interpolation context: params.yaml, then `vars` files and mappings, merged without
    redefinition (DVC refuses a key defined twice)."""

    def __init__(self, base: Path):
        self.base = base
        self.data: dict[str, Any] = {}
        self.imported: dict[str, list[str] | None] = {}
        self.from_files: set[str] = set()  # top-level keys that came from files (params)
        self.absent: list[AbsentSource] = []  # files this context would have read values from
        # every vars file found missing, by path and line: shared by the copies (a foreach stage's
        # vars are read once per item)
        self.missing_vars: dict[tuple[str, int | None], AbsentSource] = {}

    def copy(self) -> Context:
        clone = Context(self.base)
        clone.data = json.loads(json.dumps(self.data))
        clone.imported = {k: (list(v) if v is not None else None) for k, v in self.imported.items()}
        clone.from_files = set(self.from_files)
        clone.absent = list(self.absent)
        clone.missing_vars = self.missing_vars
        return clone

    def load_default(self, wdir: str) -> None:
        path = self.base / wdir / "params.yaml"
        if path.is_file():
            self.load_file("params.yaml", wdir)
        else:  # DVC reads it only when it is there: a lone dvc.yaml was copied without it
            self.absent.append(AbsentSource("params.yaml next to dvc.yaml"))

    def load_vars(self, entries: Any, wdir: str, where: str, line: int | None) -> None:
        if entries is None:
            return
        if not isinstance(entries, list):
            raise DvcError(f"'{where}' must be a list of files and mappings", line)
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                if _INTERPOLATION.search(entry):
                    raise DvcError(f"'{where}': interpolating is not allowed", line)
                self.load_file(entry, wdir, line_of(entries, index) or line, where)
            elif isinstance(entry, dict):
                self.merge(plain(entry), f"{where} mapping", line, from_file=False)
            else:
                raise DvcError(f"'{where}' entries must be file names or mappings", line)

    def load_file(self, item: str, wdir: str, line: int | None = None, where: str = "vars") -> None:
        name, _, keys_text = item.partition(":")
        relative = posixpath.normpath(posixpath.join(wdir, name))
        keys = [k for k in keys_text.split(",") if k] or None
        if not (self.base / relative).is_file():
            # DVC refuses it; a copy of dvc.yaml often comes without the files beside it
            absent = AbsentSource(f"'{relative}' (in `{where}`)", tuple(keys) if keys else None, line)
            if absent not in self.absent:
                self.absent.append(absent)
            self.missing_vars.setdefault((relative, line), absent)
            return
        if relative in self.imported:
            previous = self.imported[relative]
            if keys is None and previous is None:
                return  # the same whole file twice is allowed
            if keys is None or previous is None or set(keys) & set(previous):
                raise DvcError(f"cannot load '{item}': it is (partially) loaded already", line)
        data = _read_values_file(self.base / relative, relative, line)
        if keys:
            missing = [k for k in keys if k not in data]
            if missing:
                raise DvcError(f"could not find '{missing[0]}' in '{relative}'", line)
            data = {k: data[k] for k in keys}
        self.merge(data, relative, line, from_file=True)
        self.imported.setdefault(relative, None if keys is None else [])
        if keys is not None:
            self.imported[relative] = (self.imported[relative] or []) + keys

    def merge(self, data: dict, source: str, line: int | None, *, from_file: bool) -> None:
        _merge(self.data, data, source, line)
        if from_file:
            self.from_files.update(data)

    def select(self, expression: str, line: int | None) -> Any:
        """`a.b[0].c` as DVC looks it up (brackets are dots; list indexes are numbers)."""
        parts = expression.strip().replace("[", ".").replace("]", "").split(".")
        value: Any = self.data
        for part in parts:
            part = part.strip()
            try:
                value = value[int(part)] if isinstance(value, list) else value[part]
            except (KeyError, ValueError, IndexError, TypeError):
                raise Unresolved(expression.strip(), line) from None
        return value

    def absent_sources(self, head: str) -> list[AbsentSource]:
        """The absent files a top-level key `head` could have come from."""
        return [source for source in self.absent if source.could_define(head)]


def _merge(into: dict, update: dict, source: str, line: int | None) -> None:
    for key, value in update.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            _merge(into[key], value, source, line)
        elif key in into:
            raise DvcError(f"cannot redefine '{key}' from '{source}': it is already defined", line)
        else:
            into[key] = json.loads(json.dumps(value, default=str))


def _read_values_file(path: Path, relative: str, line: int | None) -> dict:
    """A params / vars file as DVC reads it (YAML, JSON or TOML)."""
    if not path.is_file():
        raise DvcError(f"'{relative}' does not exist (DVC needs it to resolve the file)", line)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml", ".json", ""):
            documents = yaml_documents(text)
            data = plain(documents[0]) if documents else {}
        else:
            raise DvcError(f"'{relative}': dagshift reads YAML, JSON and TOML params files, not "
                           f"'{path.suffix}'", line)
    except DvcError:
        raise
    # A parse error of a user file is a reason, not a crash; ruamel raises more than YAMLError on bad
    # input (IndexError on '-_', ValueError on '._').
    except Exception as error:  # noqa: BLE001
        raise DvcError(f"cannot read '{relative}': {type(error).__name__}: {error}", line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DvcError(f"expected a mapping in '{relative}', got {type(data).__name__}", line)
    return data


# ----------------------------------------------------------------------------- interpolation


# Where a `${}` with no value (its file absent) cannot stand: what the value decides there
_DECIDED_BY_VALUE = {
    "foreach": "the stages DVC makes of a foreach depend on it",
    "matrix": "the stages DVC makes of a matrix depend on it",
    "wdir": "the stage's paths are relative to its wdir",
    "frozen": "whether the stage runs depends on it",
}
# Where it can stay as written: text that is reported or described, never run
_REPORTED_ONLY = {"desc": "the description", "params": "the tracked params", "options": "an output's options"}


@dataclass
class Resolver:
    """Resolves `${}` in one stage. In `cmd`, a scalar read from params/vars becomes a pipeline
    param placeholder (so a changed value still reaches the command); everywhere else, and for
    foreach items and keys, the value is written in. A value that would come from an absent file
    (a lone dvc.yaml) is a required param in `cmd`; see `_unresolved` for the other places."""

    context: Context
    line: int | None
    reporter: Reporter
    params: dict[str, Any]  # the pipeline's params found so far: name -> default (or spec)
    param_names: dict[str, str]  # DVC expression -> param name
    local: set[str] = field(default_factory=set)  # item / key / stage vars: written in
    used_at: int | None = None  # the line of the command being resolved

    def value(self, value: Any, key: str, line: int | None = None) -> Any:
        """A value outside `cmd`, with `${}` written in (`line`: where it is, for the report)."""
        self.used_at = line
        return self._value(value, key)

    def _value(self, value: Any, key: str) -> Any:
        if isinstance(value, dict):
            return {self._value(k, key): self._value(v, key) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(v, key) for v in value]
        if isinstance(value, str):
            return self.text(value, key, as_param=False)
        return value

    def command(self, value: str, line: int | None = None) -> str:
        """A cmd string as dagshift text (`${{` escaped, params as placeholders)."""
        self.used_at = line
        return self.text(value, "cmd", as_param=True)

    def text(self, text: str, key: str, *, as_param: bool) -> Any:
        matches = list(_INTERPOLATION.finditer(text))
        if len(matches) == 1 and matches[0].group(0) == text and not as_param:
            return self._whole(matches[0]["inner"], key)
        parts: list[str] = []
        index = 0
        for match in matches:
            parts.append(self._literal(text[index:match.start()], as_param))
            parts.append(self._resolved(match["inner"], key, as_param))
            index = match.end()
        parts.append(self._literal(text[index:], as_param))
        return "".join(parts)

    def _literal(self, text: str, as_param: bool) -> str:
        text = text.replace("\\${", "${")
        return text.replace("${{", "$${{") if as_param else text

    def _whole(self, expression: str, key: str) -> Any:
        """A string that is one `${}`: the value with its type."""
        try:
            found = self.context.select(expression, self.line)
        except Unresolved as error:
            return self._unresolved(expression, key, error)
        self._check_type(found, key)
        return found

    def _resolved(self, expression: str, key: str, as_param: bool) -> str:
        try:
            found = self.context.select(expression, self.line)
        except Unresolved as error:
            return self._unresolved(expression, key, error)
        self._check_type(found, key)
        if as_param and isinstance(found, float) and not math.isfinite(found):
            self.reporter.loss(f"${{{expression}}} is {found}, which no pipeline param holds: written into the "
                               "text as DVC writes it", self.line, approximate=True)
        elif as_param and _is_scalar(found) and _head(expression) not in self.local:
            return _placeholder_of(f"params.{self._param(expression, found)}")
        if isinstance(found, dict):
            text = _unpacked(found, self.line)
            return text.replace("${{", "$${{") if as_param else text
        text = _dvc_text(found)
        return text.replace("${{", "$${{") if as_param else text

    def _check_type(self, found: Any, key: str) -> None:
        if found is None or _is_scalar(found):
            return
        if isinstance(found, dict) and key == "cmd":
            return
        if "foreach" in key or "matrix" in key:
            return
        raise DvcError(f"cannot interpolate data of type '{type(found).__name__}' in '{key}'", self.line)

    def _unresolved(self, expression: str, key: str, error: Unresolved) -> str:
        """A `${}` nothing defines. DVC refuses it, and so does the import, unless a file the value
        would come from is absent (a lone dvc.yaml). Then a command takes it as a required param;
        text that is only reported keeps it as written; where the value decides the stages or the
        graph (foreach, paths, wdir, frozen), nothing honest can stand in for it: manual."""
        sources = [] if _head(expression) in self.local else self.context.absent_sources(_head(expression))
        if not sources:
            raise error
        expression = expression.strip()
        if key == "cmd":
            return _placeholder_of(f"params.{self._required_param(expression, sources)}")
        absent = f"DVC would read it from {_either(sources)}, which {_is_are(sources)} absent"
        line = self.used_at or self.line
        if key in _REPORTED_ONLY:
            message = f"`${{{expression}}}` in {_REPORTED_ONLY[key]} has no value ({absent}): it is kept as written"
            self.reporter.loss(message, line, self._column(line, expression))
            return "${" + expression + "}"
        reason = _DECIDED_BY_VALUE.get(key, "DVC draws the graph from the paths of deps and outs")
        message = f"`${{{expression}}}` in `{key}` has no value: {absent}, and {reason}"
        raise DvcError(f"{message}: import it with the file in place", line)

    def _required_param(self, expression: str, sources: list[AbsentSource]) -> str:
        """A param with no default, reported once where it is first used. No type either: a DVC
        value may be any scalar, so the value the user gives decides it."""
        if expression in self.param_names:
            return self.param_names[expression]
        name = self._new_param_name(expression)
        self.params[name] = {"description": f"${{{expression}}} in DVC, from {_either(sources)}"}
        line = self.used_at or self.line
        self.reporter.loss(
            f"`${{{expression}}}` has no value: DVC would read it from {_either(sources)}, which "
            f"{_is_are(sources)} absent; it is the required param '{name}' (no default)",
            line,
            self._column(line, expression),
            help=f"give '{name}' its value when the pipeline runs (or a default in the imported pipeline), or "
            "import it again with the file in place",
        )
        return name

    def _column(self, line: int | None, expression: str) -> int | None:
        """Where `${expression` starts on its line (a value on the next lines of a block: none)."""
        lines = self.reporter.lines
        source = lines[line - 1] if line and 0 < line <= len(lines) else ""
        found = re.search(r"\$\{\s*" + re.escape(expression), source)
        return found.start() + 1 if found else None

    def _param(self, expression: str, value: Any) -> str:
        expression = expression.strip()
        if expression not in self.param_names:
            self.params[self._new_param_name(expression)] = value
        return self.param_names[expression]

    def _new_param_name(self, expression: str) -> str:
        """`train.lr` -> `train_lr`, made unique."""
        name = _identifier(expression.replace("[", "_").replace("]", "").replace(".", "_"), "param")
        taken = set(self.param_names.values())
        unique, counter = name, 2
        while unique in taken:
            unique, counter = f"{name}_{counter}", counter + 1
        self.param_names[expression] = unique
        return unique


def _head(expression: str) -> str:
    """The top-level key a `${}` reads (`train` of `train.lr`, `a` of `a[0]`)."""
    return expression.strip().replace("[", ".").split(".")[0].strip()


def _placeholder_of(reference: str) -> str:
    """`params.x` -> `${{ params.x }}`."""
    return "${{ " + reference + " }}"


def _either(sources: list[AbsentSource]) -> str:
    return " or ".join(source.where for source in sources)


def _is_are(sources: list[AbsentSource]) -> str:
    return "is" if len(sources) == 1 else "are"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _dvc_text(value: Any) -> str:
    """A scalar as DVC writes it into a string (Python's str, booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


def _unpacked(data: dict, line: int | None) -> str:
    """A dict in cmd as DVC unpacks it by default: `--key value`, a true bool as `--key`, a list
    as `--key a b` (strings shell-quoted), nested keys joined with dots."""
    words: list[str] = []
    for key, value in _flatten(data).items():
        if isinstance(value, bool):
            if value:
                words.append(f"--{key}")
        elif isinstance(value, str):
            words.append(f"--{key} {shlex.quote(value)}")
        elif isinstance(value, list):
            items = []
            for item in value:
                if isinstance(item, (list, dict)):
                    raise DvcError(f"cannot interpolate a nested list in '{key}'", line)
                items.append(shlex.quote(item) if isinstance(item, str) else _dvc_text(item))
            words.append(" ".join([f"--{key} {items[0]}", *items[1:]]) if items else "")
        else:
            words.append(f"--{key} {value}")
    return " ".join(word for word in words if word)


def _identifier(text: str, fallback: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    if keyword.iskeyword(name):
        name += "_"
    return name


# ----------------------------------------------------------------------------- stages


@dataclass
class Path_:
    """A dep or out of a stage: its path relative to the directory of dvc.yaml (or a URL)."""

    path: str
    line: int | None
    options: dict[str, Any] = field(default_factory=dict)
    kind: str = "dataset"  # dataset | metrics | plots


@dataclass
class Stage:
    """One stage as DVC resolves it (foreach and matrix stages already expanded)."""

    name: str
    line: int | None
    commands: list[str]
    wdir: str
    deps: list[Path_]
    outs: list[Path_]
    params: list[tuple[str, int | None]]  # "file:key" DVC tracks, and where
    body: Any  # the source mapping, for line numbers
    desc: str | None = None
    frozen: bool = False
    generated_from: str | None = None  # the foreach / matrix stage


def _expand(name: str, definition: Any, line: int | None, context: Context, resolver_for) -> list[Stage]:
    """The stages DVC makes of one entry of `stages`."""
    if not isinstance(definition, dict):
        raise DvcError(f"stage '{name}' has no body (a mapping with `cmd`)", line)
    if "matrix" in definition and "foreach" in definition:
        raise DvcError(f"stage '{name}' has both `foreach` and `matrix`", line)
    if "foreach" in definition:
        if set(definition) - {"foreach", "do"} or "do" not in definition:
            raise DvcError(f"foreach stage '{name}' takes exactly `foreach` and `do`", line)
        items = _foreach_items(name, definition["foreach"], line, resolver_for(context, set()))
        return [_stage(f"{name}@{key}", definition["do"], line, context, resolver_for, local, name)
                for key, local in items]
    if "matrix" in definition:
        template = {k: v for k, v in definition.items() if k != "matrix"}
        items = _matrix_items(name, definition["matrix"], line, resolver_for(context, set()))
        return [_stage(f"{name}@{key}", template, line, context, resolver_for, local, name) for key, local in items]
    return [_stage(name, definition, line, context, resolver_for, {}, None)]


def _foreach_items(name: str, data: Any, line: int | None, resolver: Resolver) -> list[tuple[str, dict]]:
    data = resolver.value(plain(data), "foreach")
    if isinstance(data, (dict, list)):
        _refuse_large_expansion(len(data), f"the foreach of stage '{name}'", line)
    if isinstance(data, dict):
        return [(_dvc_text(k), {"item": v, "key": _dvc_text(k)}) for k, v in data.items()]
    if not isinstance(data, list):
        raise DvcError(f"foreach of stage '{name}' must be a list or a mapping", line)
    if any(isinstance(item, (list, dict)) for item in data):
        return [(str(index), {"item": item}) for index, item in enumerate(data)]
    # DVC keys the runs by the item's text: an item listed twice is one stage
    return list({_dvc_text(item): (_dvc_text(item), {"item": item}) for item in data}.values())


def _matrix_items(name: str, data: Any, line: int | None, resolver: Resolver) -> list[tuple[str, dict]]:
    data = resolver.value(plain(data), "matrix")
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise DvcError(f"matrix of stage '{name}' must map names to lists", line)
    _refuse_large_expansion(math.prod(len(v) for v in data.values()), f"the matrix of stage '{name}'", line)
    items = []
    for combination in itertools.product(*(list(enumerate(v)) for v in data.values())):
        item = {axis: value for axis, (_, value) in zip(data, combination)}
        key = "-".join(f"{axis}{index}" if isinstance(value, (list, dict)) else _dvc_text(value)
                       for axis, (index, value) in zip(data, combination))
        items.append((key, {"item": item, "key": key}))
    return items


def _refuse_large_expansion(count: int, what: str, line: int | None) -> None:
    """Counted before the stages are built: a matrix's product can be astronomical."""
    problem = expansion_problem(count, what)
    if problem is not None:
        raise DvcError(problem, line)


def _stage(name: str, body: Any, line: int | None, context: Context, resolver_for, local: dict,
           group: str | None) -> Stage:
    if not isinstance(body, dict):
        raise DvcError(f"stage '{name}' has no body (a mapping with `cmd`)", line)
    unknown = sorted(set(map(str, body)) - _STAGE_KEYS)
    if unknown:
        raise DvcError(f"stage '{name}': DVC 3 does not accept `{unknown[0]}`", line_of(body, unknown[0]) or line)
    if "cmd" not in body:
        raise DvcError(f"stage '{name}' has no `cmd`", line)
    context = context.copy()
    if local:
        if set(local) & set(context.data):
            pass  # DVC warns and lets item / key win for the generated stages
        context.data.update(json.loads(json.dumps(local)))
    wdir = _resolve_wdir(name, body, context, resolver_for, local, line)
    if body.get("vars") is not None:
        vars_line = line_of(body, "vars")
        context.load_vars(body["vars"], wdir, f"stages.{name}.vars", vars_line)
        local = {**local, **{k: None for k in _local_var_names(body["vars"])}}
    resolver = resolver_for(context, set(local))
    stage = Stage(name, line, _commands(name, body, resolver), wdir, [], [], [], body, generated_from=group)
    if body.get("desc") is not None:
        stage.desc = _dvc_text(resolver.value(plain(body["desc"]), "desc", line_of(body, "desc")))
    stage.frozen = bool(resolver.value(plain(body.get("frozen", False)), "frozen", line_of(body, "frozen")))
    stage.deps = _paths(name, body, "deps", resolver, wdir)
    stage.outs = (_paths(name, body, "outs", resolver, wdir) + _paths(name, body, "metrics", resolver, wdir)
                  + _paths(name, body, "plots", resolver, wdir))
    stage.params = _stage_params(body, resolver, wdir)
    return stage


def _local_var_names(entries: Any) -> list[str]:
    """Names a stage's inline `vars` mappings define: values written in, not pipeline params."""
    names: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            names += [str(k) for k in entry]
    return names


def _resolve_wdir(name: str, body: dict, context: Context, resolver_for, local: dict, line: int | None) -> str:
    wdir = body.get("wdir")
    if wdir is None or wdir == "":
        return ""
    resolved = resolver_for(context, set(local)).value(plain(wdir), "wdir", line_of(body, "wdir"))
    if not isinstance(resolved, str):
        resolved = _dvc_text(resolved)
    if resolved.startswith("/"):
        raise DvcError(f"stage '{name}': wdir '{resolved}' is outside the repository", line_of(body, "wdir"))
    normal = posixpath.normpath(resolved)
    return "" if normal == "." else normal


def _commands(name: str, body: dict, resolver: Resolver) -> list[str]:
    cmd = body["cmd"]
    raw = list(cmd) if isinstance(cmd, list) else [cmd]
    commands = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, (str, int, float)) or isinstance(entry, bool):
            raise DvcError(f"stage '{name}': cmd must be text or a list of texts", line_of(body, "cmd"))
        line = line_of(cmd, index) if isinstance(cmd, list) else line_of(body, "cmd")
        commands.append(resolver.command(str(entry), line))
    if not commands:
        raise DvcError(f"stage '{name}': cmd is empty", line_of(body, "cmd"))
    return commands


def _paths(name: str, body: dict, key: str, resolver: Resolver, wdir: str) -> list[Path_]:
    entries = body.get(key)
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise DvcError(f"stage '{name}': `{key}` must be a list", line_of(body, key))
    found = []
    for index, entry in enumerate(entries):
        line = line_of(entries, index)
        if isinstance(entry, dict):
            if len(entry) != 1:
                raise DvcError(f"stage '{name}': each entry of `{key}` is a path or one `path: options`", line)
            (path, options), = entry.items()
            options = resolver.value(plain(options), "options", line) if options is not None else {}
            if not isinstance(options, dict):
                raise DvcError(f"stage '{name}': the options of '{path}' must be a mapping", line)
        else:
            path, options = entry, {}
        path = resolver.value(plain(path), key, line)
        if not isinstance(path, str) or not path:
            raise DvcError(f"stage '{name}': a path in `{key}` must be text", line)
        kind = {"metrics": "metrics", "plots": "plots"}.get(key, "dataset")
        found.append(Path_(_repo_path(path, wdir), line, options, kind))
    return found


def _repo_path(path: str, wdir: str) -> str:
    """A dep / out as a path from the directory of dvc.yaml (URLs and absolute paths as they are)."""
    if _URL.match(path) or path.startswith("/"):
        return path
    return posixpath.normpath(posixpath.join(wdir, path))


def _stage_params(body: dict, resolver: Resolver, wdir: str) -> list[tuple[str, int | None]]:
    """The params the stage tracks, as `file:key`: a file (which DVC reads relative to the stage's
    wdir) as a path from the directory of dvc.yaml, as dagshift names `../params.yaml` from a wdir."""
    entries = body.get("params")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise DvcError("`params` must be a list", line_of(body, "params"))
    found = []
    for index, entry in enumerate(entries):
        line = line_of(entries, index)
        entry = resolver.value(plain(entry), "params", line)
        if isinstance(entry, dict):
            for file, keys in entry.items():
                file = _repo_path(str(file), wdir)
                if keys is None or keys == []:
                    found.append((f"{file} (every value)", line))
                else:
                    found += [(f"{file}:{k}", line) for k in (keys if isinstance(keys, list) else [keys])]
        else:
            found.append((str(entry), line))
    return found


# ----------------------------------------------------------------------------- dagshift's own output


@dataclass
class Dagshift:
    """What dagshift's DVC output says beyond plain stages: runner specs, value outputs, sentinels."""

    base: Path
    specs: dict[str, Any] | None = None  # .dagshift/tasks.json, read once
    output_types: dict[tuple[str, str], str] = field(default_factory=dict)
    params_read: dict[str, str | None] = field(default_factory=dict)  # by the runner: name -> type if known

    def spec(self, task: str, digest: str | None) -> dict | None:
        """A runner task's spec: from .dagshift/tasks.json when its cmd names the spec's digest,
        else (as dagshift wrote it before) from .dagshift/tasks/TASK.json. None if not found."""
        if digest is None:
            spec = _json_file(self.base / DAGSHIFT_DIR / "tasks" / f"{task}.json")
        else:
            if self.specs is None:
                specs = _json_file(self.base / TASKS_FILE)
                self.specs = specs if isinstance(specs, dict) else {}
            spec = self.specs.get(task)
        return spec if isinstance(spec, dict) else None


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_dagshift_path(path: str) -> bool:
    return path.startswith(_DAGSHIFT) or f"/{_DAGSHIFT}" in path


def _decode(spec: Any, dagshift: Dagshift, whole: bool = True) -> Any:
    """A runner value spec (compiler/backends/dvc/backend.py _encode) as dagshift surface syntax."""
    if isinstance(spec, list):
        return [_decode(item, dagshift) for item in spec]
    if isinstance(spec, str):
        return spec.replace("${{", "$${{")
    if not isinstance(spec, dict):
        return spec
    if SPEC_KEY not in spec:
        return {key: _decode(value, dagshift) for key, value in spec.items()}
    ref = spec[SPEC_KEY]
    if ref[0] == "literal":
        return ref[1]
    if ref[0] == "concat":
        return "".join(_decode(part, dagshift) if isinstance(part, str) else _placeholder(part, dagshift)
                       for part in ref[1:])
    return _placeholder(spec, dagshift)


def _placeholder(spec: dict, dagshift: Dagshift) -> str:
    ref = spec[SPEC_KEY]
    if ref[0] == "param":
        dagshift.params_read.setdefault(ref[1], None)
        return _placeholder_of(f"params.{ref[1]}")
    if ref[0] == "output":
        dagshift.output_types[(ref[1], ref[2])] = ref[3]
        return _placeholder_of(f"tasks.{ref[1]}.outputs.{ref[2]}")
    if ref[0] == "item":
        return _placeholder_of("item" if ref[1] is None else f"item.{ref[1]}")
    if ref[0] == "out":
        return _placeholder_of(f"outputs.{ref[1]}")
    raise ValueError(f"unknown runner placeholder {ref!r}")


def _python_task(task: dict, called: dict) -> None:
    """The task fields of a python stage's `python3 -c` line (dvc_python.py); the path of a value
    output inside an argument is `${{ outputs.NAME }}` again."""
    task["python"] = called["python"]
    outputs = called.get("outputs", {})
    if called.get("args"):
        task["args"] = _with_output_placeholders(called["args"], {path: name for name, (_, path) in outputs.items()})
    if outputs:
        task["outputs"] = {name: type_name for name, (type_name, _) in outputs.items()}


def _with_output_placeholders(value: Any, paths: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_with_output_placeholders(item, paths) for item in value]
    if isinstance(value, dict):
        return {key: _with_output_placeholders(item, paths) for key, item in value.items()}
    if isinstance(value, str):
        for path, name in paths.items():
            value = value.replace(path, _placeholder_of(f"outputs.{name}"))
    return value


def _unwrapped(command: str) -> str:
    """A command the backend wrapped as `bash -c '...'` (compiler/backends/dvc/shell.py) as the
    command itself; any other text as it is. DVC's values arrive as `${{ params.x }}`: they are
    kept out of the unquoting, and a literal `${{` inside is escaped as `$${{`."""
    if not command.startswith(BASH_COMMAND + "'"):
        return command
    placeholders: list[str] = []

    def marker(found: re.Match) -> str:
        placeholders.append(found.group(0))
        return f"\ue000{len(placeholders) - 1}\ue001"

    marked = _RESOLVED_PLACEHOLDER.sub(marker, command[len(BASH_COMMAND):])
    try:
        words = shlex.split(marked)
    except ValueError:
        return command
    if len(words) != 1 or dvc_shell.quoted([words[0]]) != marked:
        return command
    text = words[0].replace("${{", "$${{")
    return re.sub("\ue000(\\d+)\ue001", lambda m: placeholders[int(m.group(1))], text)


def _module_file(task: dict, path: str, wdir: str) -> bool:
    """Whether PATH is the file of the task's python module (the backend makes it a dep, so
    that editing the code re-runs the stage): not an input of the task."""
    module = task.get("python", "").partition(":")[0].replace(".", "/")
    return bool(module) and path in (_repo_path(f"{module}.py", wdir), _repo_path(f"{module}/__init__.py", wdir))


def _runner_task(task: dict, spec: dict, dagshift: Dagshift, workdir: str) -> None:
    """The task fields a runner spec holds."""
    kind = spec.get("kind")
    if kind == "python":
        task["python"] = spec["target"]
        if spec.get("kwargs"):
            task["args"] = _decode(spec["kwargs"], dagshift)
    elif kind == "container":
        task["image"] = spec["image"]
        argv = _decode(spec.get("argv", []), dagshift)
        # `bash -c COMMAND bash ARGS` (`sh` before issue 19)
        shell = argv[0] if argv[:1] in (["sh"], ["bash"]) else None
        if shell and argv[1:2] == ["-c"] and len(argv) >= 4 and argv[2].endswith(ARGS_SUFFIX) and argv[3] == shell:
            task["command"] = argv[2][:-len(ARGS_SUFFIX)]
            if argv[4:]:
                task["args"] = argv[4:]
        elif argv:
            task["command"] = argv
    elif "argv" in spec:
        task["command"] = _decode(spec["argv"], dagshift)
    else:
        task["command"] = _decode(spec.get("command", ""), dagshift)
    if spec.get("env"):
        task["env"] = {k: _decode(v, dagshift) for k, v in spec["env"].items()}
    for name, (kind_name, path) in spec.get("outputs", {}).items():
        entry: dict[str, Any] = {"type": kind_name}
        if path:
            entry["path"] = posixpath.relpath(path, workdir) if workdir else path
        task.setdefault("outputs", {})[name] = entry if path else kind_name
    delays = spec.get("retry_delays") or []
    if delays:
        task["retries"] = len(delays)
        task["retry_delay"] = delays[0]
        if len(delays) > 1 and delays[0] and delays[1] > delays[0]:
            task["retry_backoff"] = delays[1] / delays[0]
    if spec.get("timeout"):
        task["timeout"] = spec["timeout"]
    items = spec.get("items")
    if isinstance(items, dict):
        dagshift.params_read[items["param"]] = "list"
        task["foreach"] = _placeholder_of(f"params.{items['param']}")
    elif items is not None:
        task["foreach"] = items


# ----------------------------------------------------------------------------- the importer


class DvcImporter(Importer):
    name = "dvc"
    title = "DVC"
    not_carried = (
        # dvc.yaml has no place for these: the header comment carries only the name
        "description", "owner", "tags",
        # `dvc repro` runs one stage at a time and locks the repository: nothing to write
        "max_active_tasks", "max_active_runs", "tasks.*.max_parallel", "tasks.*.pool",
        # DVC always caches stages; the backend writes nothing for `cache`
        "tasks.*.cache",
        # a value output is a file under .dagshift/outputs/: its description is nowhere
        "tasks.*.outputs.*.description",
        # optimizer hints with no DVC equivalent
        "tasks.*.estimate", "tasks.*.priority",
        # params.yaml holds only the defaults: no bounds, choices or description, and not whether
        # the type was written out or inferred from the default
        "params.*.description", "params.*.type", "params.*.min", "params.*.max", "params.*.enum",
        # artifacts are paths in deps and outs: their descriptions are not in the output (nor
        # their names: see carried)
        "artifacts.*.description",
    )

    def carried(self, pipeline: Pipeline) -> dict[str, Any]:
        """Also as dvc.yaml holds them: an artifact is known by its path (deps and outs), so it is
        named by its path in artifacts, produces / consumes and `${{ artifacts.X }}`; of the kinds,
        only metrics and plots have a place (their own sections of a stage)."""
        data = artifacts_named_by_path(super().carried(pipeline))
        for artifact in data.get("artifacts", {}).values():
            if artifact.get("kind") not in ("metrics", "plots"):
                artifact.pop("kind", None)
        return data

    def detect(self, path: Path, text: str) -> bool:
        if path.suffix not in (".yaml", ".yml", ""):
            return False
        if re.search(r"(?m)^(apiVersion|kind|pipelineInfo|deploymentSpec)\s*:", text):
            return False
        # DVC reads dvc.yaml; a copy may be named after its repository (`repo__dvc.yaml`)
        return path.name.endswith(("dvc.yaml", "dvc.yml")) or re.search(r"(?m)^stages\s*:", text) is not None

    def read(self, path: Path, text: str, display: str) -> list[Imported]:
        reporter = Reporter(display, text)
        try:
            data = _Reader(path, text, reporter).pipeline()
        except DvcError as error:
            reporter.error(str(error), error.line, code=error.code,
                           help="DVC itself refuses this file; fix it so that `dvc dag` works, then import it again")
            data = None
        return [Imported(display, data, reporter.diagnostics, places=reporter.places)]


class _Reader:
    """One dvc.yaml read into a pipeline."""

    def __init__(self, path: Path, text: str, reporter: Reporter):
        self.path = path
        self.base = path.parent
        self.text = text
        self.report = reporter
        self.params: dict[str, Any] = {}
        self.param_names: dict[str, str] = {}
        self.dagshift = Dagshift(self.base)
        header = _HEADER.search(text)
        self.generated_name = header.group(1) if header else None

    # ------------------------------------------------------------------ reading

    def document(self) -> dict:
        try:
            documents = read_yaml(self.text)
        # As the other YAML importers: ruamel raises more than YAMLError on bad input (ValueError on
        # '._', IndexError on '-_': scalars it takes for numbers it cannot convert).
        except Exception as error:  # noqa: BLE001
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise DvcError(f"not valid YAML: {getattr(error, 'problem', None) or error}", line, "E601") from None
        if len(documents) != 1 or not isinstance(documents[0], dict):
            raise DvcError("a dvc.yaml is one YAML mapping (with `stages`)", None, "E601")
        document = documents[0]
        unknown = sorted(set(map(str, document)) - _TOP_KEYS)
        if unknown:
            raise DvcError(f"DVC 3 does not accept the top-level key `{unknown[0]}`", line_of(document, unknown[0]))
        for key, kind in (("vars", list), ("params", list), ("metrics", list), ("plots", list),
                          ("datasets", list), ("artifacts", dict), ("stages", dict)):
            if document.get(key) is not None and not isinstance(document[key], kind):
                raise DvcError(f"DVC 3 expects `{key}` to be a {'list' if kind is list else 'mapping'}",
                               line_of(document, key))
        return document

    def resolver(self, context: Context, local: set[str]) -> Resolver:
        return Resolver(context, None, self.report, self.params, self.param_names, local)

    def stages(self, document: dict) -> list[Stage]:
        context = Context(self.base)
        context.load_default("")
        context.load_vars(document.get("vars"), "", "vars", line_of(document, "vars"))
        stages_map = document.get("stages") or {}
        if not isinstance(stages_map, dict):
            raise DvcError("`stages` must be a mapping of stage names", line_of(document, "stages"))
        stages: list[Stage] = []
        for name, definition in stages_map.items():
            line = line_of(stages_map, name)

            def resolver_for(ctx: Context, local: set[str], line: int | None = line) -> Resolver:
                resolver = self.resolver(ctx, local)
                resolver.line = line
                return resolver

            stages += _expand(str(name), definition, line, context, resolver_for)
        names = [stage.name for stage in stages]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise DvcError(f"two stages are named '{duplicate}'")
        self.missing_vars_losses(list(context.missing_vars.values()))
        return stages

    def missing_vars_losses(self, missing: list[AbsentSource]) -> None:
        """DVC refuses a dvc.yaml whose vars file is missing; the import goes on without its values
        (a `${}` it would give is a required param), so what else it holds is not checked."""
        for source in missing:
            message = f"{source.where} is missing: DVC needs it to read dvc.yaml; its values are not known here"
            self.report.loss(message, source.line)

    # ------------------------------------------------------------------ the pipeline

    def pipeline(self) -> dict:
        document = self.document()
        self.top_level_losses(document)
        stages = self.stages(document)
        if not stages:
            return self.without_stages(document)
        params_file = self.base / "params.yaml"
        if self.generated_name and params_file.is_file():
            # dagshift's params.yaml is exactly the pipeline's params
            self.params = _read_values_file(params_file, "params.yaml", None)
        ids = self.task_ids(stages)
        workdir = self.workdir(stages)
        tasks = {ids[s.name]: self.task(s, ids, workdir) for s in stages}
        for stage in stages:  # a value or an edge the validator refuses is an error at its stage
            self.report.place(("tasks", ids[stage.name]), stage.line)
        if self.generated_name and not params_file.is_file():
            self.runner_params_required(stages)
        artifacts = self.wire(stages, ids, tasks, workdir)
        self.report_losses(stages, ids)
        self.fill_output_types(tasks)
        data: dict[str, Any] = {"name": self.pipeline_name()}
        if workdir:
            data["workdir"] = workdir
        if self.params:
            data["params"] = dict(self.params)
        if artifacts:
            data["artifacts"] = artifacts
        data["tasks"] = tasks
        return data

    def runner_params_required(self, stages: list[Stage]) -> None:
        """dagshift's output copied without its params.yaml: a param its runner reads (there, not
        through `${}`) has no value either, so it is required, reported where a stage tracks it."""
        for name, type_name in self.dagshift.params_read.items():
            if name in self.params:
                continue
            self.params[name] = {"description": "read by dagshift's runner from params.yaml next to dvc.yaml"}
            if type_name:
                self.params[name]["type"] = type_name
            line = next((line for stage in stages for tracked, line in stage.params if tracked == name), None)
            self.report.loss(f"param '{name}' has no value: dagshift's runner reads it from params.yaml next to "
                             "dvc.yaml, which is absent; it is a required param (no default)", line,
                             help=f"give '{name}' its value when the pipeline runs (or a default in the imported "
                             "pipeline), or import it again with params.yaml in place")

    def without_stages(self, document: dict) -> dict:
        """A dvc.yaml with no stages (metrics and plots only, as DVCLive writes) runs nothing; a
        pipeline needs a task, so it gets one that does nothing."""
        self.report.loss("no stages: the pipeline has one task, `no_stages`, that does nothing",
                         line_of(document, "stages") if "stages" in document else 1, approximate=True)
        return {"name": self.pipeline_name(), "tasks": {NO_STAGES: {"description": "dvc.yaml has no stages"}}}

    def pipeline_name(self) -> str:
        if self.generated_name:
            return self.generated_name
        stem = self.path.parent.name if self.path.stem in ("dvc", "") else self.path.stem
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")
        if not name or not name[0].isalpha():
            name = f"dvc-{name}".strip("-_")
        return name[:63].rstrip("-_") or "dvc"

    def task_ids(self, stages: list[Stage]) -> dict[str, str]:
        """A task id per stage: the name itself when it is a valid id, else a close one."""
        ids: dict[str, str] = {}
        taken: set[str] = set()
        for stage in stages:
            base = stage_id(stage.name)
            task_id, counter = base, 2
            while taken & target_names(task_id):
                suffix = f"_{counter}"
                task_id, counter = base[:63 - len(suffix)] + suffix, counter + 1
            ids[stage.name] = task_id
            taken |= target_names(task_id)
            if task_id != stage.name and stage.generated_from is None:
                self.report.loss(f"stage '{stage.name}' is task '{task_id}' (task ids use letters, digits, - "
                                 "and _)", stage.line, approximate=True)
        return ids

    def workdir(self, stages: list[Stage]) -> str | None:
        """The stages' common wdir (dagshift writes the pipeline's workdir on every stage)."""
        wdirs = {stage.wdir for stage in stages}
        return wdirs.pop() or None if len(wdirs) == 1 else None

    # ------------------------------------------------------------------ one task

    def task(self, stage: Stage, ids: dict[str, str], workdir: str | None) -> dict:
        task: dict[str, Any] = {}
        if stage.desc is not None:
            task["description"] = stage.desc
        commands = [c for c in stage.commands if not self.dagshift_bookkeeping(c)]
        if self.generated_name:
            commands = [_unwrapped(c) for c in commands]
        runner = _RUNNER_CMD.match(commands[0]) if len(commands) == 1 else None
        spec = self.dagshift.spec(runner.group(2), runner.group(3)) if runner else None
        called = dvc_python.read(commands[0]) if len(commands) == 1 and self.generated_name else None
        if runner and spec is None:
            where = TASKS_FILE if runner.group(3) else f"{DAGSHIFT_DIR}/tasks/{runner.group(2)}.json"
            self.report.loss(f"stage '{stage.name}' runs dagshift's runner, but the spec of task "
                             f"'{runner.group(2)}' is not in {where}: the task is the command as written",
                             line_of(stage.body, "cmd") or stage.line)
        if spec is not None:
            if runner.group(3) and spec_digest(spec) != runner.group(3):
                self.report.loss(f"the spec of task '{runner.group(2)}' in {TASKS_FILE} does not match stage "
                                 f"'{stage.name}' (edited after `dagshift compile`), so the runner would refuse "
                                 "to run it: the task is the spec as that file holds it",
                                 line_of(stage.body, "cmd") or stage.line, approximate=True)
            _runner_task(task, spec, self.dagshift, workdir or "")
        elif called is not None:
            _python_task(task, called)
        elif commands:
            command = self.joined(commands, stage)
            command = self.value_outputs(command, stage, task, workdir)
            if stage.wdir != (workdir or ""):
                target = posixpath.relpath(stage.wdir or ".", workdir or ".")
                command = f"cd {shlex.quote(target)} && {command}"
                self.report.loss(f"stage '{stage.name}' runs in wdir '{stage.wdir}': the command starts with "
                                 f"`cd {target}`", line_of(stage.body, "wdir") or stage.line, approximate=True)
            if command != "true" or stage.generated_from or not self.generated_name:
                task["command"] = command
        if stage.frozen:
            if "command" in task or "python" in task:
                original = task.pop("command", None) or task.pop("python", None)
                task.pop("args", None)
                task["description"] = (task.get("description", "") + f" (frozen in DVC: {original})").strip()
            self.report.loss(f"stage '{stage.name}' is frozen: DVC does not run it, so the task does nothing "
                             "(its command is in the description)", line_of(stage.body, "frozen") or stage.line,
                             approximate=True)
        return task

    def dagshift_bookkeeping(self, command: str) -> bool:
        """A command dagshift adds around a task: a sentinel, or the folder of its value outputs."""
        return bool((_DONE_CMD.match(command) and f"{DONE_DIR}/" in command) or _PREPARE_CMD.match(command))

    def joined(self, commands: list[str], stage: Stage) -> str:
        """DVC runs a list of commands one after another, each in its own shell, stopping at the
        first that fails: `( c1 ) && ( c2 )` does the same in one shell."""
        if len(commands) == 1:
            return commands[0]
        return " && ".join(f"( {c} )" if _needs_group(c) else c for c in commands)

    def value_outputs(self, command: str, stage: Stage, task: dict, workdir: str | None) -> str:
        """dagshift's value outputs of a direct command: `.dagshift/outputs/TASK/NAME`."""
        for out in stage.outs:
            match = re.fullmatch(rf"(?:.*/)?{re.escape(OUTPUTS_DIR)}/([^/]+)/([A-Za-z_][A-Za-z0-9_]*)", out.path)
            if not match:
                continue
            name = match.group(2)
            relative = posixpath.relpath(out.path, workdir) if workdir else out.path
            if relative in command:
                command = command.replace(relative, _placeholder_of(f"outputs.{name}"))
            task.setdefault("outputs", {})[name] = "str"
        return command

    def fill_output_types(self, tasks: dict[str, dict]) -> None:
        """A direct command's value output has no type in dvc.yaml; a consumer's runner spec says it."""
        for (task_id, name), type_name in self.dagshift.output_types.items():
            outputs = tasks.get(task_id, {}).get("outputs", {})
            if outputs.get(name) == "str":
                outputs[name] = type_name

    # ------------------------------------------------------------------ the graph

    def wire(self, stages: list[Stage], ids: dict[str, str], tasks: dict[str, dict], workdir: str | None) -> dict:
        """Artifacts from outs and deps, and the edges DVC draws: a dep equal to, inside or above
        another stage's out. dagshift's bookkeeping paths become `after` edges."""
        producers: dict[str, tuple[str, Path_]] = {}
        for stage in stages:
            for out in stage.outs:
                if _is_dagshift_path(out.path):
                    continue
                if out.path in producers and producers[out.path][0] != stage.name:
                    raise DvcError(f"output '{out.path}' is written by stages '{producers[out.path][0]}' and "
                                   f"'{stage.name}'", out.line)
                producers[out.path] = (stage.name, out)
        self.check_overlaps(producers)
        names = _ArtifactNames()
        artifacts: dict[str, Any] = {}
        for path, (stage_name, out) in producers.items():
            name = names.name(path)
            artifacts[name] = self.artifact(out, workdir)
            _add(tasks[ids[stage_name]], "produces", name)
        for stage in stages:
            task = tasks[ids[stage.name]]
            for dep in stage.deps:
                self.wire_dep(stage, dep, task, ids, producers, names, artifacts, workdir)
        self.check_cycles(tasks)
        return artifacts

    def wire_dep(self, stage: Stage, dep: Path_, task: dict, ids: dict[str, str], producers: dict, names,
                 artifacts: dict, workdir: str | None) -> None:
        if _is_dagshift_path(dep.path):
            self.dagshift_dep(stage, dep, task, ids)
            return
        if self.generated_name and _module_file(task, dep.path, stage.wdir):
            return
        related = [p for p in producers if _overlaps(p, dep.path)]
        for path in related:
            if producers[path][0] == stage.name:
                raise DvcError(f"'{dep.path}' is both a dependency and an output of stage '{stage.name}'",
                               dep.line)
            _add(task, "consumes", names.name(path))
        if not related:
            name = names.name(dep.path)
            if name not in artifacts:
                artifacts[name] = {"path": _ir_path(dep.path, workdir), "external": True}
            _add(task, "consumes", name)
        if dep.options:
            self.report.loss(f"options of dep '{dep.path}' ({', '.join(map(str, dep.options))}) are not carried",
                             dep.line)

    def dagshift_dep(self, stage: Stage, dep: Path_, task: dict, ids: dict[str, str]) -> None:
        """`.dagshift/done/T` is an order-only edge; `.dagshift/outputs/T/..` an upstream value
        (the runner spec references it); the runner and its spec are not inputs of the task."""
        match = re.search(f"({re.escape(DONE_DIR)}|{re.escape(OUTPUTS_DIR)})/([^/]+)", dep.path)
        if not match:
            return
        upstream = ids.get(match.group(2), match.group(2))
        if match.group(1) == DONE_DIR or f"tasks.{upstream}.outputs." not in json.dumps(task):
            _add(task, "after", upstream)

    def check_overlaps(self, producers: dict) -> None:
        paths = sorted(producers)
        for first, second in itertools.pairwise(paths):
            if second.startswith(first.rstrip("/") + "/") and producers[first][0] != producers[second][0]:
                raise DvcError(f"outputs '{first}' and '{second}' of stages '{producers[first][0]}' and "
                               f"'{producers[second][0]}' overlap", producers[second][1].line)

    def check_cycles(self, tasks: dict[str, dict]) -> None:
        import graphlib

        producer = {a: t for t, task in tasks.items() for a in task.get("produces", [])}
        graph = {t: {producer[a] for a in task.get("consumes", []) if a in producer} | set(task.get("after", []))
                 for t, task in tasks.items()}
        try:
            graphlib.TopologicalSorter(graph).prepare()
        except graphlib.CycleError as error:
            raise DvcError(f"the stages form a cycle: {' -> '.join(error.args[1])}") from None

    def artifact(self, out: Path_, workdir: str | None) -> Any:
        entry: dict[str, Any] = {"path": _ir_path(out.path, workdir)}
        if out.kind != "dataset":
            entry["kind"] = out.kind
        if isinstance(out.options.get("desc"), str):
            entry["description"] = out.options["desc"]
        return entry if len(entry) > 1 else entry["path"]

    # ------------------------------------------------------------------ losses

    def top_level_losses(self, document: dict) -> None:
        for key, what in (("params", "top-level params files (what `dvc params diff` shows)"),
                          ("metrics", "top-level metrics (what `dvc metrics show` reads)"),
                          ("plots", "top-level plots (what `dvc plots show` draws)"),
                          ("artifacts", "artifacts (DVC's model registry entries)"),
                          ("datasets", "datasets (DVC's dataset registry entries)")):
            if document.get(key):
                self.report.loss(f"{what} are not carried: the pipeline has no equivalent",
                                 line_of(document, key))

    def report_losses(self, stages: list[Stage], ids: dict[str, str]) -> None:
        groups_reported: set[str] = set()
        for stage in stages:
            if stage.generated_from and stage.generated_from not in groups_reported:
                groups_reported.add(stage.generated_from)
                generated = [ids[s.name] for s in stages if s.generated_from == stage.generated_from]
                self.report.loss(f"stage '{stage.generated_from}' is expanded into {len(generated)} tasks "
                                 f"({', '.join(generated[:4])}{', ...' if len(generated) > 4 else ''}), one per "
                                 "item, as DVC does", stage.line, approximate=True)
            if stage.generated_from and stage is not next(s for s in stages if s.generated_from == stage.generated_from):
                continue  # a foreach / matrix template's losses once, not once per item
            self.stage_losses(stage)

    def stage_losses(self, stage: Stage) -> None:
        body = stage.body
        for out in stage.outs:
            if _is_dagshift_path(out.path):
                continue
            lost = sorted(k for k in out.options if not self.carried_option(out, k))
            if lost:
                self.report.loss(f"options of '{out.path}' are not carried: "
                                 + ", ".join(f"{k}: {json.dumps(out.options[k])}" for k in lost)
                                 + " (DVC's storage and display settings: the pipeline only names the file)",
                                 out.line)
        tracked = [(name, line) for name, line in stage.params if not self.read_through_placeholder(name)]
        if tracked:
            names = ", ".join(name for name, _ in tracked[:5]) + (", ..." if len(tracked) > 5 else "")
            self.report.loss(f"stage '{stage.name}' tracks params {names}: DVC re-runs it when they change; the "
                             "pipeline does not track values the command reads from a params file itself",
                             tracked[0][1])
        if isinstance(body, dict) and body.get("meta") is not None:
            self.report.loss(f"stage '{stage.name}': `meta` is not carried", line_of(body, "meta"))
        if isinstance(body, dict) and body.get("always_changed"):
            pass  # the pipeline's tasks always run: no loss

    def carried_option(self, out: Path_, key: str) -> bool:
        if key == "desc":
            return True
        if key == "cache" and out.options[key] is False and out.kind in ("metrics", "plots"):
            return True  # small files kept in git: what kind metrics / plots mean
        return key == "cache" and out.options[key] is True and out.kind == "dataset"  # the default

    def read_through_placeholder(self, name: str) -> bool:
        """A tracked param the command reads through `${}` (a pipeline param): nothing lost."""
        key = name.removeprefix("params.yaml:")
        return key in self.param_names or key in self.params


def target_names(task_id: str) -> set[str]:
    """What a task id becomes on the targets (and in lower case): two ids that share one collide
    (`a-b` and `a_b` are both the Python name a_b)."""
    from compiler.language.naming import TARGET_NAMES

    return {task_id.lower(), *(mapping(task_id) for mapping in TARGET_NAMES.values())}


def stage_id(name: str) -> str:
    """The task id of a DVC stage (before making it unique): the name itself when it is a valid
    id, else a close one (`train@0` -> `train_0`)."""
    from compiler.language.naming import id_problem, suggest_id

    return (name if id_problem(name) is None else suggest_id(name)) or "stage"


class _ArtifactNames:
    """A name per path: its file name as an identifier, made unique with the folders above it."""

    def __init__(self):
        self.by_path: dict[str, str] = {}
        self.taken: set[str] = set()

    def name(self, path: str) -> str:
        if path in self.by_path:
            return self.by_path[path]
        parts = [p for p in re.split(r"[/\\]+", re.sub(r"^[A-Za-z][A-Za-z0-9+.-]+://", "", path)) if p]
        parts = parts or ["artifact"]
        stem = re.sub(r"\.[A-Za-z0-9]+$", "", parts[-1]) or parts[-1]
        candidates = [_identifier(stem, "a")]
        for depth in range(2, len(parts) + 1):
            candidates.append(_identifier("_".join(parts[-depth:]), "a"))
        name = next((c for c in candidates if c not in self.taken), None)
        counter = 2
        while name is None or name in self.taken:
            name, counter = f"{candidates[0]}_{counter}", counter + 1
        self.by_path[path] = name
        self.taken.add(name)
        return name


def _needs_group(command: str) -> bool:
    return any(c in command for c in ";|&\n") or command.lstrip().startswith("cd ")


def _overlaps(out: str, dep: str) -> bool:
    """DVC's edge rule: the dep is the out, inside it, or a folder holding it."""
    if out == dep:
        return True
    return dep.startswith(out.rstrip("/") + "/") or out.startswith(dep.rstrip("/") + "/")


def _ir_path(path: str, workdir: str | None) -> str:
    if not workdir or _URL.match(path) or path.startswith("/"):
        return path
    return posixpath.relpath(path, workdir)


def _add(task: dict, key: str, value: str) -> None:
    values = task.setdefault(key, [])
    if value not in values:
        values.append(value)


IMPORTER = DvcImporter()
