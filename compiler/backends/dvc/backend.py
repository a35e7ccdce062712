"""DVC 3 backend: `dvc.yaml` (one stage per task) and `params.yaml`, plus `.dagshift/` with a small
runner and one JSON file of specs, `.dagshift/tasks.json`, for the tasks that need it.

DVC links stages only through paths: a consumed artifact is a dep of the consumer and an out of
its producer; a value output is a file under `.dagshift/outputs/` that the producer writes and the
consumer depends on; an order-only edge is a sentinel `.dagshift/done/<task>` (cache: false).
Params live in `params.yaml` and every stage lists the params it reads, because DVC does not
track values used only through `${}`.

A stage's cmd shows what it runs: a shell command as written when every shell reads it alike,
else as `bash -c '...'` (dvc_shell.py); a python task as `python3 -c '...'` importing and calling
the function (dvc_python.py), its module's file a dep. Number params are DVC's `${name}`. What DVC
cannot hand over exactly (text params, upstream values, env, containers, line breaks, emulated
retries) runs through `.dagshift/run.py TASK DIGEST`, which reads the task's spec from
`.dagshift/tasks.json` and resolves placeholders at run time: user text is data in a JSON file,
never part of a command line DVC or a shell would parse. DIGEST (spec_digest) is the spec's hash:
a changed spec changes exactly its stage's cmd, so DVC re-runs exactly that stage, and the runner
refuses a spec that no longer matches it. Details: docs/backends/dvc.md.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from pathlib import Path
from typing import Any, Mapping

from compiler.backends.base import Backend, EmitContext, Level, Support, TaskCost, emulated, native, unsupported
from compiler.backends.specs import texts_in, value_spec
from compiler.language.features import Feature
from compiler.language.graph import topological_order
from compiler.language.ir import ArtifactKind, Pipeline, Task, ValueType
from compiler.language.placeholders import Ref
from compiler.language.placeholders import parse as parse_placeholders
from compiler.language.references import task_refs
from compiler.output import emit
from compiler.output.yaml_out import BlockText

from . import python as dvc_python
from . import shell as dvc_shell
from .conventions import ARGS_SUFFIX, DONE_DIR, HEADER_TITLE, OUTPUTS_DIR, PYTHON_COMMAND, RUNNER, SPEC_KEY, TASKS_FILE
from .limits import (
    DOLLAR_IN_ITEMS,
    DOLLAR_IN_PATH,
    FANNED_OUT_FILE,
    ITEM_NAMES,
    ITEMS_ALIKE,
    LIMITS,
    PARAM_DEFAULT,
    PARAM_KEY_LENGTH,
    WORKDIR_OUTSIDE,
    YAML_KEY_LIMIT,
)

PARAMS_FILE = "params.yaml"
_NUMBER_PARAMS = (ValueType.INT, ValueType.FLOAT)
# Characters YAML does not take raw: DEL, C1 controls, NEL, LS, PS, BOM, U+FFFE, U+FFFF.
_NOT_RAW_IN_YAML = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
# DVC's own variables in a foreach stage: `${item}` / `${key}` there are the run's, never a param's.
_FOREACH_VARIABLES = ("item", "key")


class DvcBackend(Backend):
    name = "dvc"
    title = "DVC"
    cost = TaskCost(0.0, "stages run one after another in one process; fusing would only lose per-stage caching")
    render_weight = 1.5
    capabilities = {
        Feature.SHELL: native("the stage's cmd, as `bash -c '...'` unless every shell reads it alike"),
        Feature.PYTHON: emulated("cmd: python3 -c '...' importing module:function and calling it; its file is a dep"),
        Feature.CONTAINER: emulated("`docker run` of the image, the repository mounted as the working directory"),
        Feature.PYTHON_IN_IMAGE: unsupported("run the function from a shell command: docker run IMAGE python -c ..."),
        Feature.NOOP: native("a stage that only marks itself done"),
        Feature.ORDER_EDGE: emulated("a sentinel file .dagshift/done/TASK (cache: false): an out upstream, a dep downstream"),
        Feature.ARTIFACTS: native("outs and deps (metrics and plots by kind); URIs are passed as text"),
        Feature.VALUE_OUTPUTS: emulated("files under .dagshift/outputs/ (cache: false), read by the consumer"),
        Feature.PARAMS: native("params.yaml, listed in each stage's params"),
        Feature.SCHEDULE: unsupported("run `dvc repro` from cron or a scheduled CI job"),
        Feature.CATCHUP: unsupported("run `dvc repro` for each missed interval from a script"),
        Feature.DATA_TRIGGER: unsupported(
            "DVC re-runs the stages whose deps changed: run `dvc repro` when the data lands (CI on push, a watcher)"),
        Feature.MANUAL_TRIGGER: native("`dvc repro`"),
        Feature.CONTINUOUS_TRIGGER: unsupported("run `dvc repro` in a loop from a shell or CI job"),
        Feature.RETRIES: unsupported("retry inside the command (a shell loop), or re-run `dvc repro`"),
        Feature.RETRY_BACKOFF: unsupported("retry inside the command"),
        Feature.RETRY_MAX_DELAY: unsupported("retry inside the command"),
        Feature.TIMEOUT: unsupported("`timeout SECONDS CMD` inside the command"),
        Feature.PIPELINE_TIMEOUT: unsupported("`timeout SECONDS dvc repro`"),
        Feature.CONDITION: unsupported(
            "decide inside the command, or split the pipeline and run `dvc repro STAGE` for the branch you want"),
        Feature.TRIGGER_RULE: unsupported("`dvc repro --keep-going` runs what does not depend on the failure"),
        Feature.STATIC_FAN_OUT: native("foreach over the list or the param"),
        Feature.DYNAMIC_FAN_OUT: unsupported(
            "one stage that loops over a directory output, or two passes: write the list to params.yaml, "
            "then `dvc repro` again"),
        Feature.FAN_IN: emulated("the consumer depends on every item's output file and reads them in order"),
        Feature.MAX_PARALLEL: native("`dvc repro` runs one stage at a time"),
        Feature.ENV: emulated("set by .dagshift/run.py for the command"),
        Feature.SECRETS: unsupported("export the secret in the shell that runs `dvc repro`; read it from the env"),
        Feature.RESOURCES: unsupported("DVC runs stages on the local machine"),
        Feature.GPU: unsupported("DVC runs stages on the local machine"),
        Feature.CACHE: native("DVC skips stages whose command, deps and params are unchanged"),
        Feature.POOL: native("`dvc repro` runs one stage at a time"),
        Feature.MAX_ACTIVE_TASKS: native("`dvc repro` runs one stage at a time"),
        Feature.MAX_ACTIVE_RUNS: native("DVC locks the repository: one `dvc repro` at a time"),
        Feature.PIPELINE_ALERTS: unsupported("`dvc repro || notify`"),
        Feature.TASK_ALERTS: unsupported("`CMD || { notify; exit 1; }` inside the command"),
        Feature.RETRY_ALERTS: unsupported("alert from the command"),
        Feature.SUCCESS_ALERTS: unsupported("`dvc repro && notify`"),
        Feature.WORKDIR: native("the stage's wdir"),
        Feature.OWNER: unsupported("DVC has no pipeline owner: name it in a comment of dvc.yaml or in the README"),
        Feature.TAGS: unsupported("DVC has no pipeline tags: name them in a comment of dvc.yaml or in the README"),
        Feature.PRIORITY: unsupported("`dvc repro` runs stages in dependency order: run `dvc repro STAGE` first"),
    }
    limits = LIMITS

    option_help = {
        "retries": "emulate: the runner re-runs a failing task (retries, retry_delay, backoff, max delay)",
        "timeouts": "emulate: the runner stops a task that runs longer than its timeout",
    }
    _EMULATIONS = {
        Feature.RETRIES: ("retries", "the runner re-runs the failed task after retry_delay"),
        Feature.RETRY_BACKOFF: ("retries", "the runner's delays grow by retry_backoff"),
        Feature.RETRY_MAX_DELAY: ("retries", "the runner's delays are capped at retry_max_delay"),
        Feature.TIMEOUT: ("timeouts", "the runner kills a task attempt after its timeout"),
    }

    def support(self, feature: Feature, options: Mapping[str, Any] | None = None) -> Support:
        option, how = self._EMULATIONS.get(feature, (None, ""))
        if option is not None and (options or {}).get(option) == "emulate":
            return emulated(how + f" (--option {option}=emulate)")
        base = super().support(feature, options)
        if option is not None and base.level is Level.UNSUPPORTED:
            return unsupported(base.how + f", or pass --option {option}=emulate")
        return base

    def render(self, pipeline: Pipeline, ctx: EmitContext) -> dict[str, str]:
        builder = _DvcBuilder(pipeline, ctx)
        stages = builder.build()
        if stages is None:
            return {}
        files = {
            "dvc.yaml": emit.render("dvc", "dvc.yaml.j2", title=HEADER_TITLE.format(name=pipeline.name),
                                    body=emit.to_yaml({"stages": stages}).rstrip("\n")),
            PARAMS_FILE: _params_yaml(builder.params()),
        }
        if builder.specs:
            files[RUNNER] = emit.render("dvc", "run.py.j2", uses=_runner_uses(builder.specs))
            files[TASKS_FILE] = json.dumps(builder.specs, indent=2, ensure_ascii=False) + "\n"
        return files


class _DvcBuilder:
    def __init__(self, pipeline: Pipeline, ctx: EmitContext):
        self.p = pipeline
        self.ctx = ctx
        self.graph = ctx.graph
        self.report = ctx.report
        self.specs: dict[str, dict] = {}  # the runner tasks' specs, in the order of their stages
        self.producers = {a: t for t, task in pipeline.tasks.items() for a in task.produces}
        self.wdir = pipeline.workdir

    def build(self) -> dict | None:
        before = len(self.ctx.diagnostics.errors)
        self._check()
        stages = {task_id: self._stage(task_id) for task_id in topological_order(self.graph)}
        if len(self.ctx.diagnostics.errors) != before:
            return None
        return stages

    def params(self) -> dict:
        return {name: param.default for name, param in self.p.params.items()}

    # ------------------------------------------------------------------ checks

    def _check(self) -> None:
        for name, param in self.p.params.items():
            if param.default is None:
                PARAM_DEFAULT.diagnose(self.report, f"DVC reads every param from params.yaml: param '{name}' needs a "
                                                    "default", ("params", name), at_key=True)
            long_key = next(_long_keys({name: param.default}), None)
            if long_key is not None:
                PARAM_KEY_LENGTH.diagnose(self.report, f"DVC reads params.yaml as YAML, where a key is at most "
                                                       f"{YAML_KEY_LIMIT} characters: param '{name}' has a longer one "
                                                       f"('{long_key[:20]}...')", ("params", name),
                                          at_key=long_key == name)
        if self.wdir is not None and (self.wdir.startswith("/") or ".." in self.wdir.split("/")):
            WORKDIR_OUTSIDE.diagnose(self.report, "DVC stages run inside the repository: workdir must be a relative "
                                                  "path in it", ("workdir",))
        for name, artifact in self.p.artifacts.items():
            if "${" in artifact.path:
                DOLLAR_IN_PATH.diagnose(self.report, f"DVC would read '${{' in the path of artifact '{name}' as its "
                                                     "own interpolation", ("artifacts", name))
        if self.p.workdir is not None and "${" in self.p.workdir:
            DOLLAR_IN_PATH.diagnose(self.report, "DVC would read '${' in the workdir (a stage's wdir) as its own "
                                                 "interpolation", ("workdir",), help="choose a directory without '${'")
        for task_id, task in self.p.tasks.items():
            for name, output in task.outputs.items():
                if output.path is not None and "${" in output.path:
                    DOLLAR_IN_PATH.diagnose(self.report, f"DVC would read '${{' in the path of output '{name}' of "
                                                         f"task '{task_id}' as its own interpolation",
                                            ("tasks", task_id, "outputs", name, "path"))
            if task.is_mapped and any(not self.p.artifacts[a].is_uri for a in task.produces if a in self.p.artifacts):
                FANNED_OUT_FILE.diagnose(self.report, f"every run of the fanned-out task '{task_id}' would write the "
                                                      "same artifact path, which DVC refuses (two stages, one out)",
                                         ("tasks", task_id, "produces"), at_key=True)
            ref = _foreach_param(task)
            default = self.p.params[ref].default if ref in self.p.params else None
            if isinstance(default, list) and not all(_path_safe_item(item) for item in default):
                ITEM_NAMES.diagnose(self.report, f"DVC fans task '{task_id}' out over param '{ref}' by naming each "
                                                 "run after its item: the items must be numbers or short names",
                                    ("tasks", task_id, "foreach"))
            elif isinstance(default, list) and len({str(item) for item in default}) < len(default):
                ITEMS_ALIKE.diagnose(self.report, f"DVC names each run of task '{task_id}' after its item: items of "
                                                  f"param '{ref}' that read alike (1 and '1', or one item twice) would "
                                                  "be one run", ("tasks", task_id, "foreach"))
            if isinstance(task.foreach, list) and any("${" in text for text in texts_in(task.literal_items)):
                DOLLAR_IN_ITEMS.diagnose(self.report, f"DVC would read '${{' in the foreach list of task '{task_id}' "
                                                      "as its own interpolation", ("tasks", task_id, "foreach"))

    # ------------------------------------------------------------------ paths

    def _dvc_path(self, path: str) -> str:
        """A path relative to the stage's wdir as DVC reads it in deps and outs: `s3:x.csv` would
        be a remote."""
        head = path.split("/", 1)[0]
        return f"./{path}" if ":" in head else path

    def _rel(self, path: str) -> str:
        """A repository path as the stage sees it (relative to its wdir)."""
        return posixpath.relpath(path, self.wdir) if self.wdir else path

    def _done(self, task_id: str) -> str:
        return f"{DONE_DIR}/{task_id}"

    def _outputs_dir(self, task_id: str) -> str:
        return f"{OUTPUTS_DIR}/{task_id}"

    def _output_file(self, task_id: str, name: str) -> str:
        """Where a task's value output lives, relative to the repository root."""
        task = self.p.tasks[task_id]
        path = task.outputs[name].path
        if path is not None and not task.is_mapped:
            return posixpath.normpath(posixpath.join(self.wdir or "", path))
        return f"{self._outputs_dir(task_id)}/{name}"

    # ------------------------------------------------------------------ stages

    def _stage(self, task_id: str) -> dict:
        task = self.p.tasks[task_id]
        body: dict[str, Any] = {}
        if task.description:
            body["desc"] = _dvc_literal(task.description)
        commands = self._commands(task_id, task)
        body["cmd"] = commands if len(commands) > 1 else commands[0]
        if self.wdir:
            body["wdir"] = self.wdir
        deps = self._deps(task_id, task)
        if deps:
            body["deps"] = deps
        params = self._params_read(task)
        if params:
            body["params"] = self._params_entries(params)
        outs, metrics, plots = self._outs(task_id, task)
        if outs:
            body["outs"] = outs
        if metrics:
            body["metrics"] = metrics
        if plots:
            body["plots"] = plots
        if task.foreach is None:
            return body
        return {"foreach": self._foreach(task), "do": body}

    def _foreach(self, task: Task) -> Any:
        """A literal list as a mapping from index to item: DVC gives `${key}` to mappings only,
        and the runner and the output paths need a key per item. A list param as itself: its
        items are the keys (`${item}`)."""
        if isinstance(task.foreach, list):
            return {str(index): item for index, item in enumerate(task.literal_items)}
        ref = next(s for s in parse_placeholders(task.foreach)[0] if isinstance(s, Ref))
        return f"${{{ref.name}}}"

    def _key(self, task: Task) -> str:
        """What names one run of a fanned-out task in paths and on the runner's command line."""
        return "${key}" if isinstance(task.foreach, list) else "${item}"

    def _commands(self, task_id: str, task: Task) -> list[str]:
        mark = []
        if self._marks_done(task_id):
            done = self._rel(self._done(task_id))
            target = f"{done}/{self._key(task)}" if task.is_mapped else done
            # quoted for the shell; `${key}`/`${item}` stays outside the quotes for DVC to fill in
            folder, name = posixpath.split(target)
            mark = [f"mkdir -p {_sh(folder)} && echo done > {_sh(folder)}/{name if task.is_mapped else _sh(name)}"]
        direct = self._direct_command(task_id, task)
        if direct is None:
            direct = self._python_command(task_id, task)
        if direct is not None:
            prepare = [f"mkdir -p {_sh(self._rel(self._outputs_dir(task_id)))}"] if task.outputs else []
            return prepare + [direct] + mark
        # As run.py reads it back from tasks.json (a mapping key is text there), so that both
        # hash the same data.
        spec = self.specs[task_id] = json.loads(json.dumps(self._spec(task_id, task), ensure_ascii=False))
        key = f" {self._key(task)}" if task.is_mapped else ""
        return [f"python3 {_sh(self._rel(RUNNER))} {task_id} {spec_digest(spec)}{key}"] + mark

    def _marks_done(self, task_id: str) -> bool:
        """Whether a downstream task needs this one's sentinel: an edge no path carries."""
        return any(self._needs_sentinel(task_id, downstream) for downstream in self.graph.successors(task_id))

    def _needs_sentinel(self, upstream: str, downstream: str) -> bool:
        carried = set(self._carried_by_paths(downstream))
        return upstream not in carried

    def _carried_by_paths(self, task_id: str) -> list[str]:
        """Upstream tasks whose outputs (artifact files or value files) this task depends on."""
        task = self.p.tasks[task_id]
        found = [self.producers[a] for a in task.consumes
                 if a in self.producers and not self.p.artifacts[a].is_uri]
        found += [str(ref.task) for _, ref in task_refs(task) if ref.kind == "task_output"]
        return found

    # ------------------------------------------------------------------ direct commands

    def _direct_command(self, task_id: str, task: Task) -> str | None:
        """The shell command as DVC's cmd (dvc_shell.py: as written, or run by bash), when DVC
        can hand it over exactly; else None (the runner fills it in at run time)."""
        if task.kind not in ("shell", "noop") or task.env or task.secrets or isinstance(task.command, list):
            return None
        if task.retries or task.timeout:  # emulated by the runner (they were refused otherwise)
            return None
        if task.kind == "noop":
            return "true"
        parts: list[str] = []
        for segment in parse_placeholders(task.command or "")[0]:
            part = segment if isinstance(segment, str) else self._direct_ref(task_id, task, segment)
            if part is None:
                return None
            parts.append(part)
        # DVC runs each line of a cmd in its own shell.
        if any(len(part.splitlines()) > 1 or part != part.rstrip("\n\r") for part in parts):
            return None
        return dvc_shell.command(parts)

    def _direct_ref(self, task_id: str, task: Task, ref: Ref) -> str | None:
        """A placeholder as DVC fills it in, or as literal text; None when DVC would rewrite its
        value (a text param: `\\${` loses its backslash, a line break splits the command)."""
        if ref.kind == "param":
            param = self.p.params[str(ref.name)]
            if param.value_type not in _NUMBER_PARAMS or (task.is_mapped and ref.name in _FOREACH_VARIABLES):
                return None  # in a foreach stage, `${item}` / `${key}` would be the run's
            return dvc_shell.Interpolation(f"${{{ref.name}}}")
        if ref.kind == "artifact":  # artifact paths are relative to the workdir, as the stage's wdir
            return self.p.artifacts[str(ref.name)].path
        if ref.kind == "item":
            if not isinstance(task.foreach, list):
                return None
            items = task.literal_items
            values = [i if ref.name is None else (i.get(ref.name) if isinstance(i, dict) else None) for i in items]
            if all(_plain_item(v) for v in values):
                plain = all(dvc_shell.WORD_CHARS.fullmatch(str(v)) for v in values)
                kind = dvc_shell.Interpolation if plain else dvc_shell.TextInterpolation
                return kind("${item}" if ref.name is None else f"${{item.{ref.name}}}")
            return None
        if ref.kind == "output" and not task.is_mapped:
            return self._rel(self._output_file(task_id, str(ref.name)))
        return None

    # ------------------------------------------------------------------ python stages

    def _python_command(self, task_id: str, task: Task) -> str | None:
        """`python3 -c '...'` calling the function, when every argument is known when compiling
        or is a number param (dvc_python.py); else None (the runner reads it at run time)."""
        if task.kind != "python" or task.env or task.secrets or task.retries or task.timeout or task.is_mapped:
            return None
        if any(out.path is not None for out in task.outputs.values()):
            return None  # only .dagshift/outputs/TASK is prepared by a mkdir the importer knows
        try:
            arguments = {key: self._python_code(task_id, value_spec(value, self.p, whole_value=True))
                         for key, value in (task.args or {}).items()}
        except dvc_python.NotWritable:
            return None
        outputs = [(name, out.type.value, self._rel(self._output_file(task_id, name)))
                   for name, out in task.outputs.items()]
        # A `|` block: the line as it is, without YAML's quoting of its quotes.
        return BlockText(f"{PYTHON_COMMAND}'{dvc_python.call_line(str(task.python), arguments, outputs)}'")

    def _python_code(self, task_id: str, spec: Any) -> str:
        """A value spec as Python code for the call (raises NotWritable for run-time values)."""
        if isinstance(spec, list):
            return "[" + ", ".join(self._python_code(task_id, item) for item in spec) + "]"
        if isinstance(spec, dict):
            return "{" + ", ".join(f"{dvc_python.string(key)}: {self._python_code(task_id, item)}"
                                   for key, item in spec.items()) + "}"
        if not isinstance(spec, tuple):
            return dvc_python.literal(spec)
        if spec[0] == "concat":
            return dvc_python.string(*(self._python_text(task_id, part) for part in spec[1:]))
        text = self._python_text(task_id, spec)
        return text if isinstance(text, dvc_shell.Interpolation) else dvc_python.string(text)

    def _python_text(self, task_id: str, spec: Any) -> str:
        """A part of a text: literal, a number param as DVC's `${name}`, or this task's output path."""
        if isinstance(spec, str):
            return spec
        if spec[0] == "param" and self.p.params[str(spec[1])].value_type in _NUMBER_PARAMS:
            return dvc_shell.Interpolation(f"${{{spec[1]}}}")
        if spec[0] == "out":
            return self._rel(self._output_file(task_id, str(spec[1])))
        raise dvc_python.NotWritable(repr(spec))

    # ------------------------------------------------------------------ runner specs

    def _spec(self, task_id: str, task: Task) -> dict:
        spec: dict[str, Any] = {"kind": task.kind}
        if task.kind == "python":
            spec["target"] = task.python
            spec["kwargs"] = _encode(value_spec(task.args or {}, self.p, whole_value=True), self._output_ref)
        elif task.kind == "container":
            spec["image"] = task.image
            # a string command, "" too, is shell text (as on every target); none runs the image's own
            command = task.command if isinstance(task.command, list) else (
                ["bash", "-c", task.command + ARGS_SUFFIX, "bash"] if isinstance(task.command, str) else [])
            spec["argv"] = _encode(value_spec(command + [a if isinstance(a, str) else json.dumps(a)
                                                         for a in (task.args or [])], self.p), self._output_ref)
        elif isinstance(task.command, list):
            spec["argv"] = _encode(value_spec(task.command, self.p), self._output_ref)
        else:
            spec["command"] = _encode(value_spec(task.command or "", self.p), self._output_ref)
        if task.env:
            spec["env"] = {k: _encode(value_spec(v, self.p), self._output_ref) for k, v in task.env.items()}
        if task.outputs:
            spec["outputs"] = {name: [out.type.value, None if task.is_mapped else
                                      (out.path and self._output_file(task_id, name))]
                               for name, out in task.outputs.items()}
        if task.retries:
            spec["retry_delays"] = _retry_delays(task)
        if task.timeout:
            spec["timeout"] = task.timeout
        if task.is_mapped:
            spec["items"] = self._items_spec(task)
        return spec

    def _output_ref(self, task_id: str, name: str) -> list:
        """Where the runner finds an upstream value: [type, file, None], or for a fanned-out
        producer [type, its outputs folder, the items (their keys name the runs' folders)]."""
        producer = self.p.tasks[task_id]
        kind = producer.outputs[name].type.value
        if not producer.is_mapped:
            return [kind, self._output_file(task_id, name), None]
        items = self._items_spec(producer)
        return [kind, self._outputs_dir(task_id), items]

    def _items_spec(self, task: Task) -> Any:
        if isinstance(task.foreach, list):
            return task.literal_items
        ref = next(s for s in parse_placeholders(task.foreach)[0] if isinstance(s, Ref))
        return {"param": ref.name}

    # ------------------------------------------------------------------ deps, params, outs

    def _deps(self, task_id: str, task: Task) -> list[str]:
        deps: list[str] = []
        for name in task.consumes:
            artifact = self.p.artifacts.get(name)
            if artifact is not None and not artifact.is_uri:
                deps.append(self._dvc_path(artifact.path))
        for _, ref in task_refs(task):
            if ref.kind == "task_output":
                producer = self.p.tasks[str(ref.task)]
                path = (self._outputs_dir(str(ref.task)) if producer.is_mapped
                        else self._output_file(str(ref.task), str(ref.name)))
                deps.append(self._dvc_path(self._rel(path)))
        for upstream in sorted(self.graph.predecessors(task_id), key=lambda n: self.graph.nodes[n]["index"]):
            if self._needs_sentinel(upstream, task_id):
                deps.append(self._rel(self._done(upstream)))
        module_file = self._module_file(task)
        if module_file is not None:
            deps.append(module_file)
        if task_id in self.specs:  # its spec is no dep: the digest in its cmd stands for it
            deps.append(self._rel(RUNNER))
        return list(dict.fromkeys(deps))

    def _module_file(self, task: Task) -> str | None:
        """The file of a python task's module, relative to the stage's wdir, when it is beside the
        pipeline file (under its workdir): a dep, so that editing the code re-runs the stage. A
        module found elsewhere (installed) is not the project's to track."""
        if task.kind != "python" or not task.python:
            return None
        module = task.python.partition(":")[0].replace(".", "/")
        base = Path(self.ctx.source_name).parent / (self.wdir or "")
        for relative in (f"{module}.py", f"{module}/__init__.py"):
            if (base / relative).is_file():
                return self._dvc_path(relative)
        return None

    def _params_read(self, task: Task) -> list[str]:
        names: dict[str, None] = {}
        for _, ref in task_refs(task):
            if ref.kind == "param":
                names.setdefault(str(ref.name))
        return [name for name in self.p.params if name in names]

    def _params_entries(self, names: list[str]) -> list:
        """A stage's `params`: DVC looks for bare names in params.yaml inside the stage's wdir, so
        a stage with a wdir names the file, relative to it, that holds them."""
        return [{self._rel(PARAMS_FILE): names}] if self.wdir else names

    def _outs(self, task_id: str, task: Task) -> tuple[list, list, list]:
        outs: list[Any] = []
        metrics: list[Any] = []
        plots: list[Any] = []
        for name in task.produces:
            artifact = self.p.artifacts.get(name)
            if artifact is None or artifact.is_uri:
                continue
            if artifact.kind is ArtifactKind.METRICS:
                metrics.append({self._dvc_path(artifact.path): {"cache": False}})
            elif artifact.kind is ArtifactKind.PLOTS:
                plots.append({self._dvc_path(artifact.path): {"cache": False}})
            else:
                outs.append(self._dvc_path(artifact.path))
        if task.outputs:
            if task.is_mapped:
                outs.append({self._rel(f"{self._outputs_dir(task_id)}/{self._key(task)}"): {"cache": False}})
            else:
                for name in task.outputs:
                    outs.append({self._dvc_path(self._rel(self._output_file(task_id, name))): {"cache": False}})
        if self._marks_done(task_id):
            done = self._rel(self._done(task_id))
            outs.append({f"{done}/{self._key(task)}" if task.is_mapped else done: {"cache": False}})
        return outs, metrics, plots


def spec_digest(spec: dict) -> str:
    """A runner spec's digest, as the stage's cmd names it and run.py.j2 recomputes it: 12 hex
    digits of sha256 over the spec's canonical JSON."""
    canonical = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def _encode(spec: Any, output: Any) -> Any:
    """A value spec (compiler.backends.specs) as JSON run.py.j2 reads: placeholders (tuples) as
    {"$dagshift": [...]}; a user mapping that happens to use that key is wrapped as a literal.
    `output(task, name)` says where an upstream value lives: [type, path, items or None]."""
    if isinstance(spec, tuple):
        if spec[0] == "concat":
            return {SPEC_KEY: ["concat", *(_encode(part, output) for part in spec[1:])]}
        if spec[0] == "output":
            return {SPEC_KEY: ["output", spec[1], spec[2], *output(spec[1], spec[2])]}
        return {SPEC_KEY: list(spec)}
    if isinstance(spec, list):
        return [_encode(item, output) for item in spec]
    if isinstance(spec, dict):
        encoded = {key: _encode(item, output) for key, item in spec.items()}
        return {SPEC_KEY: ["literal", spec]} if SPEC_KEY in spec else encoded
    return spec


def _runner_uses(specs: dict[str, dict]) -> dict[str, bool]:
    """What the runner's tasks need, so that run.py holds only those helpers."""
    kinds = {spec["kind"] for spec in specs.values()}
    refs = [ref for spec in specs.values() for ref in _refs(spec)]
    upstream = [ref for ref in refs if ref[0] == "output"]
    uses = {
        "python": "python" in kinds,
        "container": "container" in kinds,
        "argv": any(spec["kind"] == "shell" and "argv" in spec for spec in specs.values()),
        "command": any("command" in spec for spec in specs.values()),
        "env": any("env" in spec for spec in specs.values()),
        "outputs": any("outputs" in spec for spec in specs.values()),
        "attempts": any("retry_delays" in spec or "timeout" in spec for spec in specs.values()),
        "fanned_out": any("items" in spec for spec in specs.values()),
        "upstream": bool(upstream),
    }
    uses["foreach_keys"] = uses["fanned_out"] or any(ref[-1] is not None for ref in upstream)
    uses["subprocess"] = uses["attempts"] or uses["container"] or uses["argv"] or uses["command"]
    return uses


def _refs(encoded: Any):
    """Every placeholder of an encoded spec (see _encode), as its list."""
    if isinstance(encoded, list):
        for item in encoded:
            yield from _refs(item)
    elif isinstance(encoded, dict):
        if SPEC_KEY in encoded:
            yield encoded[SPEC_KEY]
            if encoded[SPEC_KEY][0] != "concat":
                return
            yield from _refs(encoded[SPEC_KEY][1:])
        else:
            yield from _refs(list(encoded.values()))


def _params_yaml(params: dict) -> str:
    """params.yaml as JSON (YAML that the runner reads without a YAML library)."""
    return _yaml_json(params, indent=2) + "\n"


def _yaml_json(value: Any, **options: Any) -> str:
    """JSON that YAML reads alike: every character YAML does not take raw as a \\u escape."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _NOT_RAW_IN_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _long_keys(value: Any):
    """The mapping keys in VALUE that YAML cannot read back from params.yaml (too long)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if len(_yaml_json(key)) > YAML_KEY_LIMIT:
                yield key
            yield from _long_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _long_keys(item)


def _plain_item(value: Any) -> bool:
    """A literal foreach value DVC puts into a command exactly, inside the quotes of a wrapped
    command too: a number, or one line of text without `\\` or `'`."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    return not isinstance(value, str) or (len(value.splitlines()) <= 1 and not value.endswith(("\n", "\r"))
                                          and "\\" not in value and "'" not in value)


def _sh(path: str) -> str:
    """A generated path as one word for every shell (a workdir may hold spaces); DVC never
    sees `${` in it."""
    return dvc_shell.word(path)


def _dvc_literal(text: str) -> str:
    """Text DVC shows as written: it interpolates `${...}` in every string of a stage and then
    removes one backslash before every `${`, so one more backslash there keeps the text exact."""
    return text.replace("${", "\\${")


def _retry_delays(task: Task) -> list[float]:
    """Seconds to wait before each retry: retry_delay * retry_backoff ** n, capped."""
    delays = []
    for attempt in range(task.retries or 0):
        delay = float(task.retry_delay or 0) * (task.retry_backoff or 1.0) ** attempt
        if task.retry_max_delay is not None:
            delay = min(delay, float(task.retry_max_delay))
        delays.append(delay)
    return delays


def _foreach_param(task: Task) -> str | None:
    if not isinstance(task.foreach, str):
        return None
    ref = next((s for s in parse_placeholders(task.foreach)[0] if isinstance(s, Ref)), None)
    return str(ref.name) if ref is not None and ref.kind == "param" else None


def _path_safe_item(item: Any) -> bool:
    if isinstance(item, bool) or not isinstance(item, (str, int, float)):
        return False
    text = str(item)
    return bool(text) and all(c.isalnum() or c in "-_." for c in text) and text not in (".", "..")

