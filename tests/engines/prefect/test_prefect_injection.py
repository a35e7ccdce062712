"""User text reaches Prefect exactly, whatever it contains; task ids and param names reach it as
they are, or are refused cleanly.

Hypothesis draws batches of pipelines (the strategies and the text model of
test_airflow_injection.py: quotes and triple quotes, backslashes, newlines and carriage returns,
`{{ }}`, `${ }`, the `$${{` escape, astral characters, `.sh` endings, ...) into every string field
that reaches the flow module or prefect.yaml: descriptions, tags, workdir, param defaults,
descriptions and enum values, a list param's items (texts and mappings) a task maps over, artifact
paths, commands (string and exec form), env values, secret names and keys, python args (keys too,
and nested values), value output paths, pools, alert commands, python alerts' args (of the
pipeline, of a task, under `defaults`), trigger URIs, `when` string literals deciding a task and
its `else_of` branch, literal foreach items. Each batch is compiled through the real CLI (black
has formatted every module, so each one parses) and checked in ONE engine process
(prefect_runner.py):

- inspect: every module imported by Prefect; the flow's description, parameter defaults (the
  signature, Prefect's parameter schema, Prefect's validation), descriptions and enums (the
  schema), what each state hook of the flow and of each task runs (an alert's command, the
  kwargs a python alert passes), the flow's working directory, each @task's name, description and
  tags (its pool), the tasks a `when` or its else branch lets run, the list a task maps over, and
  what each task would run (its command, argv, python call's kwargs and env, a secret as
  "<secret NAME KEY>", as the flow passes it the parameter defaults; a mapped task for each item:
  prefect_runner.py's `calls`, `item_calls`) must equal what the pipeline means; what Prefect has
  no place for is refused naming the field (a container, python in an image: E301) or left out
  with a warning naming it (resources: W301);
- deployments: prefect.yaml after Prefect's own deploy-time templating (the real
  prefect.utilities.templating functions, in `prefect deploy`'s order) holds the description,
  tags and trigger resource exactly, or leaves them out (the description stays in the flow; a
  tag with a W302) or refuses them (E302 naming the trigger);
- runs: a few pipelines of echo-style tasks run on the engine and write what they received to
  files: a shell command its own text (`$BASH_EXECUTION_STRING`: everything after its first line
  is drawn text bash never parses), its env value, an exec-form command its argv, a python task
  its kwargs, and a value output passed on to the next task. The bytes must be the text meant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from engine_harness import PrefectEngine, PrefectReport, compile_pipeline
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from injection_cases import (
    ITEMS,
    MAPPED_KINDS,
    MAPPED_OVER_ITEMS,
    OUT,
    PARAMS,
    POD_KINDS,
    PYTHON_KINDS,
    PYTHON_TARGET,
    SECRET_ENV,
    TRICKY_IDS,
    AlertCase,
    PipelineCase,
    TaskCase,
    _escape_stray_placeholders,
    _every_field,
    assert_reported,
    check_compiled,
    command_texts,
    draw_else_branches,
    expected,
    items_defaults,
    meaning,
    nasty_args,
    numbers,
    pipeline_data,
    plain_texts,
    runs,
    sometimes_alert,
    task_alert,
    task_cases,
    task_ids,
    texts,
    yaml_flow,
)
from injection_rules import ARTIFACT, VALID_ID, Refusals, ids_are_valid, refusals, secret_keys, secret_names

from compiler.language.naming import python_name
from compiler.language.placeholders import literal

# What `prefect deploy` resolves as its own template (prefect.utilities.templating, Prefect 3.9).
DEPLOY_PLACEHOLDER = re.compile(r"{{\s*[\w.\-\[\]$]+\s*}}")

pytestmark = [pytest.mark.engine, pytest.mark.slow]

# Valid ids that collide with what a generated Prefect module defines or imports (the task
# functions get another Python name; the task keeps the id as its name).
PREFECT_IDS = [
    "flow", "task", "wait", "unmapped", "allow_failure", "Completed", "Failed", "ThreadPoolTaskRunner", "argparse",
    "importlib", "shlex", "signal", "subprocess", "tempfile", "threading", "functools", "timedelta", "Literal",
    "Field", "Annotated", "Secret", "INPUTS", "TASK_SOURCE", "kill", "lambda", "global", "upstream", "main",
    "inj_0", "inj_1", "PROCESS_LOCK", "finish", "submitted", "rule", "after", "inputs", "condition", "map",
    "run_command", "read_output", "text", "isolated", "alert", "WORKDIR", "os", "sys", "json", "pickle", "result",
    "outputs", "item", "print", "float", "TypedDict", "CALL_PICKLED", "runs", "held", "completed", "outcome",
]

# Param names: the ones a Prefect flow cannot take are refused (E302): Prefect reserves
# `return_state` and `wait_for`, `self` clashes with Flow.__call__, `self` and `cls` are left out
# of Prefect's parameter schema, pydantic fields cannot start with '_' or shadow BaseModel's
# `model_*` attributes. Every other identifier must reach Prefect, including the names of the
# types the flow's annotations use.
ACCEPTED_PARAMS = ["json", "dict", "copy", "schema", "validate", "fields", "construct", "model", "model_x",
                   "item", "params", "upstream", "flow", "task", "print", "float", "str", "int", "bool", "list",
                   "Literal", "Field", "Annotated", "WORKDIR", "SPECS", "wait", "kill", "main", "inj_0", "os",
                   "run_command", "text", "isolated", "outputs", "env", "sys", "unmapped", "allow_failure",
                   "read_output", "tempfile", "Secret", "o_path", "result"]
REFUSED_PARAMS = ["return_state", "wait_for", "self", "cls", "model_config", "model_dump", "model_validate", "_x",
                  "_params", "_futures", "_when", "_after", "_run"]

PROBE_MODULE = "dagshift_probe"
PROBE_SOURCE = '''\
import json


def write(path, **kwargs):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(kwargs, handle, ensure_ascii=True)
'''
ARGV_WRITER = ("import json, sys; open(sys.argv[1], 'w', encoding='utf-8')"
               ".write(json.dumps(sys.argv[2:], ensure_ascii=True))")
ECHO_PREFIX = 'printf %s "$BASH_EXECUTION_STRING" > {id}.cmd; printf %s "$A" > {id}.env; exit 0\n'


# ----------------------------------------------------------------------------- inspect cases


# injection_cases' kinds but containers and python in an image (Prefect refuses them: E301).
PREFECT_KINDS = ["bash", "bash", "bash_out", "argv", "python", "foreach", "param_foreach", "python_foreach"]


@st.composite
def prefect_task_cases(draw, task_id: str) -> TaskCase:
    """injection_cases.task_cases of PREFECT_KINDS; any task may read a secret here."""
    task = draw(task_cases(task_id, PREFECT_KINDS))
    if task.secret is None and draw(st.booleans()):
        task.secret = (draw(secret_names | plain_texts), draw(secret_keys | plain_texts))
    return task


# Text with what `prefect deploy` reads as its own template, and Prefect's event wildcard.
deploy_texts = st.one_of(plain_texts, st.builds(lambda a, b, c: a + b + c, plain_texts,
                                                st.sampled_from(["{{ $HOME }}", "{{prefect.variables.x}}", "{{ a.b }}",
                                                                 "{{ x }}", "{{", "*"]), plain_texts))


@st.composite
def prefect_pipeline_cases(draw, index: int) -> PipelineCase:
    ids = draw(st.lists(st.one_of(task_ids, st.sampled_from(PREFECT_IDS)), min_size=1, max_size=3, unique=True))
    case = PipelineCase(
        name=f"inj_{index}",
        description=draw(st.none() | deploy_texts),
        defaults={"p0": draw(plain_texts), "p1": draw(texts(placeholders=False, tail=True)), "n": draw(numbers)},
        param_descriptions={name: draw(plain_texts) for name in draw(st.sets(st.sampled_from(PARAMS)))},
        tasks=[draw(prefect_task_cases(task_id)) for task_id in ids],
        tags=draw(st.lists(deploy_texts, max_size=3, unique=True)),
        workdir=draw(st.none() | plain_texts),
        enum_extra=draw(st.none() | plain_texts),
        alert=draw(st.none() | plain_texts),
        python_alert=draw(sometimes_alert),
        task_alert=draw(sometimes_alert),
        trigger_uri=draw(st.none() | deploy_texts.map(lambda text: "s3://bucket/" + text)),
        owner=draw(st.none() | plain_texts),
    )
    for task in case.tasks:
        if task.when_literal == "p0":  # the flow runs the task
            task.when_literal = case.defaults["p0"]
    if any(task.kind in MAPPED_OVER_ITEMS for task in case.tasks):
        case.defaults[ITEMS] = draw(items_defaults)
    if case.enum_extra == case.defaults["p0"]:
        case.enum_extra = None
    draw_else_branches(draw, case)
    if draw(st.booleans()) and "uses_artifact" not in ids:
        case.artifact = (draw(plain_texts), draw(st.none() | plain_texts))
        command = _escape_stray_placeholders(draw(command_texts()) + f" ${{{{ artifacts.{ARTIFACT} }}}}")
        case.tasks.append(TaskCase("uses_artifact", "bash", command=command, consumes=[ARTIFACT]))
    return case


def prefect_refusals(case: PipelineCase) -> Refusals:
    """What Prefect cannot take: a container, a python task in an image (the feature check
    refuses them before the backend runs), a trigger resource `prefect deploy` would template or
    match as a wildcard."""
    refused = {("E301", f"tasks.{t.task_id}" if t.kind != "python_image" else f"tasks.{t.task_id}.image")
               for t in case.tasks if t.kind in POD_KINDS}
    if refused:
        return refused
    uri = case.trigger_uri
    if uri is not None and (DEPLOY_PLACEHOLDER.search(uri) or uri.endswith("*")):
        refused.add(("E302", "triggers[0].uri"))
    return refused


def prefect_warnings(case: PipelineCase) -> set[tuple[str, str]]:
    """What Prefect leaves out with a warning naming it: a task's resources (the work pool's)."""
    return {("W301", f"tasks.{t.task_id}.resources") for t in case.tasks
            if t.resources and any(t.resources.get(key) for key in ("cpu", "memory", "gpu"))}


# ----------------------------------------------------------------------------- run cases


@dataclass
class RunCase:
    """A pipeline of echo-style tasks that write what they received to <task id>.* files."""

    name: str
    defaults: dict[str, Any]  # param -> default (str or int)
    cmd_tail: str = ""  # after the shell command's first line: drawn text, never parsed by bash
    cmd_env: str = ""
    argv: list[str] = field(default_factory=list)
    kwargs: dict[str, str] = field(default_factory=dict)
    produced: str = ""  # what the `produce` task writes to its value output (through env)


def run_pipeline_data(case: RunCase) -> dict[str, Any]:
    return {
        "name": case.name,
        "params": {name: {"type": "int" if isinstance(value, int) else "str", "default": value}
                   for name, value in case.defaults.items()},
        "tasks": {
            "cmd": {"command": ECHO_PREFIX.format(id="cmd") + case.cmd_tail, "env": {"A": case.cmd_env}},
            "argv": {"command": ["python3", "-c", ARGV_WRITER, "argv.argv", *case.argv]},
            "py": {"python": f"{PROBE_MODULE}:write", "args": {"path": "py.json", **case.kwargs}},
            "produce": {"command": 'printf %s "$A" > ${{ outputs.o }}', "env": {"A": case.produced},
                        "outputs": {"o": "str"}},
            "consume": {"command": 'printf %s "$B" > consume.out', "env": {"B": "${{ tasks.produce.outputs.o }}"}},
        },
    }


def run_files(case: RunCase) -> dict[str, bytes]:
    """The bytes each file must hold: the texts with their placeholders resolved (a value
    output read from its file loses one trailing newline: docs/pipeline-syntax.md)."""
    produced = expected(case.produced, case)
    return {
        "cmd.cmd": expected(ECHO_PREFIX.format(id="cmd") + case.cmd_tail, case).encode(),
        "cmd.env": expected(case.cmd_env, case).encode(),
        "argv.argv": json.dumps([expected(a, case) for a in case.argv], ensure_ascii=True).encode(),
        "py.json": json.dumps({k: expected(v, case, whole_value=True) for k, v in case.kwargs.items()},
                              ensure_ascii=True).encode(),
        "consume.out": (produced.removesuffix("\n")).encode(),
    }


def _runnable(text: str) -> str:
    """No NUL byte: no command line or environment can carry one."""
    return _escape_stray_placeholders(text.replace("\x00", ""))


@st.composite
def run_cases(draw, index: int) -> RunCase:
    text = texts(tail=True).map(_runnable)
    return RunCase(
        name=f"run_{index}",
        defaults={"p0": draw(texts(placeholders=False).map(_runnable)),
                  "p1": draw(texts(placeholders=False, tail=True).map(_runnable)),
                  "n": draw(st.integers(-(2**31), 2**31))},
        cmd_tail=draw(text),
        cmd_env=draw(text),
        argv=draw(st.lists(text, min_size=1, max_size=3)),
        kwargs={f"k{i}": v for i, v in enumerate(draw(st.lists(texts().map(_runnable), min_size=1, max_size=3)))},
        produced=draw(text),
    )


@dataclass
class Batch:
    inspect: list[PipelineCase]
    runs: list[RunCase]


@st.composite
def batches(draw) -> Batch:
    return Batch([draw(prefect_pipeline_cases(i)) for i in range(draw(st.integers(8, 14)))],
                 [draw(run_cases(i)) for i in range(2)])


# ----------------------------------------------------------------------------- hand-picked


def _every_prefect_field(nasty: str, defaults: dict[str, Any]) -> PipelineCase:
    """test_airflow_injection's case of Jinja and quotes in every field, without its pod (Prefect
    runs no image), with a description and a tag `prefect deploy` would template (left out of
    prefect.yaml) and a trigger on a resource it takes as written."""
    case = _every_field(nasty, defaults)
    return replace(case, name="inj_fields", description=nasty + " {{ $HOME }}", tags=[*case.tags, "{{ a.b }}"],
                   tasks=[t for t in case.tasks if t.kind not in POD_KINDS],
                   trigger_uri="s3://bucket/{x} {{ } {% %} '\" \\ *.sh")


def _refused(nasty: str, defaults: dict[str, Any]) -> list[PipelineCase]:
    """Trigger resources Prefect would read otherwise (a deploy-time template, a wildcard), and
    test_airflow_injection's containers and python in an image, which Prefect runs no task in."""
    cases = [PipelineCase(f"inj_refused_{index}", None, {"p0": "", "p1": "", "n": 0}, {},
                          [TaskCase("a", "bash", command="echo")], trigger_uri=uri)
             for index, uri in enumerate(["s3://bucket/{{ $HOME }}/", "s3://bucket/in/*"])]
    pods = [t for t in _every_field(nasty, defaults).tasks if t.kind in POD_KINDS]
    return cases + [replace(_every_field(nasty, defaults), name="inj_refused_pods", tasks=pods)]


def _hand_picked() -> Batch:
    nasty = ("it's \"quoted\" '''triple''' \"\"\" \\ back\\slash \\n {{ x }} {% if %} {# c #} ${ y } "
             "$${{ params.p0 }} 😀")
    defaults = {"p0": "{{ ti }} {% raw %} \\\" '''", "p1": "tail.sh\n", "n": 7}
    tasks = [
        TaskCase("bash", "bash", command="echo a{${{ params.p0 }}{", env={"A": "{${{ params.n }}", "B_2": "x.sh"},
                 description=nasty),
        TaskCase("bash_out", "bash_out", command="echo ${{ params.p0 }} $${{ outputs.o }} > ${{ outputs.o }}",
                 env={"A": "${{ params.p1 }}"}, description=nasty + ".md"),
        TaskCase("argv", "argv", command=["printf", "%s\\n", "${{ params.p0 }}", "{{ x }}", "x.sh"], env={"A": "'''"}),
        TaskCase("python", "python", args={"k0": "${{ params.n }}", "k1": "n=${{ params.n }}", "k2": nasty,
                                           "k3": "${{ params.p0 }}"}),
        TaskCase("python_keys", "python", args=nasty_args(nasty), env={"A": nasty}),
    ]
    inspect = [PipelineCase("inj_0", nasty, dict(defaults), {"p0": nasty}, tasks),
               _every_prefect_field(nasty, defaults)]
    ids = TRICKY_IDS + PREFECT_IDS
    for start in range(0, len(ids), 12):  # every tricky id reaches Prefect as the task's name
        chunk = ids[start:start + 12]
        kinds = ["bash", "python", "bash_out", "argv"]
        cases = []
        for offset, task_id in enumerate(chunk):
            kind = kinds[offset % 4]
            command = ["echo", task_id] if kind == "argv" else f"echo {task_id}"
            if kind == "bash_out":
                command += " > ${{ outputs.o }}"
            cases.append(TaskCase(task_id, kind, command=None if kind == "python" else command,
                                  args={"k0": task_id} if kind == "python" else None))
        inspect.append(PipelineCase(f"inj_{len(inspect)}", None, dict(defaults), {}, cases))
    inspect += _refused(nasty, defaults)
    inspect.append(PipelineCase(f"inj_{len(inspect)}", None, dict(defaults), {},  # two ids one Python name
                                [TaskCase("a-b", "bash", command="echo"), TaskCase("a_b", "bash", command="echo")]))
    runs = [RunCase("run_0", defaults, cmd_tail=nasty + "\r\n'unclosed <<EOF\n${{ params.p1 }}", cmd_env=nasty,
                    argv=["-c", nasty, "${{ params.n }}", "", "\r"], kwargs={"k0": "${{ params.n }}", "k1": nasty},
                    produced="${{ params.p1 }}"),
            RunCase("run_1", {name: f"v {name} '\"" for name in ACCEPTED_PARAMS},
                    cmd_tail=" ".join(f"${{{{ params.{name} }}}}" for name in ACCEPTED_PARAMS),
                    cmd_env=f"${{{{ params.{ACCEPTED_PARAMS[0]} }}}}",
                    argv=[f"${{{{ params.{name} }}}}" for name in ACCEPTED_PARAMS[:5]],
                    kwargs={"k0": "${{ params.model }}"}, produced="${{ params.item }}\n")]
    return Batch(inspect, runs)


# ----------------------------------------------------------------------------- the check


def _compile(source: Path, data: dict[str, Any], outdir: Path):
    source.write_text(yaml_flow(data) + "\n", encoding="utf-8")
    compiled = compile_pipeline(source, outdir, target="prefect")
    assert compiled.exception is None, f"{source.stem}: {compiled.exception!r}\n{compiled.output}"
    assert "Traceback" not in compiled.output, compiled.output
    return compiled


def check_batch(engine: PrefectEngine, batch: Batch, workdir: Path, refused_params: list[str] = ()) -> None:
    sources, flows = workdir / "sources", workdir / "flows"
    sources.mkdir(parents=True)
    inspect, runs, valid, deployments = [], [], [], []
    for case in batch.inspect:
        compiled = _compile(sources / f"{case.name}.yaml", pipeline_data(case), flows / case.name)
        if check_compiled(case, compiled, refusals(case, prefect_refusals)):
            check_left_out(case, compiled.output)
            inspect.append({"key": case.name, "module": str(compiled.files[0]), "flow": python_name(case.name)})
            deployments.append({"key": case.name, "dir": str(flows / case.name)})
            valid.append(case)
    for case in batch.runs:
        compiled = _compile(sources / f"{case.name}.yaml", run_pipeline_data(case), flows / case.name)
        assert compiled.ok, f"{case.name}:\n{compiled.output}"
        run_dir = workdir / "runs" / case.name
        run_dir.mkdir(parents=True)
        (run_dir / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE, encoding="utf-8")
        runs.append({"key": case.name, "module": str(compiled.files[0]), "flow": python_name(case.name),
                     "params": {}, "workdir": str(run_dir)})
        inspect.append({"key": case.name, "module": str(compiled.files[0]), "flow": python_name(case.name)})
    for name in refused_params:
        data = {"name": "refused", "params": {name: {"type": "str", "default": "x"}},
                "tasks": {"a": {"command": f"echo ${{{{ params.{name} }}}}"}}}
        compiled = _compile(sources / f"refused_{name}.yaml", data, flows / f"refused_{name}")
        assert compiled.exit_code == 1 and not compiled.files, f"param {name!r}: {compiled.output}"
        assert "error[E302]" in compiled.output and f"'{name}'" in compiled.output, compiled.output
    report = engine.runner({"inspect": inspect, "runs": runs, "deployments": deployments})
    for case in valid:
        check_flow(case, report.inspected(case.name))
        check_deployment(case, report.data["deployments"][case.name])
    for case in batch.runs:
        check_run(case, report)


def check_left_out(case: PipelineCase, output: str) -> None:
    """What Prefect has no place for is named in a warning: the owner, a tag prefect deploy
    would template, a task's resources."""
    assert bool(case.owner) is ("(owner)" in output), output  # an empty owner is no owner
    assert_reported(case, output, prefect_warnings(case), "warning")
    for index, tag in enumerate(case.tags):
        assert (DEPLOY_PLACEHOLDER.search(tag) is not None) is (f"(tags[{index}])" in output), output


def check_deployment(case: PipelineCase, entry: dict[str, Any]) -> None:
    """prefect.yaml as `prefect deploy` resolves it: the texts exactly, or left out."""
    assert "error" not in entry, entry.get("error")
    description = case.description if case.description and not DEPLOY_PLACEHOLDER.search(case.description) else None
    assert entry.get("description") == description, case.name  # else the flow's docstring stands
    assert entry.get("tags", []) == [tag for tag in case.tags if not DEPLOY_PLACEHOLDER.search(tag)], case.name
    if case.trigger_uri is not None:
        (trigger,) = entry["triggers"]
        assert trigger["match"] == {"prefect.resource.id": f"dagshift.artifact.{case.trigger_uri}"}, case.name


def check_flow(case: PipelineCase, facts: dict[str, Any]) -> None:
    flow = facts["flow"]
    assert flow["name"] == case.name
    assert flow["description"] == (case.description or None)  # an empty description is no description
    assert flow["defaults"] == case.defaults, case.name
    assert flow["schema_defaults"] == case.defaults, case.name
    assert flow["validated_defaults"] == {"value": case.defaults}, case.name
    properties = flow["schema"]["properties"]
    assert {name: properties[name].get("description") for name in case.defaults} == \
        {name: case.param_descriptions.get(name) or None for name in case.defaults}, case.name
    enum = None if case.enum_extra is None else [case.defaults["p0"], case.enum_extra]
    assert properties["p0"].get("enum") == enum, case.name
    alerts = [case.alert] if case.alert is not None else []
    assert facts["flow_hooks"] == hooks_meant(alerts + [case.python_alert] if case.python_alert else alerts), case.name
    if case.workdir is not None:
        assert facts["workdir"] == case.workdir and facts["entered"] == [case.workdir], case.name
    assert set(facts["tasks"]) == {t.task_id for t in case.tasks}
    assert "error" not in facts["calls"], (case.name, facts["calls"])  # the flow body ran with its stand-ins
    for task in case.tasks:
        where = f"{case.name}.{task.task_id} ({task.kind})"
        assert facts["tasks"][task.task_id]["description"] == (task.description or None), where
        assert facts["tasks"][task.task_id]["tags"] == ([] if task.pool is None else [task.pool]), where
        alert = task_alert(case, task)
        assert facts["task_hooks"][task.task_id] == hooks_meant([alert] if alert else []), where
        if not runs(case, task):
            assert task.task_id not in facts["calls"], where  # its condition (or its if-branch's) does not hold
            continue
        if task.kind in MAPPED_KINDS:
            items = literal(task.items) if task.items else case.defaults[ITEMS]  # a param's values are data
            assert facts["mapped"][task.task_id] == items, where
            assert len(facts["item_calls"][task.task_id]) == len(items), where
            for call, item in zip(facts["item_calls"][task.task_id], items, strict=True):
                check_call(case, task, call, where, item)
        else:
            check_call(case, task, facts["calls"][task.task_id], where)


def hooks_meant(alerts: list[str | AlertCase]) -> dict[str, list[dict[str, Any]]]:
    """What each state hook runs: an alert command; a python alert's call of the target with its
    args (on_completion for a success alert); in both, the `$${{` escapes read."""
    meant: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        if isinstance(alert, str):
            meant.setdefault("on_failure", []).append({"command": literal(alert)})
        else:
            call = {"kind": "python", "target": PYTHON_TARGET, "kwargs": {"value": literal(alert.args)}}
            meant.setdefault("on_failure" if alert.on == "failure" else "on_completion", []).append(call)
    return meant


def check_call(case: PipelineCase, task: TaskCase, spec: dict[str, Any], where: str, item: Any = None) -> None:
    """What the task runs, given the parameter defaults (and its item)."""
    assert "error" not in spec, (where, spec)
    resolved = {key: value for key, value in spec.items() if key not in ("kind", "target")}
    want: dict[str, Any] = {}
    if task.kind in PYTHON_KINDS:
        assert spec["target"] == PYTHON_TARGET, where
        want["kwargs"] = {"value": meaning(task.args, case, item)}
    elif task.kind == "argv":
        want["argv"] = {"value": [meant(part, case) for part in task.command]}
    else:
        want["command"] = {"value": meant(task.command, case, output_path=task.output_path, item=item)}
    env = {k: meant(v, case) for k, v in task.env.items()}
    if task.secret is not None:
        env[SECRET_ENV] = "<secret {} {}>".format(*task.secret)
    if env:
        want["env"] = {"value": env}
    assert resolved == want, where


def meant(text: Any, case: PipelineCase, output_path: str | None = None, item: Any = None) -> Any:
    """What a text means (injection_cases.expected), `${{ outputs.o }}` being the output's
    path, or the file `o` in the task's temporary directory (which prefect_runner.py names
    "<outputs>")."""
    return expected(text, case, item=item).replace(OUT, output_path or "<outputs>/o")


def check_run(case: RunCase, report: PrefectReport) -> None:
    facts = report.inspected(case.name)["flow"]
    assert facts["defaults"] == case.defaults == facts["schema_defaults"], case.name
    run = report.flow_run(case.name)
    assert run.state == "COMPLETED", run.summary()
    assert sorted(run.ran()) == ["argv", "cmd", "consume", "produce", "py"], run.summary()
    for name, want in run_files(case).items():
        path = run.workdir / name
        assert path.is_file(), f"{case.name}: {name} not written\n{run.summary()}"
        assert path.read_bytes() == want, f"{case.name}: {name}"


# ----------------------------------------------------------------------------- tests


def test_hand_picked_nasty_texts_ids_and_param_names(prefect_engine: PrefectEngine, tmp_path: Path) -> None:
    batch = _hand_picked()
    assert ids_are_valid(batch.inspect[0]) and not ids_are_valid(batch.inspect[-1])
    assert all(VALID_ID.fullmatch(i) for i in PREFECT_IDS)
    assert not set(ACCEPTED_PARAMS) & set(REFUSED_PARAMS)
    assert all(re.fullmatch(r"[A-Za-z_]\w*", name) for name in ACCEPTED_PARAMS + REFUSED_PARAMS)
    check_batch(prefect_engine, batch, tmp_path, REFUSED_PARAMS)


# No shrinking: each example costs an engine process, and the failure message already names the
# pipeline, the task and the field (the whole batch is printed with it).
@settings(max_examples=3, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(batch=batches())
def test_drawn_text_reaches_prefect_exactly(prefect_engine: PrefectEngine, batch: Batch) -> None:
    check_batch(prefect_engine, batch, prefect_engine.scratch_dir("injection"))


# ----------------------------------------------------------------------------- regressions (compile only)


def test_python_args_with_non_ascii_names(tmp_path: Path) -> None:
    """A non-ASCII identifier was passed as `key=`, which Python reads in its NFKC form: `ﬁ=`
    passed `fi` (task args and alert args)."""
    data = {"name": "reg", "alerts": [{"on": "failure", "python": PYTHON_TARGET, "args": {"ℌ": 1}}],
            "tasks": {"a": {"python": PYTHON_TARGET, "args": {"ﬁ": "x", "k": 2}}}}
    compiled = _compile(tmp_path / "reg.yaml", data, tmp_path / "flows")
    assert compiled.ok, compiled.output
    text = compiled.files[0].read_text(encoding="utf-8")
    assert 'record(k=2, **{"ﬁ": "x"})' in text and 'record(**{"ℌ": 1})' in text


def test_else_branch_before_its_if_branch_in_the_general_form(tmp_path: Path) -> None:
    """An else branch written before the task whose `when` it is the else of was submitted before
    that condition was decided (`held.get(...)` was None): it never ran."""
    data = {"name": "reg", "params": {"p0": {"type": "str", "default": "v"}},
            "tasks": {"otherwise": {"command": "echo", "else_of": "decided"},
                      "decided": {"command": "echo", "when": "params.p0 == 'x'"},
                      "join": {"command": "echo", "trigger_rule": "none_failed"}}}  # the general form
    compiled = _compile(tmp_path / "reg.yaml", data, tmp_path / "flows")
    assert compiled.ok, compiled.output
    text = compiled.files[0].read_text(encoding="utf-8")
    assert "runs = {}" in text and text.index('held["decided"] = ') < text.index('runs["otherwise"] = ')
