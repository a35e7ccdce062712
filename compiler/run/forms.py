"""One side of `dagshift verify`: a file and the engine it runs on, made ready to run.

A file in a target's own format (an Airflow DAG file, a Prefect flow module, a dvc.yaml) runs as
it stands, on that target's engine: that is what a migration hands over, and a hand edit in it
must show. Its import gives the pipeline the run needs beside the file (the task ids to report,
the outputs to read). Any other file is a dagshift pipeline, compiled for the target named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.api import check_text
from compiler.diagnostics import Diagnostic, Diagnostics, Severity

from .params import read_params
from .prepare import Prepared, load
from .runs import RUNNERS, Launch, target_problem

# The formats whose files an engine here runs as they stand.
NATIVE = {"airflow": "an Airflow DAG file", "prefect": "a Prefect flow module", "dvc": "a dvc.yaml"}
DVC_BESIDE = ("params.yaml",)  # read by the stages of a dvc.yaml, next to it
DVC_RUNNER_DIR = ".dagshift"  # dagshift's runner and its specs, next to a dvc.yaml it wrote


@dataclass
class Form:
    role: str  # "source" or "converted": how reports name this side
    path: Path
    target: str
    native: bool  # the file is the target's own, run as it stands
    launch: Launch | None  # None when it cannot run (diagnostics say why)
    diagnostics: Diagnostics

    @property
    def label(self) -> str:
        kind = NATIVE[self.target] if self.native else f"a dagshift pipeline compiled for {self.target}"
        return f"{self.path} ({kind})"


def resolve(role: str, path: Path, target: str | None, workdir: Path, pairs: list[tuple[str, str]] = ()) -> Form:
    """PATH as ROLE's side: a target's own file runs on that target (TARGET, when given, must be
    it); a dagshift pipeline runs on TARGET, which it needs. PAIRS: the --param values, read as
    the types of the params the side's pipeline declares."""
    from compiler.importers import detect

    option = f"--{role}-target"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return _refused(role, path, "", f"cannot read {path}: {error.strerror or error}", "check the path")
    importer = detect(path, text)
    if importer is None:
        if target is None:
            return _refused(role, path, "", f"{path} is a dagshift pipeline: which engine should run it?",
                            f"name one with {option} airflow|prefect|dvc|kubeflow")
        return _compiled(role, path, target, pairs)
    if importer.name not in NATIVE:
        return _refused(role, path, importer.name, f"{path} is {importer.title}: verify runs only "
                        f"{', '.join(NATIVE.values())} as they stand",
                        f"convert it (`dagshift convert {path} --to airflow -o DIR`) and verify the conversion")
    if target not in (None, importer.name):
        return _refused(role, path, importer.name, f"{path} is {NATIVE[importer.name]}: it runs on "
                        f"{importer.name}, not {target}", f"drop {option}, or give a dagshift pipeline file")
    return _native(role, path, importer.name, workdir, pairs)


def _refused(role: str, path: Path, target: str, message: str, help_: str) -> Form:
    return Form(role, path, target, False, None, Diagnostics([Diagnostic("E806", Severity.ERROR, message,
                                                                       help=help_)]))


def _compiled(role: str, path: Path, target: str, pairs: list[tuple[str, str]]) -> Form:
    problem = target_problem(target)
    if problem is not None:
        return Form(role, path, target, False, None, Diagnostics([problem]))
    prepared = load(str(path))
    if prepared.pipeline is None:
        return Form(role, path, target, False, None, prepared.diagnostics)
    params, problems = read_params(pairs, prepared.pipeline)
    if problems.has_errors:
        return Form(role, path, target, False, None, Diagnostics([*prepared.diagnostics, *problems]))
    files = RUNNERS[target].compile_for_run(prepared, params)
    launch = Launch(target, prepared, files, params) if files else None
    return Form(role, path, target, False, launch, prepared.diagnostics)


def _native(role: str, path: Path, target: str, workdir: Path, pairs: list[tuple[str, str]]) -> Form:
    from compiler.importers import import_file, pipeline_yaml

    imported = import_file(path, target)
    diagnostics = Diagnostics([d for result in imported for d in result.diagnostics])
    if diagnostics.has_errors:
        return Form(role, path, target, True, None, diagnostics)
    if len(imported) != 1:
        diagnostics.add(Diagnostic("E806", Severity.ERROR, f"{path} holds {len(imported)} pipelines: verify "
                                      "runs one", help="put the pipeline to verify in a file of its own"))
        return Form(role, path, target, True, None, diagnostics)
    loaded = check_text(pipeline_yaml(imported[0]), f"{path} (imported)")
    prepared = Prepared(loaded, Diagnostics(loaded.diagnostics.sorted()))
    if prepared.pipeline is None:
        return Form(role, path, target, True, None, Diagnostics([*diagnostics, *prepared.diagnostics]))
    if pairs and target == "dvc":  # its stages read params.yaml, which is the user's
        diagnostics.add(Diagnostic("E806", Severity.ERROR, f"{path} is a dvc.yaml: its params come from "
                                      "params.yaml, which verify does not change",
                                      help="set the values in params.yaml (or give the dagshift pipeline with "
                                           "--source-target dvc), and verify without --param"))
        return Form(role, path, target, True, None, diagnostics)
    params, problems = read_params(pairs, prepared.pipeline)
    if problems.has_errors:
        return Form(role, path, target, True, None, Diagnostics([*diagnostics, *problems]))
    launch = Launch(target, prepared, native_files(path, target, workdir), params, native=True)
    return Form(role, path, target, True, launch, diagnostics)


def native_files(path: Path, target: str, workdir: Path) -> dict[str, str]:
    """What a native run installs: the file itself; for a dvc.yaml outside the working directory's
    top, also what its stages read beside it (params.yaml, dagshift's runner in .dagshift/), all at
    the top of the working directory's copy, where DVC runs them. A dvc.yaml at the top of the
    working directory is in the copy already."""
    if target != "dvc":
        return {path.name: path.read_text(encoding="utf-8")}
    folder = path.resolve().parent
    if folder == workdir.resolve():
        return {}
    files = {"dvc.yaml": path.read_text(encoding="utf-8")}
    for name in DVC_BESIDE:
        if (folder / name).is_file():
            files[name] = (folder / name).read_text(encoding="utf-8")
    runner = folder / DVC_RUNNER_DIR
    for file in sorted(runner.iterdir()) if runner.is_dir() else []:  # its folders hold runs' output
        if file.is_file():
            files[f"{DVC_RUNNER_DIR}/{file.name}"] = file.read_text(encoding="utf-8")
    return files
