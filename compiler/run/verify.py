"""`dagshift verify SOURCE CONVERTED`: two forms of one pipeline (an Airflow DAG file and its
conversion to Prefect, one pipeline on two targets...) run on their real engines at the same
time, each in its own copy of the working directory; then the files each run left and the
tasks' value outputs are compared byte for byte. A migration is then proven, not assumed.

The copies and the runs' logs go to one folder outside the working directory (an engine must not
see the user's repository around its copy); it is removed when the runs agree, unless asked to
keep it, and kept to look into when they do not.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic

from .differences import Difference, compare_files, compare_values
from .engine import ENGINES, interpreter, probe
from .events import RunResult, TaskEvent
from .forms import Form, resolve
from .process import engine_pool
from .runs import start_run
from .workspace import Snapshot, changed, copy_workdir, snapshot

ROLES = ("source", "converted")


@dataclass
class Side:
    form: Form
    copy: Path | None = None
    result: RunResult | None = None
    changed: set[str] = field(default_factory=set)

    @property
    def role(self) -> str:
        return self.form.role

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "file": str(self.form.path), "target": self.form.target,
                "native": self.form.native, "run": None if self.result is None else self.result.to_dict()}


@dataclass
class Verification:
    sides: list[Side]
    diagnostics: list[Diagnostic]
    files_compared: int = 0
    values_compared: int = 0
    differences: list[Difference] = field(default_factory=list)
    folder: Path | None = None  # the copies and logs, when kept

    @property
    def ran(self) -> bool:
        return all(side.result is not None for side in self.sides) and len(self.sides) == 2

    @property
    def succeeded(self) -> list[bool]:
        return [side.result is not None and side.result.succeeded for side in self.sides]

    @property
    def same(self) -> bool:
        """Both runs succeeded and left the same files and values."""
        return self.ran and all(self.succeeded) and not self.differences


def verify(source: Path, converted: Path, *, targets: dict[str, str | None], workdir: Path,
           engine_pythons: dict[str, str], keep: bool, pairs: list[tuple[str, str]] = (),
           on_event: Callable[[str, TaskEvent, int, int], None], on_note: Callable[[str, str], None],
           on_start: Callable[[str, Form], None]) -> Verification:
    """Run SOURCE and CONVERTED at once (TARGETS: each role's --ROLE-target), then compare what they left.
    ENGINE_PYTHONS: target -> interpreter (key "" for every target); PAIRS: the --param values,
    for both runs. Nothing raises for bad input: a side that cannot run is diagnostics in the
    result."""
    workdir = workdir.resolve()
    forms = [resolve(role, path, targets.get(role), workdir, list(pairs))
             for role, path in zip(ROLES, (source, converted))]
    diagnostics = [d for form in forms for d in form.diagnostics]
    sides = [Side(form) for form in forms]
    if any(form.launch is None for form in forms):
        return Verification(sides, diagnostics)
    pythons = [interpreter(engine_pythons.get(form.target) or engine_pythons.get("")) for form in forms]
    missing = [problem for form, python in zip(forms, pythons) if (problem := probe(ENGINES[form.target], python))]
    if missing:  # before either run starts
        return Verification(sides, diagnostics + missing)
    folder = Path(tempfile.mkdtemp(prefix="dagshift-verify-"))
    befores: dict[str, Snapshot] = {}
    for side in sides:
        side.copy = folder / side.role
        copy_workdir(workdir, side.copy)
        befores[side.role] = snapshot(side.copy)

    def run_side(side: Side, python: Path) -> list[Diagnostic]:
        assert side.form.launch is not None and side.copy is not None
        on_start(side.role, side.form)
        side.result, problems = start_run(
            side.form.launch, workdir=side.copy, logs=folder / f"{side.role}-logs", engine_python=str(python),
            on_event=lambda event, done, total: on_event(side.role, event, done, total),
            on_note=lambda text: on_note(side.role, text), probed=True)
        return problems

    try:
        with engine_pool(len(sides)) as pool:
            futures = [pool.submit(run_side, side, python) for side, python in zip(sides, pythons)]
            for problems in [future.result() for future in futures]:
                diagnostics += [d for d in problems if d not in diagnostics]
    except BaseException:  # interrupted: the engines are stopped, their copies go too
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    verification = Verification(sides, diagnostics, folder=folder)
    if verification.ran:
        _compare(verification, befores)
    if (verification.same or not verification.ran) and not keep:  # kept: runs that disagree, or failed
        shutil.rmtree(folder, ignore_errors=True)
        verification.folder = None
    return verification


def _compare(verification: Verification, befores: dict[str, Snapshot]) -> None:
    source, converted = verification.sides
    for side in verification.sides:
        assert side.copy is not None and side.form.launch is not None
        installed = set(side.form.launch.files)  # a DVC side's dvc.yaml and params.yaml: not the tasks'
        side.changed = changed(befores[side.role], snapshot(side.copy)) - installed
    paths = source.changed | converted.changed
    assert source.copy is not None and converted.copy is not None
    verification.files_compared = len(paths)
    verification.differences = compare_files(paths, source.copy, converted.copy)
    assert source.result is not None and converted.result is not None
    values = compare_values(source.result.values, converted.result.values)
    verification.values_compared = len(source.result.values.keys() | converted.result.values.keys())
    verification.differences += values
