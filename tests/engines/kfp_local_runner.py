"""Runs inside the kubeflow engine venv (scripts/engines/kubeflow.txt): run a generated Kubeflow
Pipelines module on kfp.local, without Kubernetes, and print one JSON report.

    python kfp_local_runner.py MODULE.py WORKDIR [--arg NAME=JSON ...] [--pipeline-root DIR]

MODULE.py follows the contract of kfp_inspect.py (exactly one module-level `@dsl.pipeline`
function, as `kfp dsl compile --py` wants). The runner changes into WORKDIR, puts it first on
sys.path and on PYTHONPATH, calls `kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False),
pipeline_root=WORKDIR/.kfp-local/outputs)` and then calls that pipeline with `**args`. Each task
runs as a subprocess of this process, with this venv's Python and WORKDIR as its working directory,
so a component body can import modules that sit in WORKDIR (`from jobs import prepare`) and read or
write files relative to it.

What kfp.local 2.17.3 runs with SubprocessRunner (tried with tests/engines/fixtures/*.py):
- Lightweight python components (`@dsl.component`), with parameters, returns and Input/Output
  artifacts (files under the pipeline root; artifact metadata survives, ints come back as floats).
- Control flow (kfp.local's "enhanced" DAG orchestrator, used as soon as the root DAG has a sub-DAG,
  a condition, an iterator or an exit handler): ParallelFor over a static list and over an upstream
  output, honouring `parallelism`; `dsl.Collected` fan-in (the collected ints arrive as floats:
  [1.0, 4.0, 9.0]); dsl.If/Elif/Else and the deprecated dsl.Condition; `dsl.OneOf` pipeline outputs;
  ExitHandler with a PipelineTaskFinalStatus exit task, which runs after a failure as well and sees
  state "FAILED", pipeline_task_name "exit-handler-1" (the group's task, not the failed task),
  error_code 1.0 (a float); `.after()`; `ignore_upstream_failure()` (the task runs, the pipeline
  still ends FAILURE).
- `set_retry`: a failing task really is re-run (num_retries=2 gives 3 attempts); the backoff is
  honoured too, so keep it short in tests.
- Ignored: `set_cpu_limit`/`set_memory_limit` etc. (a UserWarning "have no effect in the current
  local runner"), `set_caching_options` (kfp.local.init caches nothing by default), and the whole
  PlatformSpec: kfp-kubernetes (`use_secret_as_env`, `set_timeout`) and `PipelineConfig` do nothing,
  silently; only the PipelineSpec is run.
- Cannot run: container components (`dsl.container_component`) and containerized python components
  (`target_image`) need DockerRunner, which needs a Docker daemon (there is none here); the run
  fails with "The SubprocessRunner only supports running Lightweight Python Components. You are
  attempting to run a Container Component." (after a RuntimeWarning about the non-python image).
  Importers (`dsl.importer`) are handled by kfp.local itself, not tried here.
- Every lightweight component's command starts with `pip install kfp==2.17.3` (a no-op here, it is
  installed) plus its `packages_to_install`. With use_venv=False those would go into the cached
  engine venv, so the runner sets PIP_NO_INDEX=1: an already installed requirement passes, a
  missing one fails the task ("No matching distribution found") instead of changing the venv.

Report (the last line of stdout; everything kfp.local prints goes to stderr):
    {"ok": true | false, "status": "SUCCESS" | "FAILURE" | null, "stage": null | "usage" | "import" |
     "contract" | "run", "error": null | "Pipeline 'x' finished with status FAILURE. Inner task failed:
     'boom' inside 'exit-handler-1'.", "pipeline": "kfp-local-sample", "arguments": {...},
     "pipelineOutputs": {...},            # what the pipeline call returned (its declared outputs)
     "pipelineRoot": "/abs/.kfp-local/outputs", "runDir": "/abs/.kfp-local/outputs/NAME-TIMESTAMP",
     "tasks": {"make-list": {"parameters": {"Output": [1, 2, 3]}, "artifacts": {}},
               "for-loop-2-iteration-0/square": {...},
               "prep": {"parameters": {}, "artifacts": {"out": [{"uri": "/abs/.../prep/out",
                                                                  "metadata": {"rows": 3}}]}}},
     "warnings": [{"category": "UserWarning", "message": "...", "where": "file:line"}],
     "seconds": 7.2}
`tasks` holds every task that wrote an executor output (a failed task writes none), keyed by its
directory under the run: the task name, below its ParallelFor iteration (`for-loop-N-iteration-I`).
Exit status: 0 when the pipeline ran and succeeded, 1 when it ran and failed (status FAILURE), 2 when
it could not be run (bad arguments, import or contract errors); a report is printed in every case.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from kfp_inspect import Failure, pipeline_of  # one contract for both scripts (this directory is sys.path[0])

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def parse_args(argv: list[str]) -> tuple[Path, Path, dict[str, Any], Path | None]:
    usage = "usage: kfp_local_runner.py MODULE.py WORKDIR [--arg NAME=JSON ...] [--pipeline-root DIR]"
    positional, arguments, root = [], {}, None
    items = iter(argv)
    for item in items:
        if item in ("--arg", "--pipeline-root"):
            value = next(items, None)
            if value is None:
                raise Failure("usage", f"{item} needs a value; {usage}")
            if item == "--pipeline-root":
                root = Path(value).resolve()
                continue
            name, equals, text = value.partition("=")
            if not equals or not name.isidentifier():
                raise Failure("usage", f"--arg {value!r}: expected NAME=JSON")
            try:
                arguments[name] = json.loads(text)
            except ValueError as error:
                raise Failure("usage", f"--arg {name}: {text!r} is not JSON ({error}); a string needs quotes: "
                                       f"{name}='\"text\"'") from None
        elif item.startswith("-"):
            raise Failure("usage", f"unknown option {item}; {usage}")
        else:
            positional.append(item)
    if len(positional) != 2:
        raise Failure("usage", usage)
    module, workdir = Path(positional[0]).resolve(), Path(positional[1]).resolve()
    if not module.is_file():
        raise Failure("usage", f"no such module file: {module}")
    if not workdir.is_dir():
        raise Failure("usage", f"no such working directory: {workdir}")
    return module, workdir, arguments, root


def load_pipeline(path: Path) -> Any:
    sys.path.append(str(path.parent))  # after WORKDIR: the working directory's modules win
    spec = importlib.util.spec_from_file_location(f"kfp_generated_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:  # noqa: BLE001
        raise Failure("import", f"importing {path} failed: {type(error).__name__}: {error}\n"
                                f"{traceback.format_exc(limit=-3)}") from None
    return pipeline_of(module, path)


def task_outputs(run_dir: Path | None) -> dict[str, Any]:
    """{task dir under the run: {"parameters": {...}, "artifacts": {name: [{"uri", "metadata"}]}}}."""
    found: dict[str, Any] = {}
    if run_dir is None:
        return found
    for output in sorted(run_dir.rglob("executor_output.json")):
        key = output.parent.relative_to(run_dir).as_posix()
        try:
            data = json.loads(output.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            found[key] = {"error": f"unreadable executor output: {error}"}
            continue
        artifacts = {name: [{"uri": a.get("uri"), "metadata": a.get("metadata", {})}
                            for a in (listing.get("artifacts") or [])]
                     for name, listing in (data.get("artifacts") or {}).items()}
        found[key] = {"parameters": data.get("parameterValues") or {}, "artifacts": artifacts}
    return found


def _plain(value: Any) -> Any:
    """Pipeline outputs as JSON: artifacts by their uri and metadata."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "uri") and hasattr(value, "metadata"):
        return {"uri": value.uri, "metadata": _plain(value.metadata)}
    return value


def run(argv: list[str], report: dict[str, Any], caught: list[warnings.WarningMessage]) -> int:
    module, workdir, arguments, root = parse_args(argv)
    report["arguments"] = arguments
    os.chdir(workdir)
    sys.path.insert(0, str(workdir))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(workdir), os.environ.get("PYTHONPATH")]))
    os.environ["PIP_NO_INDEX"] = "1"  # see the docstring: never change the cached engine venv
    root = root or workdir / ".kfp-local" / "outputs"
    root.mkdir(parents=True, exist_ok=True)
    report["pipelineRoot"] = str(root)
    before = set(root.iterdir())

    import kfp.local

    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        try:
            pipeline = load_pipeline(module)
            report["pipeline"] = pipeline.name
            kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=str(root),
                           raise_on_error=True)
            started = time.monotonic()
            try:
                task = pipeline(**arguments)
            except RuntimeError as error:  # kfp.local: "Pipeline 'x' finished with status FAILURE. ..."
                report.update(status="FAILURE", stage="run", error=_ANSI.sub("", str(error)))
            except Exception as error:  # noqa: BLE001 - a bad argument, a kfp.local limitation, ...
                report.update(status=None, stage="run",
                              error=f"{type(error).__name__}: {_ANSI.sub('', str(error))}")
            else:
                report.update(status="SUCCESS", pipelineOutputs=_plain(dict(task.outputs)))
            report["seconds"] = round(time.monotonic() - started, 2)
        finally:
            caught.extend(recorded)
    new = sorted(path for path in set(root.iterdir()) - before if path.is_dir())
    run_dir = new[-1] if new else None
    report["runDir"] = str(run_dir) if run_dir else None
    report["tasks"] = task_outputs(run_dir)
    report["ok"] = report["status"] == "SUCCESS"
    return 0 if report["ok"] else 1


def main(argv: list[str]) -> int:
    stdout = os.dup(1)
    os.dup2(2, 1)  # kfp.local prints the tasks' logs: keep stdout for the report
    sys.stdout = os.fdopen(os.dup(2), "w", buffering=1)
    report: dict[str, Any] = {"ok": False, "status": None, "stage": None, "error": None, "pipeline": None,
                              "arguments": {}, "pipelineOutputs": {}, "pipelineRoot": None, "runDir": None,
                              "tasks": {}, "seconds": None}
    caught: list[warnings.WarningMessage] = []
    try:
        code = run(argv, report, caught)
    except Failure as failure:
        report.update(stage=failure.stage, error=str(failure))
        code = 2
    except Exception:  # noqa: BLE001
        report.update(stage="internal", error=traceback.format_exc())
        code = 2
    if report["error"]:
        print(f"kfp_local_runner.py: {report['stage']}: {report['error']}", file=sys.stderr)
    report["warnings"] = [{"category": w.category.__name__, "message": _ANSI.sub("", str(w.message)),
                           "where": f"{w.filename}:{w.lineno}"} for w in caught]
    sys.stdout.flush()
    sys.stderr.flush()
    with os.fdopen(stdout, "w") as out:
        out.write(json.dumps(report, sort_keys=True, default=repr) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
