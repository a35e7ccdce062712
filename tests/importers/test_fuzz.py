"""Fuzzing the loader and every importer (issue 20, classes 6 and 7): seed documents (dagshift's
goldens for each format, a sample of the external corpus when it is there, the examples) are
mutated structurally (YAML: random subtrees replaced by hostile values, keys deleted, entries
duplicated; Python: literals swapped for other types, arguments dropped, a 2,000-task `>>` chain
added) and read. Whatever the input, a run ends in diagnostics: no exception escapes, no E603
(the importer failed, or built an invalid pipeline), and every run stays within TIME_LIMIT
seconds and MEMORY_LIMIT bytes. Hand-written hostile documents (alias bombs, huge expansions,
`inf`) follow the property tests."""

from __future__ import annotations

import ast
import copy
import math
import resource
import signal
import tempfile
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import external_corpus
import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from compiler.api import check_text
from compiler.importers import import_file

ROOT = Path(__file__).resolve().parents[2]
TIME_LIMIT = 5  # seconds of CPU per run
MEMORY_LIMIT = 512 * 1024 * 1024  # bytes of address space a run may add
CORPUS_SAMPLE = 12  # corpus files per format (evenly spread): the seeds stay few, the run short
FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ----------------------------------------------------------------------------- bounded runs


class _TooSlow(BaseException):
    """Raised by the timer: a BaseException, so no `except Exception` in the code under test hides it."""


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


@contextmanager
def bounded():
    """Stop the run after TIME_LIMIT seconds of CPU (the process's own time: other work on the
    machine does not count), and let it map at most MEMORY_LIMIT more bytes (an allocation beyond
    raises MemoryError, which import_file would report as an E603)."""
    def too_slow(signum, frame):
        raise _TooSlow(f"the run took more than {TIME_LIMIT} s")

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + MEMORY_LIMIT
    previous = signal.signal(signal.SIGPROF, too_slow)
    resource.setrlimit(resource.RLIMIT_AS, (min(limit, hard) if hard != resource.RLIM_INFINITY else limit, hard))
    signal.setitimer(signal.ITIMER_PROF, TIME_LIMIT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def imported_cleanly(name: str, text: str, source_format: str, **companions: str) -> list:
    """Import `text` as the file `name` (with companion files next to it): every result must be
    diagnostics about the file, never an importer failure (E603). A mutated file whose parts no
    longer agree (a task reading a param the file stopped declaring, an output nothing writes, a
    cycle) is reported at the line of the part that does not validate (E602)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_text(text, encoding="utf-8")
        for companion, content in companions.items():
            (Path(directory) / companion).write_text(content, encoding="utf-8")
        with bounded():
            results = import_file(path, source_format)
    for result in results:
        failures = [f"{d.code} {d.message}" for d in result.diagnostics if d.code == "E603"]
        assert not failures, f"{source_format} importer failed on:\n{text[:3000]}\n{failures}"
    return results


def loaded_cleanly(text: str, name: str = "fuzzed.yaml"):
    with bounded():
        return check_text(text, name)


# ----------------------------------------------------------------------------- seeds


def _sample(files: list[Path]) -> list[Path]:
    step = max(1, len(files) // CORPUS_SAMPLE)
    return files[::step][:CORPUS_SAMPLE]


def _corpus(*parts: str, pattern: str) -> list[Path]:
    location = external_corpus.locate()
    folder = location.directory.joinpath(*parts)
    return _sample(sorted(folder.rglob(pattern))) if folder.is_dir() else []


def _seeds(paths: list[Path]) -> list[tuple[str, str]]:
    return [(path.name, path.read_text(encoding="utf-8")) for path in sorted(set(paths))]


def _golden(pattern: str) -> list[Path]:
    return sorted((ROOT / "golden").glob(pattern))


SEEDS = {
    "argo": _seeds(_golden("*/argo/workflow*.yaml") + _golden("*/argo/cronworkflow.yaml")
                   + _corpus("argo", "examples", pattern="*.yaml")),
    "dvc": _seeds(_golden("*/dvc/dvc.yaml") + _corpus("dvc", "files", pattern="*.yaml")),
    "kubeflow": _seeds(sorted((ROOT / "tests/importers/fixtures/kubeflow").glob("*.yaml"))),
    "loader": _seeds(sorted((ROOT / "examples").glob("*.yaml"))),
}
PYTHON_SEEDS = {
    "airflow": _seeds(_golden("*/airflow/*.py") + sorted((ROOT / "tests/importers/fixtures/airflow").glob("*.py"))),
    "prefect": _seeds(_golden("*/prefect/*.py") + sorted((ROOT / "tests/importers/fixtures/prefect").glob("*.py"))),
    "kubeflow": _seeds(_golden("*/kubeflow/*.py")),
}


def _parsed(text: str) -> Any:
    documents = [d for d in yaml.safe_load_all(text) if d is not None]
    return documents[0] if len(documents) == 1 else documents


# ----------------------------------------------------------------------------- hostile values

HOSTILE_TEXTS = ["{{", "}}", "${", "${{", "${{ params.x }}", "{{item}}", "{{inputs.parameters.x}}",
                 "{{workflow.parameters.x}}", "${item}", "a-b", "a_b", "", " ", "-", "..", "/", "x" * 20_000,
                 "é\u202e\u0301ß\U0001f600", "null", "1e309", "0x10", "5m", "-1", "@daily"]
HOSTILE_NUMBERS = [0, -1, 100_000_000, 10**30, 2**63, math.inf, -math.inf, math.nan, 1e308, 0.5]


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


hostile_values = st.one_of(
    st.none(), st.booleans(), st.sampled_from(HOSTILE_NUMBERS), st.integers(), st.floats(),
    st.sampled_from(HOSTILE_TEXTS), st.text(max_size=12),
    st.lists(st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=6), st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=3),
    st.integers(20, 300).map(_nested),
)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every subtree's path (keys and indexes), the root included."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, prefix + (index,))
    return found


def _at(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data


def _mutate(draw, data: Any) -> Any:
    """One structural change: a subtree replaced by a hostile value, deleted, or duplicated."""
    path = draw(st.sampled_from(_paths(data)))
    action = draw(st.sampled_from(["replace", "replace", "delete", "duplicate"]))
    if not path:
        return draw(hostile_values) if action == "replace" else data
    parent, key = _at(data, path[:-1]), path[-1]
    if action == "replace":
        parent[key] = draw(hostile_values)
    elif action == "delete":
        del parent[key]
    elif isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    else:
        parent[f"{key}{draw(st.sampled_from(['', '-', '_', '-copy']))}x"] = copy.deepcopy(parent[key])
    return data


def _dumped(data: Any) -> str:
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        return yaml.safe_dump_all(data, sort_keys=False, allow_unicode=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@st.composite
def mutated_yaml(draw, kind: str) -> tuple[str, str]:
    """A seed of SEEDS[kind] (named, not passed: hypothesis would print every seed), mutated."""
    name, text = SEEDS[kind][draw(st.integers(0, len(SEEDS[kind]) - 1))]
    data = copy.deepcopy(_PARSED.setdefault(text, _parsed(text)))
    for _ in range(draw(st.integers(1, 4))):
        data = _mutate(draw, data)
    return name, _dumped(data)


_PARSED: dict[str, Any] = {}

HOSTILE_EXPRESSIONS = ["None", "1e309", "-1e309", "float('nan')", "float('inf')", "[1, 'a', None]", "{'a': {'b': 1}}",
                       "'{{ x }}'", "'${{ params.x }}'", "'a-b'", "10 ** 100", "2 ** 10 ** 10", "'a' * 10 ** 10",
                       "[0] * 10 ** 9", "range(10 ** 8)", "object()", "lambda: 1", "f'{x}'", "-5", "True", "b'x'",
                       "'x' * 20000", "(1, 2)", "{1, 2}", "timedelta(days=1e309)"]


def _swap_literal(draw, tree: ast.Module) -> None:
    candidates = [node for node in ast.walk(tree) if isinstance(node, (ast.Constant, ast.List, ast.Dict))
                  or isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)]
    if candidates:
        target = draw(st.sampled_from(candidates))
        replacement = ast.parse(draw(st.sampled_from(HOSTILE_EXPRESSIONS)), mode="eval").body
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if value is target:
                    setattr(parent, field, replacement)
                elif isinstance(value, list) and any(item is target for item in value):
                    value[[id(item) for item in value].index(id(target))] = replacement


def _drop_argument(draw, tree: ast.Module) -> None:
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and (node.args or node.keywords)]
    if calls:
        call = draw(st.sampled_from(calls))
        arguments = call.args if call.args and (not call.keywords or draw(st.booleans())) else call.keywords
        del arguments[draw(st.integers(0, len(arguments) - 1))]


def _chain_line(names: list[str], length: int) -> str:
    return " >> ".join(names[index % len(names)] for index in range(length))


def _add_chain(draw, text: str) -> str:
    """A `a >> b >> ...` statement of up to 2,000 operands after a statement with a body's indentation."""
    tree = ast.parse(text)
    names = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}) or ["x"]
    bodies = [node.body for node in ast.walk(tree) if isinstance(getattr(node, "body", None), list) and node.body]
    statement = draw(st.sampled_from([body[-1] for body in bodies]))
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4))
    line = " " * statement.col_offset + _chain_line(chosen, draw(st.sampled_from([2, 50, 2_000])))
    lines = text.splitlines()
    lines.insert(statement.end_lineno, line)
    return "\n".join(lines) + "\n"


@st.composite
def mutated_python(draw, kind: str) -> tuple[str, str]:
    """A seed of PYTHON_SEEDS[kind], mutated."""
    name, text = PYTHON_SEEDS[kind][draw(st.integers(0, len(PYTHON_SEEDS[kind]) - 1))]
    tree = ast.parse(text)
    for _ in range(draw(st.integers(1, 3))):
        draw(st.sampled_from([_swap_literal, _drop_argument]))(draw, tree)
    try:
        mutated = ast.unparse(ast.fix_missing_locations(tree))
        ast.parse(mutated)
    except (SyntaxError, ValueError):  # a swap Python's grammar refuses (a list inside an f-string)
        assume(False)
    if draw(st.booleans()):
        mutated = _add_chain(draw, mutated)
    return name, mutated


# ----------------------------------------------------------------------------- property tests


@pytest.mark.parametrize("source_format", ["argo", "dvc", "kubeflow"])
@FUZZ
@given(data=st.data())
def test_mutated_yaml_files_end_in_diagnostics(source_format: str, data) -> None:
    name, text = data.draw(mutated_yaml(source_format))
    companions = {"params.yaml": "lr: 0.1\n"} if source_format == "dvc" else {}
    imported_cleanly("dvc.yaml" if source_format == "dvc" else name, text, source_format, **companions)


@pytest.mark.parametrize("source_format", ["airflow", "prefect", "kubeflow"])
@FUZZ
@given(data=st.data())
def test_mutated_python_files_end_in_diagnostics(source_format: str, data) -> None:
    name, text = data.draw(mutated_python(source_format))
    imported_cleanly(name, text, source_format)


@FUZZ
@given(data=st.data())
def test_mutated_pipelines_end_in_diagnostics(data) -> None:
    name, text = data.draw(mutated_yaml("loader"))
    loaded_cleanly(text, name)  # load_text and validation never raise


@FUZZ
@given(text=st.text(max_size=300))
@example(text="._")  # ruamel takes these for numbers it cannot convert: a ValueError, an IndexError
@example(text="-_")
def test_arbitrary_text_ends_in_diagnostics(text: str) -> None:
    for name, source_format in (("wf.yaml", "argo"), ("dvc.yaml", "dvc"), ("spec.yaml", "kubeflow"),
                                ("dag.py", "airflow"), ("flow.py", "prefect"), ("pipeline.py", "kubeflow")):
        imported_cleanly(name, text, source_format)
    loaded_cleanly(text)


# ----------------------------------------------------------------------------- hand-written hostile files


def _codes(results) -> list[str]:
    return [d.code for result in results for d in result.diagnostics]


def _messages(results) -> str:
    return "\n".join(f"{d.code} {d.loc} {d.message}" for result in results for d in result.diagnostics)


def _argo(template_body: str, spec_extra: str = "") -> str:
    """A workflow whose entrypoint template is `template_body` (with an `echo` template to call)."""
    return "\n".join([
        "apiVersion: argoproj.io/v1alpha1", "kind: Workflow", "metadata: {name: hostile}", "spec:",
        "  entrypoint: main", textwrap.indent(spec_extra, "  "), "  templates:", "  - name: main",
        textwrap.indent(template_body, "    "), "  - name: echo",
        '    container: {image: alpine, command: [echo, "{{inputs.parameters.n}}"]}',
        "    inputs: {parameters: [{name: n}]}", ""])


def test_an_argo_alias_bomb_is_refused_before_it_is_expanded() -> None:
    levels = ["x-l0: &l0 [a, a, a, a, a, a, a, a, a, a]"]
    levels += [f"x-l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 10)]  # 10^10 values
    text = _argo("container: {image: alpine, args: *l9}", "\n".join(levels))
    results = imported_cleanly("bomb.yaml", text, "argo")
    assert "E601" in _codes(results) and "aliases" in _messages(results)


@pytest.mark.parametrize("loop, expected", [
    ("withSequence: {count: '100000000'}", "withSequence makes 100,000,000 items"),
    ("withSequence: {start: '-5', end: '99999999'}", "withSequence makes 100,000,005 items"),
    (f"withItems: [{', '.join(['1'] * 10_001)}]", "withItems makes 10,001 items"),
])
def test_argo_loops_are_counted_before_they_are_built(loop: str, expected: str) -> None:
    body = f"dag:\n  tasks:\n  - name: fan\n    template: echo\n    arguments: {{parameters: [{{name: n, value: '{{{{item}}}}'}}]}}\n    {loop}"
    results = imported_cleanly("loops.yaml", _argo(body), "argo")
    assert "E602" in _codes(results) and expected in _messages(results), _messages(results)


def test_a_dvc_matrix_of_a_hundred_million_stages_is_refused() -> None:
    axes = "\n".join(f"      a{axis}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" for axis in range(8))
    text = f"stages:\n  grid:\n    matrix:\n{axes}\n    cmd: echo ${{item.a0}}\n"
    results = imported_cleanly("dvc.yaml", text, "dvc")
    assert "the matrix of stage 'grid' makes 100,000,000 items" in _messages(results)


def test_a_dvc_foreach_over_a_huge_list_is_refused() -> None:
    params = f"values: [{', '.join(map(str, range(12_000)))}]\n"
    text = "stages:\n  each:\n    foreach: ${values}\n    do:\n      cmd: echo ${item}\n"
    results = imported_cleanly("dvc.yaml", text, "dvc", **{"params.yaml": params})
    assert "the foreach of stage 'each' makes 12,000 items" in _messages(results)


def test_a_chain_of_two_thousand_airflow_tasks_is_read_link_by_link() -> None:
    tasks = "\n".join(f"    t{n} = EmptyOperator(task_id='t{n}')" for n in range(2_000))
    chain = " >> ".join(f"t{n}" for n in range(2_000))
    text = ("from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\n"
            f"with DAG('long_chain', schedule=None):\n{tasks}\n    {chain}\n")
    (result,) = imported_cleanly("long_chain.py", text, "airflow")
    assert result.data is not None, _messages([result])
    assert result.data["tasks"]["t1999"]["after"] == ["t1998"]


def test_a_deeper_airflow_expression_is_an_error_at_its_line() -> None:
    text = ("from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n\n"
            f"with DAG('deep', schedule=None):\n    t = EmptyOperator(task_id='t', doc_md={'[' * 500}{']' * 500})\n")
    (result,) = imported_cleanly("deep.py", text, "airflow")
    assert [(d.code, d.loc.line) for d in result.diagnostics] == [("E601", 5)], _messages([result])


AIRFLOW_INFINITIES = """\
from datetime import timedelta
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG('inf', schedule=None, dagrun_timeout=timedelta(seconds=float('inf'))):
    BashOperator(task_id='a', bash_command='echo', retries=float('inf'), priority_weight=1e309,
                 retry_delay=timedelta(seconds=1e309), execution_timeout=float('nan'))
"""
PREFECT_INFINITIES = """\
from prefect import flow, task


@task(retries=float('inf'), retry_delay_seconds=1e309, timeout_seconds=float('nan'))
def a():
    pass


@flow
def f(x: float = float('inf')):
    a()
"""


@pytest.mark.parametrize("name, text, source_format", [
    ("wf.yaml", _argo("container: {image: alpine}\nretryStrategy: {limit: .inf}\nactiveDeadlineSeconds: .inf"), "argo"),
    ("wf.yaml", _argo("dag:\n  tasks:\n  - {name: a, template: echo, arguments: {parameters: [{name: n, value: .nan}]}}",
                      "parallelism: -.inf"), "argo"),
    ("dvc.yaml", "stages:\n  train:\n    cmd: python train.py --lr ${lr}\n", "dvc"),
    ("dag.py", AIRFLOW_INFINITIES, "airflow"),
    ("flow.py", PREFECT_INFINITIES, "prefect"),
])
def test_infinite_numbers_end_in_diagnostics(name: str, text: str, source_format: str) -> None:
    imported_cleanly(name, text, source_format, **({"params.yaml": "lr: .inf\n"} if source_format == "dvc" else {}))


def test_dvc_stages_whose_ids_collide_on_a_target_get_ids_that_do_not() -> None:
    text = "stages:\n  a-b:\n    cmd: echo one\n  a_b:\n    cmd: echo two\n"
    (result,) = imported_cleanly("dvc.yaml", text, "dvc")
    assert list(result.data["tasks"]) == ["a-b", "a_b_2"]  # both would be the Python name a_b
    assert [(d.code, d.loc.line) for d in result.diagnostics] == [("W602", 4)], _messages([result])
