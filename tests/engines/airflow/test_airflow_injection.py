"""User text reaches Airflow exactly, whatever it contains; task ids reach it as they are.

Hypothesis draws batches of pipelines whose every string field that reaches a DAG (descriptions,
owner, tags, workdir, param defaults, descriptions and enum values, a list param's items (texts and
mappings) a task maps over, artifact paths and descriptions, commands in string and exec form, env
values, secret names and keys, python args (keys too, and nested values), python tasks in an image,
container images, commands and arguments (KubernetesPodOperator, or DockerOperator with
`--option container=docker`), resources' gpu_type, value output paths, pools, alert commands,
python alerts' args (of the pipeline, of a task, under `defaults`), trigger URIs, `when` string
literals deciding a task and its `else_of` branch, literal foreach items) is arbitrary text salted
with what breaks generators: quotes and triple quotes, backslashes, newlines and carriage returns,
Jinja (`{{ }}`, `{% %}`, `{# #}`, a lone `{` before a placeholder), `${ }`, the `$${{` escape,
astral characters, `.sh`/`.env` endings. Every batch is compiled through the real CLI into one
folder and checked in ONE engine subprocess (airflow_runner.py inspect): the BashOperator,
KubernetesPodOperator and DockerOperator fields rendered with the DAG's own Jinja environment
(a mapped pod's fixed ones, then each item's arguments as its `__items` task returns them), what
each TaskFlow task's function runs (its subprocess argv, env and directory, or the keyword
arguments it calls the python target with: the runner's probe records them instead of running
anything; a secret reads as "<variable NAME KEY>"; a mapped task for each item), what a python
script in an image calls its target with (the rendered `python3 -c` run here, its target
recording), what a branch returns, what each callback does (an alert command's partial, the
kwargs a python alert passes), and the fields no template engine reads (doc_md, tags, owner, pool,
Param descriptions and enums, a pod's Secret, resources, DockerOperator's entrypoint, the literal
list a task maps over, an asset's name) must equal the text the pipeline means (placeholders
replaced by the param defaults), or the compile refuses the text with a diagnostic naming the
field (injection_rules.py: a path the documented limits refuse, an asset URI Airflow refuses, what
DockerOperator cannot do) or warns where it leaves it out (a gpu_type DockerOperator cannot ask
for). Task ids drawn from text either reach Airflow exactly (valid ids) or stop the compile with a
clean diagnostic (no traceback).
"""

from __future__ import annotations

import json
import posixpath
import sys
import types
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from engine_harness import AirflowEngine, compile_pipeline
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from injection_cases import (
    ITEMS,
    JINJA,
    KINDS,
    MAPPED_KINDS,
    MAPPED_OVER_ITEMS,
    OUT,
    PARAMS,
    POD_KINDS,
    PROBE_MODULE,
    PYTHON_KINDS,
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
from injection_rules import ARTIFACT, Refusals, ids_are_valid, refusals

from compiler.language.placeholders import literal

pytestmark = [pytest.mark.engine, pytest.mark.slow]

DEFAULT_GPU_TYPE = "nvidia.com/gpu"  # what a DockerOperator's device request gets


# ----------------------------------------------------------------------------- the model


def else_branches(case: PipelineCase, task: TaskCase) -> list[str]:
    return [t.task_id for t in case.tasks if t.else_of == task.task_id]


def asset_uri_is_refused(uri: str) -> bool:
    """What Airflow's Asset refuses (sdk/definitions/asset: _sanitize_uri, _validate_identifier):
    blank text, more than 1,500 characters, a URI urllib cannot split, the reserved scheme
    `airflow`, and the names `self` and `context`."""
    if not uri.strip() or len(uri) > 1500 or uri in ("self", "context"):
        return True
    try:
        parsed = urlsplit(uri)
    except ValueError:
        return True
    return (parsed.scheme or parsed.netloc) != "" and parsed.scheme.lower() == "airflow"


def airflow_refusals(case: PipelineCase) -> Refusals:
    """What Airflow cannot take: an asset it refuses, a tag too long, a DockerOperator's secret,
    a task with the id of a helper task Airflow needs (`<id>__branch`, `<id>__items`)."""
    ids = {t.task_id for t in case.tasks}
    helpers = {f"{t.task_id}__branch" for t in case.tasks if t.when_literal is not None}
    helpers |= {f"{t.task_id}__items" for t in case.tasks if t.kind in MAPPED_OVER_ITEMS}
    refused = {("E302", f"tasks.{helper}") for helper in helpers & ids}
    if case.trigger_uri is not None and asset_uri_is_refused(case.trigger_uri):
        refused.add(("E302", "triggers[0].uri"))
    if case.artifact_produced and asset_uri_is_refused(case.artifact[0]):
        refused.add(("E302", f"artifacts.{ARTIFACT}.path"))
    refused |= {("E302", f"tags[{index}]") for index, tag in enumerate(case.tags) if len(tag) > 100}  # TAG_MAX_LEN
    if case.container == "docker":
        refused |= {("E302", f"tasks.{t.task_id}.secrets") for t in case.tasks if t.kind in POD_KINDS and t.secret}
    return refused


def airflow_warnings(case: PipelineCase) -> set[tuple[str, str]]:
    """(code, YAML path) of each warning about a text Airflow leaves out: a gpu_type a
    DockerOperator cannot ask for."""
    if case.container != "docker":
        return set()
    return {("W302", f"tasks.{t.task_id}.resources.gpu_type") for t in case.tasks
            if t.kind in POD_KINDS and t.resources and t.resources.get("gpu")
            and t.resources.get("gpu_type", DEFAULT_GPU_TYPE) != DEFAULT_GPU_TYPE}


# ----------------------------------------------------------------------------- expected text


# ----------------------------------------------------------------------------- YAML out


# ----------------------------------------------------------------------------- strategies


# URIs of the schemes Airflow normalizes (s3, file), of one it leaves alone (x-), of the one it
# reserves (airflow), and plain names.
trigger_uris = st.builds(lambda scheme, rest: scheme + rest,
                         st.sampled_from(["s3://bucket/", "file:///data/", "x-q://", "airflow://", "AIRFLOW:x", ""]),
                         plain_texts)


@st.composite
def pipeline_cases(draw, index: int, kinds: list[str] = KINDS) -> PipelineCase:
    ids = draw(st.lists(task_ids, min_size=1, max_size=3, unique=True))
    case = PipelineCase(
        name=f"inj_{index}",
        description=draw(st.none() | plain_texts),
        defaults={"p0": draw(plain_texts), "p1": draw(texts(placeholders=False, tail=True)), "n": draw(numbers)},
        param_descriptions={name: draw(plain_texts) for name in draw(st.sets(st.sampled_from(PARAMS)))},
        tasks=[draw(task_cases(task_id, kinds)) for task_id in ids],
        owner=draw(st.none() | plain_texts),
        tags=draw(st.lists(plain_texts, max_size=3, unique=True)),
        workdir=draw(st.none() | plain_texts),
        enum_extra=draw(st.none() | plain_texts),
        alert=draw(st.none() | plain_texts),
        python_alert=draw(sometimes_alert),
        task_alert=draw(sometimes_alert),
        trigger_uri=draw(st.none() | trigger_uris),
        container=draw(st.sampled_from(["kpo", "docker"])),
    )
    for task in case.tasks:
        if task.when_literal == "p0":  # the branch's condition holds
            task.when_literal = case.defaults["p0"]
        if task.output_path is not None and case.workdir is None:  # WORKDIR is the inspecting process's
            task.output_path = None
    if any(task.kind in MAPPED_OVER_ITEMS for task in case.tasks):
        case.defaults[ITEMS] = draw(items_defaults)
    if case.enum_extra == case.defaults["p0"]:
        case.enum_extra = None
    draw_else_branches(draw, case)
    if draw(st.booleans()) and "uses_artifact" not in ids:
        case.artifact_produced = draw(st.booleans())
        path = draw(plain_texts)
        case.artifact = ("s3://bucket/" + path if case.artifact_produced else path, draw(st.none() | plain_texts))
        command = _escape_stray_placeholders(draw(command_texts()) + f" ${{{{ artifacts.{ARTIFACT} }}}}")
        use = {"produces" if case.artifact_produced else "consumes": [ARTIFACT]}
        case.tasks.append(TaskCase("uses_artifact", "bash", command=command, **use))
    return case


@st.composite
def batches(draw) -> list[PipelineCase]:
    # about as many choices as Hypothesis draws for one test case (8 KiB): more would mostly overrun
    size = draw(st.integers(10, 16))
    return [draw(pipeline_cases(index)) for index in range(size)]


# ----------------------------------------------------------------------------- hand-picked cases


def _hand_picked() -> list[PipelineCase]:
    nasty = ("it's \"quoted\" '''triple''' \"\"\" \\ back\\slash \\n {{ x }} {% if %} {# c #} ${ y } "
             "$${{ params.p0 }} 😀")
    defaults = {"p0": "{{ ti }} {% raw %} \\\" '''", "p1": "tail.sh", "n": 7}
    cases = [
        ("bash", "echo a{${{ params.p0 }}{", {"A": "{${{ params.n }}", "B_2": "deploy.sh"}),
        ("bash", "echo " + nasty + " ${{ params.p1 }}", {}),
        ("bash", "printf 'x\r\ny\r'\n", {"A": "line\n"}),
        ("bash", "bash run.sh", {}),
        ("bash", "echo {{{{ }}}} {%%} {##} {", {}),
        ("bash_out", "echo ${{ params.p0 }} $${{ outputs.o }} > ${{ outputs.o }}", {"A": "${{ params.p1 }}"}),
        ("argv", ["printf", "%s\\n", "${{ params.p0 }}", "{{ x }}", "x.sh"], {"A": "'''"}),
        ("python", {"k0": "${{ params.n }}", "k1": "n=${{ params.n }}", "k2": nasty, "k3": "${{ params.p0 }}"}, {}),
        ("python", nasty_args(nasty), {}),
        ("python_image", nasty_args(nasty), {"A": "x.env"}),
        ("container", "echo " + nasty + " config.json", {"A": "{{ x }}.yaml"}),
        ("container", ["sh", "-c", "{# x #}${{ params.p0 }}"], {}),
    ]
    tasks = []
    for index, (kind, body, env) in enumerate(cases):
        task_id = TRICKY_IDS[index * 3]
        if kind in ("python", "python_image"):
            tasks.append(TaskCase(task_id, kind, args=body, env=env, description=nasty))
        elif kind == "container":
            tasks.append(TaskCase(task_id, kind, command=body, args=["--config", "c.yaml", "{{ '{' }}"], env=env))
        else:
            tasks.append(TaskCase(task_id, kind, command=body, env=env, description=nasty + ".md"))
    batch = [PipelineCase("inj_0", nasty, defaults, {"p0": nasty}, tasks), _every_field(nasty, defaults),
             _docker_fields(nasty, defaults),
             PipelineCase("inj_refused", None, dict(defaults), {}, [TaskCase("a", "bash", command="echo")],
                          tags=["ok", "x" * 101], trigger_uri="Airflow:reserved"),
             PipelineCase("inj_refused_docker", None, dict(defaults), {},  # DockerOperator has no secrets
                          [TaskCase("a", "container", command="echo", args=[], secret=("s", "k"))], container="docker")]
    for index, task_id in enumerate(TRICKY_IDS, start=1):  # every tricky id reaches Airflow exactly
        kind = ["bash", "python", "bash_out", "argv"][index % 4]
        command = ["echo", task_id] if kind == "argv" else f"echo {task_id}"
        if kind == "bash_out":
            command += " > ${{ outputs.o }}"
        args = {"k0": task_id} if kind == "python" else None
        batch.append(PipelineCase(f"inj_{index}", None, dict(defaults), {},
                                  [TaskCase(task_id, kind, command=None if args else command, args=args),
                                   TaskCase("a", "bash", command="echo a")]))
    batch.append(PipelineCase(f"inj_{len(batch)}", None, dict(defaults), {},  # two ids one Python name
                              [TaskCase("a-b", "bash", command="echo"), TaskCase("a_b", "bash", command="echo")]))
    batch.append(PipelineCase(f"inj_{len(batch)}", None, dict(defaults), {},
                              [TaskCase("9lives", "bash", command="echo"), TaskCase("x y", "bash", command="echo")]))
    return batch


def _docker_fields(nasty: str, defaults: dict[str, Any]) -> PipelineCase:
    """The containers of _every_field on DockerOperator (which renders `.env` texts as template
    files too), exec-form commands with the escape before the first placeholder (DockerOperator's
    entrypoint, which it never renders), and a GPU type it cannot ask for (W302)."""
    case = _every_field(nasty, defaults)
    pods = [replace(t, secret=None) for t in case.tasks if t.kind in POD_KINDS]
    exec_form = ["echo", "$${{ params.p0 }}", nasty, "${{ params.p0 }}.env", JINJA]
    pods += [TaskCase("exec", "container", command=exec_form, args=["a.env"], env={"A": "b.env", "B_2": nasty},
                      resources={"cpu": "2", "gpu": 2, "gpu_type": JINJA}),
             TaskCase("shell", "container", command="echo $${{ params.p0 }} " + nasty + " ${{ params.p1 }}",
                      args=["${{ params.n }}", "{{"])]
    return replace(case, name="inj_docker", tasks=pods, container="docker", artifact=None)


# ----------------------------------------------------------------------------- the check


def check_batch(engine: AirflowEngine, batch: list[PipelineCase], workdir: Path) -> None:
    sources, dags = workdir / "sources", workdir / "dags"
    sources.mkdir(parents=True)
    dags.mkdir()
    valid = []
    for case in batch:
        source = sources / f"{case.name}.yaml"
        source.write_text(yaml_flow(pipeline_data(case)) + "\n", encoding="utf-8")
        compiled = compile_pipeline(source, dags, "--option", f"container={case.container}")
        if check_compiled(case, compiled, refusals(case, airflow_refusals)):
            assert_reported(case, compiled.output, airflow_warnings(case), "warning")
            valid.append(case)
    if not valid:
        return
    output = engine.inspect(dags)
    facts = output.data
    assert facts.get("import_errors") == {}, facts.get("import_errors") or output.tail()
    assert sorted(facts["dags"]) == sorted(case.name for case in valid)
    for case in valid:
        check_dag(case, facts["dags"][case.name])


def check_dag(case: PipelineCase, dag: dict[str, Any]) -> None:
    assert "inspect_error" not in dag, dag.get("inspect_error")
    assert dag["description"] == (case.description or None)  # an empty description is no description
    assert dag["tags"] == sorted(case.tags)
    assert dag["params"] == case.defaults
    assert dag["param_descriptions"] == {name: case.param_descriptions.get(name) or None for name in case.defaults}
    enum = None if case.enum_extra is None else [case.defaults["p0"], case.enum_extra]
    assert dag["param_enums"] == {name: enum if name == "p0" else None for name in case.defaults}
    alerts = [case.alert] if case.alert is not None else []
    meant = callbacks_meant(case, alerts + [case.python_alert] if case.python_alert else alerts)
    assert callbacks_found(case, dag["callbacks"]) == meant
    if case.trigger_uri is not None:  # the asset's name is the text; its URI Airflow's normal form of it
        assert [name for name, _ in dag["assets"]] == [case.trigger_uri]
    helpers = {f"{t.task_id}__branch" for t in case.tasks if t.when_literal is not None}
    helpers |= {f"{t.task_id}__items" for t in case.tasks if t.kind in MAPPED_OVER_ITEMS}
    assert set(dag["tasks"]) == {t.task_id for t in case.tasks} | helpers
    for task in case.tasks:
        check_task(case, task, dag["tasks"])


def callbacks_meant(case: PipelineCase, alerts: list[str | AlertCase]) -> dict[str, list[dict[str, Any]]]:
    """What each callback does: an alert command is a partial of it, a python alert calls the
    target with its args, in the working directory (in both, the `$${{` escapes read)."""
    meant: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        if isinstance(alert, str):
            meant.setdefault("on_failure_callback", []).append({"partial": [literal(alert)]})
        else:
            call = {"kwargs": literal(alert.args), "env": {}, **({"cwd": case.workdir} if case.workdir is not None else {})}
            meant.setdefault(f"on_{alert.on}_callback", []).append(call)
    return meant


def callbacks_found(case: PipelineCase, callbacks: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {key: [probed(case, call) for call in listed] for key, listed in callbacks.items()}


def probed(case: PipelineCase, call: dict[str, Any]) -> dict[str, Any]:
    """A probed call without the inspecting process's directory (the case has no workdir)."""
    return call if case.workdir is not None else {k: v for k, v in call.items() if k != "cwd"}


def check_task(case: PipelineCase, task: TaskCase, tasks: dict[str, Any]) -> None:
    actual = tasks[task.task_id]
    where = f"{case.name}.{task.task_id} ({task.kind})"
    assert actual["task_id"] == task.task_id, where
    assert actual["doc_md"] == (task.description or None), where
    assert actual["owner"] == (case.owner or "airflow"), where
    if task.pool is not None:  # else Airflow's default (None on a mapped task until it expands)
        assert actual["pool"] == task.pool, where
    if task.produces:  # the asset Airflow names ARTIFACT, with Airflow's normal form of the URI
        assert [name for name, _ in actual["outlets"]] == [ARTIFACT], where
    alert = task_alert(case, task)
    assert callbacks_found(case, actual["callbacks"]) == callbacks_meant(case, [alert] if alert else []), where
    if task.when_literal is not None:
        otherwise = else_branches(case, task)
        chosen = task.task_id if runs(case, task) else otherwise[0] if len(otherwise) == 1 else otherwise
        assert tasks[f"{task.task_id}__branch"]["call"] == {"returned": chosen}, where
    if task.resources and task.kind not in POD_KINDS:  # the pod KubernetesExecutor runs it in
        (container,) = actual["executor_config"]["pod_override"]["spec"]["containers"]
        assert resources_of(container["resources"]) == resources_meant(task.resources), where
    if task.kind in POD_KINDS:
        check_pod(case, task, actual, tasks, where)
    else:
        check_run(case, task, actual, tasks, where)


def check_run(case: PipelineCase, task: TaskCase, actual: dict[str, Any], tasks: dict[str, Any], where: str) -> None:
    """What the task runs: its rendered template fields, or what its TaskFlow function runs."""
    env = {k: expected(v, case) for k, v in task.env.items()}
    secret_value = None if task.secret is None else "<variable {} {}>".format(*task.secret)
    if task.kind == "bash":
        rendered = actual["rendered"]
        assert actual["class"] == "BashOperator", where
        assert rendered["bash_command"] == {"value": expected(task.command, case)}, where
        assert rendered.get("env", {"value": None}) == {"value": env or None}, where
        if case.workdir is not None:
            assert rendered["cwd"] == {"value": case.workdir}, where
        return
    if task.kind == "foreach":
        assert actual["expand"] == {"item": literal(task.items)}, where
    if task.kind in MAPPED_OVER_ITEMS:  # the list Airflow maps over is the param's, as it gives it
        assert tasks[f"{task.task_id}__items"]["call"] == {"returned": case.defaults[ITEMS]}, where
    if task.kind in MAPPED_KINDS:
        calls = actual["item_calls"]
        items = literal(task.items) if task.items else case.defaults[ITEMS]  # a param's values are data
        assert len(calls) == len(items), where
    else:
        calls, items = [actual.get("call")], [None]
        assert calls[0] is not None, f"{where}: not a TaskFlow task: {actual}"
    for call, item in zip(calls, items, strict=True):
        if task.kind in PYTHON_KINDS:
            want: dict[str, Any] = {"kwargs": meaning(task.args, case, item)}
        elif task.kind == "argv":
            want = {"argv": [expected(part, case) for part in task.command]}
        else:
            want = {"argv": ["bash", "-c", expected(task.command, case, item=item)]}
            if task.output_path is not None:  # the value's file is the output's path in the workdir
                want["argv"][2] = want["argv"][2].replace(OUT, posixpath.join(case.workdir, task.output_path))
        want["env"] = env if secret_value is None else {**env, SECRET_ENV: secret_value}
        if case.workdir is not None:
            want["cwd"] = case.workdir
        assert probed(case, call) == want, where


def check_pod(case: PipelineCase, task: TaskCase, actual: dict[str, Any], tasks: dict[str, Any], where: str) -> None:
    """A container's image, argv, env, secrets and resources, as KubernetesPodOperator renders them
    (or DockerOperator: its entrypoint is never rendered), and what a python script in it calls."""
    docker = case.container == "docker"
    fields = actual["partial_rendered"] if task.kind == "pod_foreach" else actual["rendered"]
    assert fields["image"] == {"value": task.image}, where
    env = {k: expected(v, case) for k, v in task.env.items()}
    if docker:
        assert fields.get("environment", {"value": {}})["value"] == env, where
    else:
        env_vars = (fields.get("env_vars") or {"value": []})["value"]
        assert env_vars == env if env else env_vars in ([], {}), where  # no env: an empty list
        assert actual.get("secrets") == (None if task.secret is None else [["env", SECRET_ENV, *task.secret]]), where
    if task.resources and not docker:
        assert resources_of(fields["container_resources"]["value"]) == resources_meant(task.resources), where
    fixed = actual.get("entrypoint", []) if docker else fields["cmds"]["value"]
    if task.kind == "pod_foreach":  # the fixed argv, then what the `__items` task gives each item
        returned = tasks[f"{task.task_id}__items"]["call"]["returned"]
        assert [fixed + own for own in returned] == [pod_argv(case, task, item) for item in case.defaults[ITEMS]], where
        return
    own = fields.get("command" if docker else "arguments") or {"value": []}
    argv = fixed + (own["value"] or [])
    if task.kind == "python_image":
        assert script_call(argv) == meaning(task.args, case), where
    else:
        assert argv == pod_argv(case, task), where


def pod_argv(case: PipelineCase, task: TaskCase, item: Any = None) -> list[str]:
    """The container's argv: a string command runs as `sh -c`, its args following it as "$@"."""
    args = [expected(arg, case, item=item) for arg in task.args]
    if not isinstance(task.command, str):
        return [expected(part, case, item=item) for part in task.command] + args
    command = expected(task.command, case, item=item)
    return ["sh", "-c", command + ' "$@"', "sh", *args] if args else ["sh", "-c", command]


def script_call(argv: list[str]) -> dict[str, Any]:
    """The keyword arguments `python3 -c SCRIPT VALUE...` calls PYTHON_TARGET with: the script
    run here, as the container would run it, its target recording them."""
    assert argv[:2] == ["python3", "-c"], argv
    recorded: dict[str, Any] = {}
    probe = types.ModuleType(PROBE_MODULE)
    probe.record = lambda **kwargs: recorded.update(kwargs)  # type: ignore[attr-defined]
    saved = sys.argv, sys.modules.get(PROBE_MODULE)
    sys.argv, sys.modules[PROBE_MODULE] = ["-c", *argv[3:]], probe
    try:
        exec(compile(argv[2], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102 - the test's own DAG
    finally:
        sys.argv = saved[0]
        if saved[1] is None:
            del sys.modules[PROBE_MODULE]
    return recorded


def resources_meant(resources: dict[str, Any]) -> dict[str, dict[str, str]]:
    """A Kubernetes container's resources: cpu and memory requested, memory and the GPUs limited."""
    requests = {key: resources[key] for key in ("cpu", "memory") if key in resources}
    limits = {"memory": resources["memory"]} if "memory" in resources else {}
    if resources.get("gpu"):
        limits[resources.get("gpu_type", DEFAULT_GPU_TYPE)] = str(resources["gpu"])
    return {key: value for key, value in (("limits", limits), ("requests", requests)) if value}


def resources_of(found: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in found.items() if value}


# ----------------------------------------------------------------------------- tests


def test_hand_picked_nasty_texts_and_ids(airflow_engine: AirflowEngine, tmp_path: Path) -> None:
    batch = _hand_picked()
    assert ids_are_valid(batch[0]) and not ids_are_valid(batch[-1]) and not ids_are_valid(batch[-2])
    check_batch(airflow_engine, batch, tmp_path)


# No shrinking: each example costs an engine subprocess, and the failure message already names
# the pipeline, the task and the field (the whole batch is printed with it).
@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(batch=batches())
def test_drawn_text_reaches_airflow_exactly(airflow_engine: AirflowEngine, batch: list[PipelineCase]) -> None:
    check_batch(airflow_engine, batch, airflow_engine.scratch_dir("injection"))


# ----------------------------------------------------------------------------- regressions (compile only)


def _compiled_dag(tmp_path: Path, case: PipelineCase) -> tuple[str, str]:
    """(the DAG file's text, the compile's output) of one case."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / f"{case.name}.yaml"
    source.write_text(yaml_flow(pipeline_data(case)) + "\n", encoding="utf-8")
    compiled = compile_pipeline(source, tmp_path / "dags", "--option", f"container={case.container}")
    assert compiled.ok, compiled.output
    return compiled.files[0].read_text(encoding="utf-8"), compiled.output


def _operator_argument(dag_text: str, task_id: str, keyword: str, *, rendered: bool = True) -> Any:
    """The list of texts the task's operator call passes as `keyword`, rendered with the param
    p0 = "v" as Airflow's Jinja renders a template field (unless it is none)."""
    import ast

    import jinja2

    for node in ast.walk(ast.parse(dag_text)):
        given = {k.arg: k.value for k in getattr(node, "keywords", [])} if isinstance(node, ast.Call) else {}
        if "task_id" in given and ast.literal_eval(given["task_id"]) == task_id and keyword in given:
            texts = ast.literal_eval(given[keyword])
            if not rendered:
                return texts
            template = jinja2.Environment().from_string  # noqa: S701 - renders the test's own DAG
            return [template(text).render(params={"p0": "v"}) for text in texts]
    raise AssertionError(f"no {keyword} for {task_id}")


def _one_task(task: TaskCase, container: str = "kpo") -> PipelineCase:
    return PipelineCase("reg", None, {"p0": "v", "p1": "", "n": 1}, {}, [task], container=container)


def test_python_args_any_key(tmp_path: Path) -> None:
    """Keys no `key=` can pass went into the call as written: the DAG file did not parse (E401),
    and `ﬁ=` passes `fi`."""
    case = _one_task(TaskCase("a", "python", args={"ﬁ": "x", "a b": "${{ params.p0 }}"}))
    case.python_alert = AlertCase("failure", {"ﬁ": 1, "a b": [2], "class": "$${{ x }}"})
    text, _ = _compiled_dag(tmp_path, case)
    assert '**{"ﬁ": 1, "a b": [2], "class": "${{ x }}"}' in text  # alerts take no placeholders: the escape read
    assert '**{"ﬁ": "x", "a b": params["p0"]}' in text


def test_one_function_per_python_alert(tmp_path: Path) -> None:
    """Each task running the alert under `defaults` had its own copy of it (and so wrote it itself
    instead of sharing it in default_args)."""
    case = _one_task(TaskCase("a", "bash", command="echo"))
    case.tasks.append(TaskCase("b", "bash", command="echo"))
    case.task_alert = AlertCase("failure", {"k": 1})
    text, _ = _compiled_dag(tmp_path, case)
    assert text.count("def _alert_record") == 1 and text.count("[_alert_record]") == 1  # in default_args


def test_python_in_an_image_gets_its_args_exactly(tmp_path: Path) -> None:
    """The script was read for placeholders again: a lone `$${{` in one value and a `}}` in the
    next made an escape across them; a key that is no name broke the script."""
    args = {"k0": [1, "$${{"], "k1": {"$${{ k }}": "}}"}, "a b": "$${{ params.p0 }}", "ﬁ": "${{ params.p0 }}"}
    case = _one_task(TaskCase("a", "python_image", args=args))
    for container, keyword in (("kpo", "cmds"), ("docker", "entrypoint")):
        text, _ = _compiled_dag(tmp_path / container, replace(case, container=container))
        argv = _operator_argument(text, "a", keyword, rendered=container == "kpo")
        values = _operator_argument(text, "a", "arguments" if container == "kpo" else "command")
        assert script_call(argv + values) == {"k0": [1, "$${{"], "k1": {"$${{ k }}": "}}"},
                                                "a b": "${{ params.p0 }}", "ﬁ": "v"}


def test_pod_output_path_with_the_escape(tmp_path: Path) -> None:
    """The outputs' spec was read for placeholders: a path holding `$${{ ... }}` lost a `$`, so the
    pod read another file than the command wrote."""
    path = "o/$${{ p }}.txt"
    task = TaskCase("a", "container", command="echo x > ${{ outputs.o }}", args=[])
    case = _one_task(task)
    data = pipeline_data(case)
    data["tasks"]["a"]["outputs"] = {"o": {"type": "str", "path": path}}
    source = tmp_path / "reg.yaml"
    source.write_text(yaml_flow(data) + "\n", encoding="utf-8")
    compiled = compile_pipeline(source, tmp_path / "dags")
    assert compiled.ok, compiled.output
    cmds = _operator_argument(compiled.files[0].read_text(encoding="utf-8"), "a", "cmds")
    assert json.loads(cmds[4]) == {"o": ["str", path]} and cmds[-1] == f"echo x > {path}"


def test_docker_entrypoint_resolves_the_escape(tmp_path: Path) -> None:
    """DockerOperator's entrypoint (never rendered) held `$${{` as written."""
    task = TaskCase("a", "container", command=["echo", "$${{ params.p0 }}", "${{ params.p0 }}"], args=[])
    text, _ = _compiled_dag(tmp_path, _one_task(task, "docker"))
    assert _operator_argument(text, "a", "entrypoint", rendered=False) == ["echo", "${{ params.p0 }}"]


def test_pods_mapped_over_a_param_import_task(tmp_path: Path) -> None:
    """A DAG of pods only, one mapped over a list param: its `__items` task used `@task` without
    importing it (the DAG file failed to import)."""
    case = _one_task(TaskCase("a", "pod_foreach", command="echo ${{ item }}", args=["${{ item }}"]))
    case.defaults[ITEMS] = ["x"]
    text, _ = _compiled_dag(tmp_path, case)
    assert "from airflow.sdk import DAG, Param, task" in text


def test_docker_gpu_type_left_out_with_a_warning(tmp_path: Path) -> None:
    """DockerOperator asks for NVIDIA GPUs by count: another gpu_type was dropped without a word."""
    task = TaskCase("a", "container", command="echo", args=[], resources={"gpu": 1, "gpu_type": "amd.com/gpu"})
    _, output = _compiled_dag(tmp_path, _one_task(task, "docker"))
    assert "warning[W302]" in output and "(tasks.a.resources.gpu_type)" in output


def test_python_mapped_over_its_whole_item_under_any_key(tmp_path: Path) -> None:
    """The mapped argument was named after a key that is the whole item even where the key is no
    name (`def t(a b_)`: E401)."""
    case = _one_task(TaskCase("a", "python_foreach", args={"a b": "${{ item }}"}))
    case.defaults[ITEMS] = ["x"]
    text, _ = _compiled_dag(tmp_path, case)
    assert "def a(item):" in text and '**{"a b": item}' in text
