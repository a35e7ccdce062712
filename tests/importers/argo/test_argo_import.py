"""The Argo importer (compiler/importers/argo/importer.py): hand-made workflows for each construct and
loss, the official Argo examples in the external corpus (../shared/corpus; tests marked `corpus`),
and dagshift's own output where the shared round-trip test cannot reach it (a WorkflowTemplate)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import external_corpus
import pytest

from compiler.importers import detect, get, import_file
from compiler.importers.base import Grade


def write(tmp_path: Path, text: str, name: str = "wf.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def only(path: Path):
    (result,) = import_file(path, "argo")
    return result


def losses(result) -> list[tuple[str, int | None, str]]:
    return [(d.code, d.loc.line if d.loc else None, d.message) for d in result.diagnostics]


STEPS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: coinflip-
spec:
  entrypoint: main
  arguments:
    parameters:
      - name: who
        value: world
  templates:
    - name: main
      steps:
        - - name: flip
            template: flip
        - - name: heads
            template: say
            when: "{{steps.flip.outputs.parameters.side}} == heads"
            arguments:
              parameters: [{name: text, value: "heads for {{workflow.parameters.who}}"}]
          - name: tails
            template: say
            when: "{{steps.flip.outputs.parameters.side}} == tails"
            arguments:
              parameters: [{name: text, value: tails}]
        - - name: done
            template: say
            arguments:
              parameters: [{name: text, value: done}]
    - name: flip
      outputs:
        parameters:
          - name: side
            valueFrom: {path: /tmp/side}
      retryStrategy:
        limit: "2"
        backoff: {duration: 5s, factor: 2}
      script:
        image: python:3.12
        command: [python]
        source: |
          import random
          open("/tmp/side", "w").write(random.choice(["heads", "tails"]))
    - name: say
      inputs:
        parameters: [{name: text}]
      container:
        image: alpine:3.20
        command: [echo, "{{inputs.parameters.text}}"]
"""


def test_steps_conditions_outputs_and_retries(tmp_path: Path) -> None:
    result = only(write(tmp_path, STEPS))
    assert result.grade is Grade.AUTOMATIC, losses(result)
    tasks = result.data["tasks"]
    assert result.data["params"] == {"who": "world"}
    assert tasks["flip"]["image"] == "python:3.12"
    assert tasks["flip"]["command"][:2] == ["python", "-c"]
    assert tasks["flip"]["outputs"] == {"side": {"type": "str", "path": "/tmp/side"}}
    assert tasks["flip"]["retries"] == 2 and tasks["flip"]["retry_delay"] == 5 and tasks["flip"]["retry_backoff"] == 2
    assert tasks["heads"]["when"] == "tasks.flip.outputs.side == 'heads'"
    assert tasks["heads"]["command"] == ["echo", "heads for ${{ params.who }}"]
    assert tasks["heads"]["after"] == ["flip"]
    # the next group waits for both branches, one of which is always skipped
    assert tasks["done"]["after"] == ["heads", "tails"] and tasks["done"]["trigger_rule"] == "none_failed"


DAG = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: diamond
  annotations:
    example.com/team: data
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: A
            template: echo
            arguments: {parameters: [{name: m, value: A}]}
          - name: B
            depends: A
            template: echo
            withItems: [1, 2]
            arguments: {parameters: [{name: m, value: "{{item}}"}]}
          - name: C
            depends: "A.Failed || A.Errored"
            template: echo
            arguments: {parameters: [{name: m, value: C}]}
    - name: echo
      inputs: {parameters: [{name: m}]}
      nodeSelector: {disk: ssd}
      container:
        image: alpine:3.20
        command: [echo, "{{inputs.parameters.m}}"]
        volumeMounts: [{name: v, mountPath: /v}]
"""


def test_dag_depends_loops_and_losses_with_lines(tmp_path: Path) -> None:
    result = only(write(tmp_path, DAG))
    tasks = result.data["tasks"]
    assert tasks["B"]["foreach"] == [1, 2] and tasks["B"]["command"] == ["echo", "${{ item }}"]
    assert tasks["C"]["trigger_rule"] == "one_failed" and tasks["C"]["after"] == ["A"]
    assert result.grade is Grade.REVIEW
    found = {(code, line) for code, line, _ in losses(result)}
    assert not any(line == 6 for _, line in found)  # the annotation is kept, in the description
    assert result.data["description"] == "Argo annotations:\nexample.com/team: data"
    assert ("W601", 27) in found  # nodeSelector
    assert ("W601", 31) in found  # volumeMounts


def test_strict_fails_on_a_loss_and_writes_nothing(cli, tmp_path: Path) -> None:
    source = write(tmp_path, DAG)
    out = tmp_path / "p.yaml"
    result = cli("import", str(source), "--from", "argo", "-o", str(out), "--strict")
    assert result.exit_code == 1 and "W601" in result.stdout and not out.exists()
    result = cli("import", str(source), "-o", str(out))
    assert result.exit_code == 0, result.stdout
    assert "name: diamond" in out.read_text()


def test_multi_document_files_and_cron_schedules(tmp_path: Path) -> None:
    text = STEPS + """
---
apiVersion: v1
kind: ConfigMap
metadata: {name: limits}
data: {runs: "2"}
---
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: nightly
spec:
  schedules: ["0 3 * * *"]
  timezone: Europe/Berlin
  concurrencyPolicy: Forbid
  workflowSpec:
    entrypoint: hello
    synchronization:
      semaphores: [{configMapKeyRef: {name: limits, key: runs}}]
    templates:
      - name: hello
        container: {image: alpine:3.20, command: [echo, hi]}
"""
    results = import_file(write(tmp_path, text), None)
    assert [r.origin for r in results] == ["document 1", "document 3"]
    cron = results[1].data
    assert cron["schedule"] == {"cron": "0 3 * * *", "timezone": "Europe/Berlin"}
    assert cron["max_active_runs"] == 2  # the semaphore's limit, from the ConfigMap in the file
    assert cron["tasks"] == {"hello": {"image": "alpine:3.20", "command": ["echo", "hi"]}}


def test_detects_argo_files_and_not_other_yaml(tmp_path: Path) -> None:
    argo = get("argo")
    assert argo.detect(tmp_path / "wf.yaml", STEPS)
    assert not argo.detect(tmp_path / "dvc.yaml", "stages:\n  a:\n    cmd: echo\n")
    assert not argo.detect(tmp_path / "k.yaml", "apiVersion: v1\nkind: ConfigMap\n")
    assert not argo.detect(tmp_path / "wf.py", STEPS)
    assert detect(tmp_path / "wf.yaml", STEPS) is argo


@pytest.mark.parametrize("body, reason", [
    ("    - name: main\n      data: {source: {artifactPaths: {name: x}}, transformation: []}\n", "data template"),
    ("    - name: main\n      steps: [[{name: again, template: main}]]\n", "calls itself"),
])
def test_what_cannot_be_imported_is_manual_with_a_reason(tmp_path: Path, body: str, reason: str) -> None:
    text = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\nspec:\n  entrypoint: main\n" \
           "  templates:\n" + body
    result = only(write(tmp_path, text))
    assert result.grade is Grade.MANUAL
    assert any(d.code == "E602" and reason in d.message for d in result.diagnostics), losses(result)


def test_bad_yaml_and_files_without_a_workflow(tmp_path: Path) -> None:
    assert only(write(tmp_path, "kind: [", "bad.yaml")).diagnostics.errors[0].code == "E601"
    result = only(write(tmp_path, "apiVersion: v1\nkind: ConfigMap\n", "cm.yaml"))
    assert result.grade is Grade.SKIPPED and "ConfigMap" in result.diagnostics.errors[0].message


def test_dagshift_workflow_template_imports_back(cli, tmp_path: Path) -> None:
    """event_triggered compiles to a WorkflowTemplate + Sensor, which the shared round trip's
    entry (workflow.yaml or cronworkflow.yaml) does not read: check it here."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from test_round_trip import check_file_text, expected_pipeline

    from compiler.importers.normalize import normalized

    out = tmp_path / "out"
    assert cli("compile", "examples/event_triggered.yaml", "-t", "argo", "-o", str(out), "-q").exit_code == 0
    (imported,) = import_file(out / "workflowtemplate.yaml", "argo")
    assert imported.grade is Grade.AUTOMATIC, losses(imported)
    without = get("argo").not_carried
    expected = expected_pipeline("event_triggered", "argo", 1)
    assert normalized(check_file_text(imported), without) == normalized(expected, without)


# ----------------------------------------------------------------------------- references and defaults

LIBRARY = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: library
spec:
  templates:
    - name: say                      # the same name as the caller's own template: not the one it runs
      inputs:
        parameters: [{name: text}]
      container: {image: alpine:3.20, command: [echo, "lib {{inputs.parameters.text}}"]}
    - name: pair
      dag:
        tasks:
          - {name: first, template: say, arguments: {parameters: [{name: text, value: one}]}}
          - {name: second, template: say, depends: first, arguments: {parameters: [{name: text, value: two}]}}
"""

CALLER = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: caller}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: a
            templateRef: {name: library, template: say}
            arguments: {parameters: [{name: text, value: A}]}
          - {name: b, depends: a, templateRef: {name: library, template: pair}}
          - {name: c, depends: b, template: say}
    - name: say
      container: {image: busybox, command: [echo, mine]}
"""


def test_template_ref_to_a_workflow_template_in_a_file_next_to_it(tmp_path: Path) -> None:
    write(tmp_path, LIBRARY, "library.yaml")
    result = only(write(tmp_path, CALLER))
    assert result.grade is Grade.AUTOMATIC, losses(result)
    tasks = result.data["tasks"]
    assert tasks["a"] == {"image": "alpine:3.20", "command": ["echo", "lib A"]}
    # the library's dag is inlined, its `say` is the library's own
    assert tasks["b-first"] == {"image": "alpine:3.20", "command": ["echo", "lib one"], "after": ["a"]}
    assert tasks["b-second"]["after"] == ["b-first"]
    assert tasks["c"] == {"image": "busybox", "command": ["echo", "mine"], "after": ["b-second"]}


def test_template_ref_in_the_same_file_and_workflow_template_ref_next_to_it(tmp_path: Path) -> None:
    library_document, same_file = import_file(write(tmp_path, LIBRARY + "---" + CALLER, "both.yaml"), "argo")
    assert library_document.grade is Grade.MANUAL  # a library of templates, no entrypoint
    assert same_file.grade is Grade.AUTOMATIC and "b-second" in same_file.data["tasks"]
    library = tmp_path / "lib"
    library.mkdir()
    write(library, LIBRARY.replace("  templates:", "  entrypoint: pair\n  templates:"), "library.yaml")
    cron = write(library, """
        apiVersion: argoproj.io/v1alpha1
        kind: CronWorkflow
        metadata: {name: nightly}
        spec:
          schedules: ["0 1 * * *"]
          workflowSpec:
            workflowTemplateRef: {name: library}
        """, "cron.yaml")
    result = only(cron)
    assert result.grade is Grade.AUTOMATIC, losses(result)
    assert result.data["schedule"]["cron"] == "0 1 * * *"
    assert list(result.data["tasks"]) == ["first", "second"]


def test_template_refs_that_cannot_be_followed_are_manual(tmp_path: Path) -> None:
    missing = only(write(tmp_path, CALLER))
    assert missing.grade is Grade.MANUAL
    assert "WorkflowTemplate 'library', which is neither in this file nor in a YAML file next to it" in \
        missing.diagnostics.errors[0].message
    write(tmp_path, LIBRARY, "one.yaml")
    write(tmp_path, LIBRARY, "two.yaml")
    twice = only(tmp_path / "wf.yaml")
    assert twice.grade is Grade.MANUAL
    assert "defined in several files next to this one (one.yaml, two.yaml)" in twice.diagnostics.errors[0].message
    cluster = only(write(tmp_path, CALLER.replace("{name: library, template: say}",
                                                  "{name: library, template: say, clusterScope: true}")))
    assert "ClusterWorkflowTemplate 'library'" in cluster.diagnostics.errors[0].message


DEFAULTS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: defaults}
spec:
  entrypoint: main
  arguments:
    parameters: [{name: limit, value: 30s}]
  templates:
    - name: main
      dag:
        failFast: false
        tasks:
          - {name: p, template: produce, when: "false"}
          - name: q
            template: wait
            depends: "p.Succeeded || p.Skipped"
            arguments: {parameters: [{name: timeout, value: 20s}]}
          - name: r
            template: wait
            depends: q
            arguments: {parameters: [{name: timeout, value: "{{workflow.parameters.limit}}"}]}
    - name: produce
      outputs:
        parameters:
          - name: msg
            valueFrom: {path: /tmp/msg, default: fallback}
      container: {image: busybox, command: [sh, -c, "echo hi > /tmp/msg"]}
    - name: wait
      timeout: "{{inputs.parameters.timeout}}"
      inputs:
        parameters: [{name: timeout}]
      container: {image: busybox, command: [sleep, "1"]}
"""


def test_defaults_that_are_how_a_pipeline_runs_and_those_that_are_not(tmp_path: Path) -> None:
    result = only(write(tmp_path, DEFAULTS))
    tasks = result.data["tasks"]
    assert tasks["q"]["trigger_rule"] == "none_failed"  # ran or skipped, as Argo's depends says
    assert tasks["q"]["timeout"] == 20  # the timeout the caller passed, a fixed duration
    assert "timeout" not in tasks["r"]  # a param's value is known only when the pipeline runs
    assert losses(result) == [
        ("W602", 26, ("output parameter 'msg': the default 'fallback' (Argo's value when the task writes no file, "
                     "or is skipped) is not carried")),
        ("W601", 29, ("template 'wait': timeout '{{inputs.parameters.timeout}}' is not a fixed duration, and is not "
                     "carried")),
    ]  # and nothing for failFast: false, which is how every pipeline runs
    fail_fast = only(write(tmp_path, DEFAULTS.replace("failFast: false", "failFast: true")))
    assert losses(fail_fast) == losses(result)  # a chain: a failure stops the same tasks either way


def workflow(entry: str, *templates: str, spec: str = "") -> str:
    """A Workflow of these templates (each a YAML list, dedented on its own)."""
    body = "".join(textwrap.dedent(t).lstrip("\n") for t in templates)
    return ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\nspec:\n"
            f"  entrypoint: {entry}\n{spec}  templates:\n" + textwrap.indent(body, "    "))


SLEEP = """
- name: sleep
  container: {image: alpine, command: [sleep, "1"]}
"""


def test_the_entrypoints_parallelism_caps_the_tasks_of_a_run(tmp_path: Path) -> None:
    """A dag / steps template's parallelism caps its running children: when it is the entrypoint and
    they are all containers or scripts, the pods of the run, i.e. max_active_tasks."""
    steps = """
    - name: main
      parallelism: 2
      steps:
        - - {name: sleep, template: sleep, withItems: [a, b, c, d]}
        - - {name: last, template: sleep}
    """, SLEEP
    result = only(write(tmp_path, workflow("main", *steps)))
    assert result.grade is Grade.AUTOMATIC, losses(result)
    assert result.data["max_active_tasks"] == 2
    # with the workflow's own parallelism, the smaller limit holds
    result = only(write(tmp_path, workflow("main", *steps, spec="  parallelism: 1\n")))
    assert result.grade is Grade.AUTOMATIC and result.data["max_active_tasks"] == 1
    dag = """
    - name: main
      parallelism: 3
      dag:
        tasks:
          - {name: a, template: sleep}
          - {name: b, template: sleep, depends: a}
    """, SLEEP
    result = only(write(tmp_path, workflow("main", *dag)))
    assert result.grade is Grade.AUTOMATIC and result.data["max_active_tasks"] == 3


def test_a_parallelism_that_is_not_the_runs_limit_is_a_loss(tmp_path: Path) -> None:
    # a child that is itself a dag counts as one: Argo limits the groups, not their pods
    nested = """
    - name: main
      parallelism: 2
      dag:
        tasks:
          - {name: a, template: group}
          - {name: b, template: group}
    - name: group
      parallelism: 1
      dag:
        tasks:
          - {name: s, template: sleep}
    """, SLEEP
    result = only(write(tmp_path, workflow("main", *nested)))
    assert "max_active_tasks" not in result.data
    assert [(code, line, message) for code, line, message in losses(result)] == [
        ("W601", 8, "dag template: parallelism is not carried"),
        ("W601", 14, "dag template: parallelism is not carried"),
        ("W601", 14, "dag template: parallelism is not carried"),
    ]  # the inner template once per call
    unread = only(write(tmp_path, workflow("main", """
    - name: main
      parallelism: "{{workflow.parameters.n}}"
      steps: [[{name: sleep, template: sleep}]]
    """, SLEEP)))
    assert "max_active_tasks" not in unread.data
    assert ("W601", 8, "steps template: parallelism is not carried") in losses(unread)


def test_a_dag_or_steps_templates_own_retries_and_timeouts_are_losses(tmp_path: Path) -> None:
    """Argo retries (or times out) the whole group: no task has that setting (it was dropped unsaid)."""
    text = workflow("main", """
    - name: main
      retryStrategy: {limit: 2}
      activeDeadlineSeconds: 60
      dag:
        tasks:
          - {name: a, template: sleep}
    """, SLEEP)
    result = only(write(tmp_path, text))
    assert result.grade is Grade.REVIEW
    assert losses(result) == [
        ("W601", 8, "dag template 'main': retryStrategy (of the whole group of tasks) is not carried"),
        ("W601", 9, "dag template 'main': activeDeadlineSeconds (of the whole group of tasks) is not carried"),
    ]
    assert "retries" not in result.data["tasks"]["a"] and "timeout" not in result.data["tasks"]["a"]


def test_a_long_chain_listed_backwards_imports(tmp_path: Path) -> None:
    """Tasks are ordered without recursion (and in linear time): 3,000 tasks, each listed before
    the one it depends on."""
    count = 3000
    tasks = "".join(f"          - {{name: t{i}, template: sleep{f', depends: t{i - 1}' if i else ''}}}\n"
                    for i in reversed(range(count)))
    text = workflow("main", SLEEP, "- name: main\n  dag:\n    tasks:\n") + tasks
    result = only(write(tmp_path, text))
    assert result.grade is Grade.AUTOMATIC, losses(result)[:3]
    assert list(result.data["tasks"]) == [f"t{i}" for i in range(count)]
    assert result.data["tasks"]["t2999"]["after"] == ["t2998"]
    cycle = text.replace("{name: t0, template: sleep}", "{name: t0, template: sleep, depends: t2999}")
    result = only(write(tmp_path, cycle))
    assert result.grade is Grade.MANUAL
    assert "the dag has a cycle through 't2999'" in result.diagnostics.errors[0].message


def _same_yaml(fast, exact, where: str = "$") -> None:
    """The same data, types, and line and column of every mapping, sequence, key and item (an
    empty value's own position may differ: nothing asks for it)."""
    assert type(fast) is type(exact), where
    if hasattr(exact, "lc"):
        assert (fast.lc.line, fast.lc.col) == (exact.lc.line, exact.lc.col), where
    if isinstance(exact, dict):
        assert list(fast) == list(exact), where
        for key in exact:
            expected_at = (exact.lc.data or {}).get(key)  # none for a key merged in (<<)
            assert ((fast.lc.data or {}).get(key) or [None, None])[:2] == (expected_at or [None, None])[:2], where
            _same_yaml(fast[key], exact[key], f"{where}.{key}")
    elif isinstance(exact, list):
        assert len(fast) == len(exact), where
        for index, (item, expected) in enumerate(zip(fast, exact)):
            if isinstance(expected, (dict, list)):
                assert fast.lc.item(index) == exact.lc.item(index), f"{where}[{index}]"
            _same_yaml(item, expected, f"{where}[{index}]")
    else:
        assert repr(fast) == repr(exact), where


@pytest.mark.corpus
def test_the_fast_yaml_reader_gives_what_the_exact_one_gives(tmp_path: Path) -> None:
    """yaml_read.read_yaml (libyaml's events, ruamel's constructor) against base.yaml_documents
    (ruamel's pure-Python reader): every corpus file, and the texts left to the exact reader."""
    from compiler.importers.base import yaml_documents
    from compiler.importers.yaml_read import _fast_documents, read_yaml

    checked = 0
    for path in sorted(require_corpus().rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        exact = yaml_documents(text)
        fast = _fast_documents(text)
        assert len(fast) == len(exact), path
        for document, expected in zip(fast, exact):
            _same_yaml(document, expected, str(path))
        checked += 1
    assert checked >= 140
    anchors = ("a: &x {k: [1, 2.50, 0o17, yes, ~, '3', 2024-01-02]}\nb: *x\nc:\n  <<: *x\n  z: |\n    text\n"
               "  y: >-\n    folded\n  q: \"quoted\"\n---\n- 1\n")
    fast, exact = read_yaml(anchors), yaml_documents(anchors)
    assert len(fast) == len(exact) == 2
    for document, expected in zip(fast, exact):
        _same_yaml(document, expected)
    for text in ("a: 1\na: 2\n", "kind: [\n", "a: b\t\n", "a: !!str 1\n", "%YAML 1.1\n---\na: yes\n"):
        try:
            expected = yaml_documents(text)
        except Exception as exc:  # noqa: BLE001 - the same error, from the same reader
            with pytest.raises(type(exc)) as raised:
                read_yaml(text)
            assert str(raised.value) == str(exc)
        else:
            assert repr(read_yaml(text)) == repr(expected)  # (a tagged scalar has no ==)


# ----------------------------------------------------------------------------- the corpus

CORPUS_COUNTS = {"automatic": 34, "review": 101, "manual": 17, "skipped": 4}


def require_corpus() -> Path:
    return external_corpus.path("argo", "examples")


@pytest.mark.corpus
def test_corpus_assess_counts(cli) -> None:
    corpus = require_corpus()
    result = cli("import", "--assess", str(corpus), "--from", "argo", "--format", "json")
    assert result.exit_code == 0, result.stdout[-2000:]
    assert "Traceback" not in result.stdout
    report = json.loads(result.stdout)
    for pipeline in report["pipelines"]:
        if pipeline["grade"] == "manual":  # every manual file says why
            assert any(d["severity"] == "error" and d["message"] for d in pipeline["diagnostics"]), pipeline
    assert report["counts"] == CORPUS_COUNTS


def test_an_entrypoint_input_without_a_value_is_a_required_param(tmp_path: Path) -> None:
    """Argo asks for it when the workflow is submitted (`-p message=...`); a pipeline run must be given it."""
    result = only(write(tmp_path, workflow("print", """
        - name: print
          inputs:
            parameters:
            - name: message
            - name: from-map
              valueFrom: {configMapKeyRef: {name: m, key: k}}
          container: {image: busybox, command: [echo, "{{inputs.parameters.message}}", "{{inputs.parameters.from-map}}"]}
        """)))
    assert result.data["params"] == {"message": {"type": "str"}, "from_map": {"type": "str"}}
    assert result.data["tasks"]["print"]["command"] == ["echo", "${{ params.message }}", "${{ params.from_map }}"]
    assert [message for _, _, message in losses(result)] == [
        "input 'from-map' of the entrypoint takes its value from configMapKeyRef: give its value when the pipeline runs",
        "param 'from-map' is renamed 'from_map' (param names are identifiers): pass it by its new name"]


IDS = """
name: ids
schedule: "0 3 * * *"
tasks:
  load-data: {command: echo load > data.txt}
  clean_data: {command: cat data.txt, after: [load-data]}
  Train-Model_v2:
    python: m.train:main
    args: {rows: 1}
    outputs: {acc: float}
    after: [clean_data]
  report: {command: "echo ${{ tasks.Train-Model_v2.outputs.acc }}"}
"""


@pytest.mark.parametrize("kind, entry", [("workflow", "cronworkflow.yaml"), ("template", "cronworkflow.yaml"),
                                         ("template", "workflowtemplate.yaml")])
def test_task_ids_that_argo_names_change_come_back_exactly(cli, tmp_path: Path, kind: str, entry: str) -> None:
    """Argo names are DNS names (`load-data`, `train-model-v2`), which the importer reads back with
    '_' for '-'; the ids they do not give back are listed in an annotation, and only those."""
    from compiler.api import check_text
    from compiler.importers import pipeline_yaml

    source = write(tmp_path, IDS, "ids.yaml")
    out = tmp_path / "out"
    assert cli("compile", str(source), "-t", "argo", "-o", str(out), "-q", "--option", f"kind={kind}").exit_code == 0
    assert "dagshift.dev/task-ids: load-data, Train-Model_v2\n" in (out / entry).read_text()
    (imported,) = import_file(out / entry, "argo")
    assert imported.grade is Grade.AUTOMATIC, losses(imported)
    importer = get("argo")
    back = check_text(pipeline_yaml(imported), imported.file).pipeline
    assert list(back.tasks) == ["load-data", "clean_data", "Train-Model_v2", "report"]
    expected = importer.carried(check_text(IDS, "ids.yaml").pipeline)
    if entry == "workflowtemplate.yaml":  # the schedule is the CronWorkflow's
        del expected["schedule"]
    assert importer.carried(back) == expected
    assert not back.description  # the annotation is read, not kept as text


def test_ids_argo_names_give_back_need_no_annotation(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("compile", "examples/fan_out.yaml", "-t", "argo", "-o", str(out), "-q").exit_code == 0
    assert "dagshift.dev/task-ids" not in (out / "workflow.yaml").read_text()


def test_a_secret_no_target_can_look_up_is_a_loss_at_its_line(tmp_path: Path) -> None:
    """Kubernetes takes `creds.prod`; a Prefect block does not (E115): the env var is left out with a
    loss at its line, and the pipeline stays valid."""
    templates = """
    - name: main
      container:
        image: alpine
        command: [sh, -c, echo]
        env:
          - name: TOKEN
            valueFrom: {secretKeyRef: {name: creds.prod, key: token}}
          - name: OTHER
            valueFrom: {secretKeyRef: {name: creds, key: token}}
    """
    result = only(write(tmp_path, workflow("main", templates)))
    assert result.data["tasks"]["main"]["secrets"] == {"OTHER": {"name": "creds", "key": "token"}}
    (loss,) = [d for d in losses(result) if "creds.prod" in d[2]]
    assert loss[1] == 12 and "not carried" in loss[2], losses(result)  # the env entry
    assert not [d for d in losses(result) if d[0] == "E603"]


def test_a_value_no_pipeline_holds_is_an_error_at_its_task(tmp_path: Path) -> None:
    """`retryStrategy: {limit: -1}` (found by the fuzz test): the file's problem (E602 at the task),
    not an importer bug (E603)."""
    templates = """
    - name: main
      dag:
        tasks:
          - {name: train, template: work}
    - name: work
      retryStrategy: {limit: -1}
      container: {image: alpine, command: [sh, -c, echo]}
    """
    result = only(write(tmp_path, workflow("main", templates)))
    assert result.data is None
    assert [(code, line) for code, line, _ in losses(result)] == [("E602", 10)], losses(result)  # the task
    assert "retries must be at least 0" in losses(result)[0][2]
