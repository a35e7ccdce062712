"""compiler.language.naming: ids -> Python identifiers and DNS-1123 names, id problems, suggestions."""

from __future__ import annotations

import keyword
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.language import naming

DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
valid_ids = st.from_regex(r"[A-Za-z]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?", fullmatch=True)


@pytest.mark.parametrize("task_id, python, dns", [
    ("ingest", "ingest", "ingest"),
    ("load-data", "load_data", "load-data"),
    ("load_data", "load_data", "load-data"),
    ("Train_Model-2", "Train_Model_2", "train-model-2"),
    ("class", "class_", "class"),
    ("lambda", "lambda_", "lambda"),
    ("None", "None_", "none"),
    ("match", "match_", "match"),
    ("case", "case_", "case"),
    ("type", "type_", "type"),  # a soft keyword since 3.12: the same name on every Python version
    ("end", "end", "end"),
])
def test_mappings(task_id, python, dns):
    assert naming.python_name(task_id) == python
    assert naming.dns_name(task_id) == dns
    assert naming.airflow_id(task_id) == task_id


@given(valid_ids)
def test_valid_ids_map_to_valid_names(task_id):
    assert naming.id_problem(task_id) is None
    python = naming.python_name(task_id)
    assert python.isidentifier() and not keyword.iskeyword(python)
    dns = naming.dns_name(task_id)
    assert DNS_1123_LABEL.match(dns) and len(dns) <= 63


@pytest.mark.parametrize("task_id, problem", [
    ("", "an id cannot be empty"),
    ("x" * 64, "'xxxxxxxxxxxxxxxxxxxx...' is 64 characters long; ids are limited to 63 (Kubernetes names)"),
    ("load data", "'load data' has characters that are not valid in names on every target"),
    ("2nd", "'2nd' does not start with a letter, as names on every target must"),
    ("_private", "'_private' does not start with a letter, as names on every target must"),
    ("ingest.v2", "'ingest.v2' has characters that are not valid in names on every target"),
    ("café", "'café' has characters that are not valid in names on every target"),
    ("train-", "'train-' ends with '-'; Argo (DNS-1123) names must end with a letter or digit"),
    ("train_", "'train_' ends with '_'; Argo (DNS-1123) names must end with a letter or digit"),
])
def test_id_problems(task_id, problem):
    assert naming.id_problem(task_id) == problem


def test_id_length_limit_is_inclusive():
    assert naming.id_problem("x" * 63) is None


@given(st.text(max_size=80))
def test_suggestion_is_always_a_valid_id(text):
    suggestion = naming.suggest_id(text)
    assert naming.id_problem(suggestion) is None


@given(valid_ids)
def test_suggestion_for_a_valid_id_is_the_id(task_id):
    assert naming.suggest_id(task_id) == task_id


@pytest.mark.parametrize("text, suggestion", [
    ("load data!", "load_data"), ("2nd", "t_2nd"), ("-x-", "x"), ("", "t"), ("!!!", "t"),
    ("café au lait", "caf_au_lait"),
])
def test_suggestions(text, suggestion):
    assert naming.suggest_id(text) == suggestion


@pytest.mark.parametrize("name, problem", [
    ("learning_rate", None), ("_x", None), ("x2", None), ("match", None),
    ("learning-rate", "'learning-rate' is not an identifier (letters, digits and '_', not starting with a digit)"),
    ("2x", "'2x' is not an identifier (letters, digits and '_', not starting with a digit)"),
    ("", "'' is not an identifier (letters, digits and '_', not starting with a digit)"),
    ("class", "'class' is a Python keyword"),
    ("True", "'True' is a Python keyword"),
])
def test_identifier_problems(name, problem):
    assert naming.identifier_problem(name) == problem


@pytest.mark.parametrize("first, second", [("a-b", "a_b"), ("Train", "train"), ("A_B", "a-b")])
def test_collisions_are_visible_on_some_target(first, second):
    assert any(mapping(first) == mapping(second) for mapping in naming.TARGET_NAMES.values())


@given(valid_ids, valid_ids)
def test_ids_of_different_shape_never_collide(a, b):
    if a.lower().replace("-", "_") != b.lower().replace("-", "_"):
        assert all(mapping(a) != mapping(b) for mapping in naming.TARGET_NAMES.values())


@given(valid_ids, st.data())
def test_ids_that_differ_only_in_case_dash_or_underscore_collide(a, data):
    flips = data.draw(st.lists(st.booleans(), min_size=len(a), max_size=len(a)))
    swap = {"-": "_", "_": "-"}
    b = "".join((swap.get(c, c.swapcase()) if flip else c) for c, flip in zip(a, flips))
    if b != a:
        assert any(mapping(a) == mapping(b) for mapping in naming.TARGET_NAMES.values())


@pytest.mark.parametrize("name, stem", [
    ("churn", "churn"), ("my-pipeline", "my_pipeline"), ("json", "json_pipeline"), ("subprocess", "subprocess_pipeline"),
    ("prefect", "prefect_pipeline"), ("kfp", "kfp_pipeline"), ("airflow", "airflow_pipeline"),
    ("compiler", "compiler_pipeline"), ("class", "class_"), ("flow", "flow"),
])
def test_a_generated_module_never_shadows_what_it_or_its_engine_imports(name, stem):
    assert naming.module_stem(name) == stem
