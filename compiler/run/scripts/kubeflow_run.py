"""Runs inside the kfp interpreter (never imported by dagshift): one call of a compiled Kubeflow
Pipelines module's pipeline on kfp.local with the SubprocessRunner, reporting every task's state
changes as they happen.

    python kubeflow_run.py MODULE PIPELINE_FUNCTION ARGUMENTS_JSON LOG_FILE PIPELINE_ROOT

The working directory is the run's (set by the caller): every task runs there, as a subprocess of
this process with this interpreter (use_venv=False), so a python task imports the user's modules
from it. PIP_NO_INDEX=1 (set by the caller) keeps the `pip install kfp` each lightweight component
starts with from changing the engine's environment. Standard output carries only the protocol
(_protocol.py, copied beside this file); everything else goes to LOG_FILE. Standard library and
kfp only: this file is copied and run by path.

kfp.local runs the tasks in this process, one after the other, but a ParallelFor's iterations in
threads: the hooks below wrap its task executor (one call per task, retries included; the task's
`taskInfo.name` is dagshift's task id) and its task dispatcher (one call per try).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
import threading
import time
import traceback

from _protocol import EVENT, SUMMARY, load_module, redirect_output, send, stop_on_sigterm

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ITERATION = re.compile(r"-iteration-(\d+)$")
# kfp.local's RuntimeError when a task failed (raise_on_error): a failed run, not a broken one.
_FAILED_RUN = re.compile(r"^Pipeline .* finished with status FAILURE")


class Task:
    """One task (or ParallelFor iteration) as the hooks see it."""

    def __init__(self, name: str, instance: str | None, retries: int):
        self.name, self.instance, self.retries = name, instance, retries
        self.tries = 0
        self.state = "started"
        self.started = self.ended = None
        self.artifacts: dict[str, str] = {}  # output name -> the file (or folder) kfp.local stored
        self.returned = None  # the component's return value: its one output, or a dict of them

    def event(self, state: str) -> None:
        send(EVENT, {"task": self.name, "instance": self.instance, "state": state, "try": max(self.tries, 1),
                     "time": time.time()})

    def summary(self) -> dict:
        seconds = self.ended - self.started if self.started is not None and self.ended is not None else None
        return {"task": self.name, "instance": self.instance, "state": self.state, "tries": self.tries,
                "seconds": seconds, "artifacts": self.artifacts}


class Hooks:
    """Wraps kfp.local's task executor and task dispatcher to see each task and each try."""

    def __init__(self):
        self.tasks: list[Task] = []
        self.current = threading.local()  # the task this thread runs (iterations run in threads)

    def install(self) -> None:
        from kfp.local import task_dispatcher
        from kfp.local.orchestrator import task_executor

        # Both orchestrators call these through their modules' attributes, at call time.
        task_executor.execute_single_task = self._task(task_executor.execute_single_task)
        task_dispatcher.run_single_task_implementation = self._try(task_dispatcher.run_single_task_implementation)

    def _task(self, original):
        signature = inspect.signature(original)

        def execute_single_task(*args, **kwargs):
            bound = signature.bind(*args, **kwargs).arguments
            spec = bound["task_spec"]
            name = spec.task_info.name or bound["task_name"]
            found = _ITERATION.search(bound["pipeline_resource_name"].rsplit("/", 1)[-1])
            task = Task(name, found[1] if found else None, max(spec.retry_policy.max_retry_count, 0))
            self.tasks.append(task)
            self.current.task = task
            try:
                outputs, status = original(*args, **kwargs)
            except BaseException:
                self._end(task, "failed")
                raise
            finally:
                self.current.task = None
            succeeded = getattr(status, "name", str(status)) == "SUCCESS"
            if succeeded:
                task.artifacts = {key: str(value.uri) for key, value in outputs.items()
                                  if isinstance(getattr(value, "uri", None), str)}
                values = {key: value for key, value in outputs.items() if key not in task.artifacts}
                task.returned = values["Output"] if list(values) == ["Output"] else values  # kfp's single return
            self._end(task, "succeeded" if succeeded else "failed")
            return outputs, status

        return execute_single_task

    def _try(self, original):
        def run_single_task_implementation(*args, **kwargs):
            task = getattr(self.current, "task", None)
            if task is None:  # not one of the executor's tasks (kfp.local's single-component runs)
                return original(*args, **kwargs)
            task.tries += 1
            if task.started is None:
                task.started = time.time()
            task.event("started")
            outputs, status = original(*args, **kwargs)
            if getattr(status, "name", str(status)) != "SUCCESS" and task.tries <= task.retries:
                task.event("retried")  # kfp.local waits the backoff, then tries again
            return outputs, status

        return run_single_task_implementation

    @staticmethod
    def _end(task: Task, state: str) -> None:
        """The task's last event; a task that never tried (an importer) has its start too."""
        if task.tries == 0:
            task.tries, task.started = 1, time.time()
            task.event("started")
        task.state, task.ended = state, time.time()
        task.event(state)


def _use_workdir() -> None:
    """The tasks import the user's modules from the working directory (the harness's setup); set
    here, after this script's own imports, so no file of the user's can stand in for one."""
    workdir = os.getcwd()
    sys.path.insert(0, workdir)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [workdir, os.environ.get("PYTHONPATH")]))


def main(argv: list[str]) -> int:
    module_path, function, arguments, log_file, root = argv[0], argv[1], json.loads(argv[2]), argv[3], argv[4]
    redirect_output(log_file)
    stop_on_sigterm()
    hooks = Hooks()
    try:
        import kfp.local

        hooks.install()
        pipeline = getattr(load_module(module_path, "dagshift_generated_pipeline"), function)
        _use_workdir()
        os.makedirs(root, exist_ok=True)
        kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=root, raise_on_error=True)
    except Exception as error:  # noqa: BLE001 - reported as the run's error
        traceback.print_exc()
        send(SUMMARY, {"state": "error", "error": f"{type(error).__name__}: {error}", "tasks": []})
        return 1
    state, error = "success", None
    try:
        pipeline(**arguments)
    except Exception as raised:  # noqa: BLE001 - a failed task, or an argument or task kfp.local refuses
        message = _ANSI.sub("", str(raised))
        if _FAILED_RUN.match(message):
            print(message, file=sys.stderr)  # the task's own traceback is in the log already
            state = "failed"
        else:
            traceback.print_exc()
            state, error = "error", f"{type(raised).__name__}: {message}"
    returned = [{"task": task.name, "instance": task.instance, "value": task.returned} for task in hooks.tasks
                if task.state == "succeeded" and task.returned is not None]
    send(SUMMARY, {"state": state, "error": error, "tasks": [task.summary() for task in hooks.tasks],
                   "returned": returned})
    return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
