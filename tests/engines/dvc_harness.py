"""Driving the real DVC 3 (scripts/engines/dvc.txt) on generated `dvc.yaml` files.

`DvcEngine.repo(generated)` makes a fresh git + DVC repository whose working tree is a copy of
examples/ (what the tasks expect as their working directory, without the invalid corpus and
earlier runs' output: engine_harness._NOT_COPIED) with the generated files on top (`dvc.yaml`,
`params.yaml`, `.dagshift/...`), all committed. `DvcRepo` then runs the `dvc` executable of the
engine venv in it: `repro()`, `dag_edges()`, `status()`, `stages_run()`, and edits params with
`set_param()`. Every DVC call is a subprocess (about 0.5 s each to start), timed in `calls`.

The environment of a DVC process is the caller's minus anything that would leak the test run into
it (PYTHON*, VIRTUAL_ENV, GIT_*, DVC_*) and with:
- PATH: the caller's, without any virtual environment's bin directory, then the engine venv's bin
  LAST, so a stage's `python3` is the system's Python (the examples' tinyml is stdlib only) and
  never the engine's; `dvc` itself is always called by its full path;
- SHELL=/bin/sh: DVC runs each command as `$SHELL -c CMD` (dvc/stage/run.py), so the tests pin the
  strictest common shell instead of whatever the caller logs in with;
- no analytics, no update check, and DVC's global, system and site directories in the scratch
  directory; git with a fixed identity and no global or system config (no hooks, no signing).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine_harness import _NOT_COPIED, EXAMPLES, ROOT, Compiled

DVC_TIMEOUT = 300  # seconds for one DVC call; a repro of an example takes a few

_RUNNING = re.compile(r"^Running stage '(?P<stage>.+)':$", re.MULTILINE)
_CACHED = re.compile(r"^Stage '(?P<stage>.+)' is cached - skipping run, checking out outputs$", re.MULTILINE)
_UNCHANGED = re.compile(r"^Stage '(?P<stage>.+)' didn't change, skipping$", re.MULTILINE)
_DOT_NAME = r'"((?:[^"\\]|\\.)*)"'
_DOT_EDGE = re.compile(rf"^\s*{_DOT_NAME}\s*->\s*{_DOT_NAME}", re.MULTILINE)
_DOT_NODE = re.compile(rf"^\s*{_DOT_NAME}\s*(?:\[.*\])?;\s*$", re.MULTILINE)

DVC_CONFIG = """\
[core]
    analytics = false
    check_update = false
    autostage = false
"""


# ----------------------------------------------------------------------------- results


@dataclass
class DvcCall:
    """One `dvc ARGS` (or git) process: what it printed (stdout then stderr) and how long it took."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip()

    def describe(self, lines: int = 60) -> str:
        text = "\n".join(self.output.splitlines()[-lines:])
        return f"$ {' '.join(self.args)}  (exit {self.returncode}, {self.seconds:.1f}s)\n{text}"


@dataclass
class Repro:
    """One `dvc repro`: which stages it ran, restored from the run cache, or skipped as unchanged."""

    call: DvcCall
    ran: list[str] = field(default_factory=list)  # "Running stage 'x':" in order
    cached: list[str] = field(default_factory=list)  # "Stage 'x' is cached - skipping run, ..."
    unchanged: list[str] = field(default_factory=list)  # "Stage 'x' didn't change, skipping"

    @classmethod
    def parse(cls, call: DvcCall) -> Repro:
        text = call.stdout + "\n" + call.stderr
        return cls(call, [m["stage"] for m in _RUNNING.finditer(text)], [m["stage"] for m in _CACHED.finditer(text)],
                   [m["stage"] for m in _UNCHANGED.finditer(text)])

    @property
    def ok(self) -> bool:
        return self.call.returncode == 0

    @property
    def reproduced(self) -> set[str]:
        """Stages whose outputs this repro (re)made: ran, or checked out from the run cache."""
        return set(self.ran) | set(self.cached)

    def describe(self) -> str:
        return (f"ran {self.ran}, from run cache {self.cached}, unchanged {self.unchanged}\n"
                f"{self.call.describe()}")


class DvcError(AssertionError):
    """A DVC or git call that had to succeed did not."""


# ----------------------------------------------------------------------------- the environment


def dvc_env(engine_bin: Path, scratch: Path) -> dict[str, str]:
    """The environment of every DVC and git process (see the module docstring)."""
    venv_bins = {str(ROOT / ".venv" / "bin"), str(engine_bin)}
    if os.environ.get("VIRTUAL_ENV"):
        venv_bins.add(str(Path(os.environ["VIRTUAL_ENV"]) / "bin"))
    path = [entry for entry in os.environ.get("PATH", "").split(os.pathsep)
            if entry and entry not in venv_bins and not (Path(entry).parent / "pyvenv.cfg").is_file()]
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "VIRTUAL_ENV", "GIT_", "DVC_", "AIRFLOW", "PREFECT", "DAGSHIFT_WORKDIR"))}
    for name in ("global", "system", "site-cache"):
        (scratch / f"dvc-{name}").mkdir(parents=True, exist_ok=True)
    env.update({
        "PATH": os.pathsep.join([*path, str(engine_bin)]),
        "SHELL": "/bin/sh",
        "DVC_NO_ANALYTICS": "1",
        "DVC_GLOBAL_CONFIG_DIR": str(scratch / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(scratch / "dvc-system"),
        "DVC_SITE_CACHE_DIR": str(scratch / "dvc-site-cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "dagshift tests", "GIT_AUTHOR_EMAIL": "tests@dagshift.invalid",
        "GIT_COMMITTER_NAME": "dagshift tests", "GIT_COMMITTER_EMAIL": "tests@dagshift.invalid",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    })
    return env


# ----------------------------------------------------------------------------- the engine


class DvcEngine:
    """The engine venv's `dvc`, a scratch directory, and fresh repositories to run in."""

    def __init__(self, python: Path, scratch: Path):
        self.python = python
        self.dvc = python.parent / "dvc"
        self.scratch = scratch
        self.env = dvc_env(python.parent, scratch)
        self._counter = 0
        self._lock = threading.Lock()
        if not self.dvc.is_file():
            raise DvcError(f"the DVC engine venv has no dvc executable: {self.dvc}")
        self.python3 = shutil.which("python3", path=self.env["PATH"])
        if self.python3 is None:
            raise DvcError(f"no python3 on the PATH the stages see: {self.env['PATH']}")

    def scratch_dir(self, prefix: str) -> Path:
        with self._lock:
            self._counter += 1
            path = self.scratch / f"{prefix}-{self._counter}"
        path.mkdir(parents=True)
        return path

    def repo(self, generated: Path | None = None, *, examples: bool = True,
             files: dict[str, str] | None = None) -> DvcRepo:
        """A committed git + DVC repository: a copy of examples/ (unless examples=False), then the
        files of GENERATED (a compile output folder) and FILES (relative path -> text) on top."""
        path = self.scratch_dir("repo") / "work"
        if examples:
            shutil.copytree(EXAMPLES, path, ignore=lambda d, names: [n for n in names if n in _NOT_COPIED])
        else:
            path.mkdir()
        repo = DvcRepo(self, path)
        repo.git("init", "-q")
        repo.dvc_call("init", "-q")
        (path / ".dvc" / "config").write_text(DVC_CONFIG, encoding="utf-8")
        overlay: dict[str, bytes] = {}
        if generated is not None:
            overlay.update({p.relative_to(generated).as_posix(): p.read_bytes()
                            for p in sorted(generated.rglob("*")) if p.is_file()})
        overlay.update({name: text.encode() for name, text in (files or {}).items()})
        for name, data in overlay.items():
            target = path / name
            if target.exists():
                raise DvcError(f"generated file {name} would overwrite {target} of the examples copy")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        repo.git("add", "-A")
        repo.git("commit", "-q", "--no-verify", "-m", "generated pipeline")
        return repo


# ----------------------------------------------------------------------------- one repository


class DvcRepo:
    """A repository made by DvcEngine.repo; every call is recorded in `calls`."""

    def __init__(self, engine: DvcEngine, path: Path):
        self.engine = engine
        self.path = path
        self.env = engine.env  # of every call; a test may put its own programs first on the PATH
        self.calls: list[DvcCall] = []
        self.repros: list[Repro] = []

    # -- processes

    def _run(self, argv: list[str], check: bool, timeout: int) -> DvcCall:
        started = time.monotonic()
        try:
            process = subprocess.run(argv, cwd=self.path, env=self.env, capture_output=True, text=True,
                                     errors="replace", timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired as error:
            out = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) else (error.stdout or "")
            raise DvcError(f"$ {' '.join(argv)}: no result after {timeout}s\n{out[-4000:]}") from None
        shown = ("dvc", *argv[1:]) if argv[0] == str(self.engine.dvc) else tuple(argv)
        call = DvcCall(shown, process.returncode, process.stdout, process.stderr, time.monotonic() - started)
        self.calls.append(call)
        if check and call.returncode != 0:
            raise DvcError(f"failed in {self.path}:\n{call.describe()}")
        return call

    def dvc_call(self, *args: str, check: bool = True, timeout: int = DVC_TIMEOUT) -> DvcCall:
        return self._run([str(self.engine.dvc), *args], check, timeout)

    def git(self, *args: str, check: bool = True) -> DvcCall:
        return self._run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args], check, 60)

    # -- DVC

    def repro(self, *args: str, check: bool = True) -> Repro:
        """`dvc repro ARGS`; check=True raises DvcError unless it succeeded."""
        call = self.dvc_call("repro", *args, check=False)
        result = Repro.parse(call)
        self.repros.append(result)
        if check and not result.ok:
            raise DvcError(f"dvc repro failed in {self.path}:\n{result.describe()}")
        return result

    def stages_run(self) -> list[str]:
        """The stages the last `dvc repro` ran, in order (not those restored from the run cache)."""
        assert self.repros, "no dvc repro yet"
        return list(self.repros[-1].ran)

    def dag(self) -> tuple[set[str], set[tuple[str, str]]]:
        """Stage names and (upstream, downstream) edges of `dvc dag --dot` (foreach runs as `name@key`)."""
        text = self.dvc_call("dag", "--dot").stdout
        edges = {(_unquote(a), _unquote(b)) for a, b in _DOT_EDGE.findall(text)}
        nodes = {_unquote(n) for n in _DOT_NODE.findall(text)} | {n for edge in edges for n in edge}
        if "digraph" not in text:
            raise DvcError(f"`dvc dag --dot` printed no graph:\n{text[-3000:]}")
        return nodes, edges

    def dag_edges(self) -> set[tuple[str, str]]:
        return self.dag()[1]

    def status(self) -> dict[str, Any]:
        """`dvc status --json`: {} when data and pipelines are up to date, else what changed per stage."""
        call = self.dvc_call("status", "--json")
        try:
            return json.loads(call.stdout.strip().splitlines()[-1]) if call.stdout.strip() else {}
        except json.JSONDecodeError:
            raise DvcError(f"`dvc status --json` printed no JSON:\n{call.describe()}") from None

    def up_to_date(self) -> bool:
        return self.status() == {}

    # -- files

    def read_yaml(self, name: str) -> Any:
        """A YAML (or JSON) file of the repository, as plain data."""
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load((self.path / name).read_text(encoding="utf-8"))

    def lock(self) -> dict[str, Any]:
        """dvc.lock's stages (name -> entry), {} before the first repro."""
        lock = self.path / "dvc.lock"
        return (self.read_yaml("dvc.lock") or {}).get("stages", {}) if lock.is_file() else {}

    def get_param(self, name: str, file: str = "params.yaml") -> Any:
        value = self.read_yaml(file)
        for part in name.split("."):
            value = value[part]
        return value

    def set_param(self, name: str, value: Any, file: str = "params.yaml") -> None:
        """Set NAME (dotted for nested keys, e.g. `train.lr`) in the params file, changing nothing
        else: a JSON file stays JSON (same key order, 2-space indent), YAML keeps its comments and
        layout (ruamel round trip)."""
        path = self.path / file
        text = path.read_text(encoding="utf-8")
        *parents, last = name.split(".")
        if text.lstrip().startswith("{"):
            data = json.loads(text)
            _descend(data, parents, name)[last] = value
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            return
        from ruamel.yaml import YAML

        yaml = YAML()  # round trip
        yaml.preserve_quotes = True
        yaml.width = 1 << 16  # never fold a long line
        yaml.representer.add_representer(
            type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null"))
        data = yaml.load(text)
        _descend(data, parents, name)[last] = value
        with path.open("w", encoding="utf-8") as stream:
            yaml.dump(data, stream)

    # -- reporting

    def seconds(self) -> float:
        return sum(call.seconds for call in self.calls)

    def timings(self) -> str:
        return ", ".join(f"{' '.join(c.args[:2])} {c.seconds:.1f}s" for c in self.calls)


def _descend(data: Any, parents: list[str], name: str) -> Any:
    for part in parents:
        if not isinstance(data, dict) or part not in data:
            raise KeyError(f"param {name!r}: no {part!r} in the params file")
        data = data[part]
    if not isinstance(data, dict):
        raise KeyError(f"param {name!r}: its parent is not a mapping")
    return data


def _unquote(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


def task_of(stage: str) -> str:
    """The task id of a stage name: a foreach run `train@logreg` (or `tune@0`) belongs to `train`."""
    return stage.split("@", 1)[0]


# ----------------------------------------------------------------------------- compiling


def compile_dvc(source: Path, outdir: Path, *options: str) -> Compiled:
    """`dagshift compile SOURCE -t dvc -o OUTDIR OPTIONS` through the real CLI; `files` are every
    file written (dvc.yaml, params.yaml, .dagshift/...), not only Python files."""
    from engine_harness import compile_pipeline

    compiled = compile_pipeline(source, outdir, *options, target="dvc")
    files = sorted(p for p in outdir.rglob("*") if p.is_file()) if outdir.exists() else []
    return Compiled(compiled.exit_code, compiled.output, files, compiled.exception)
