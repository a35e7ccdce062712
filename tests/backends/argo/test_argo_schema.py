"""Every generated Argo YAML validates against Argo's JSON schema at v3.7.18 and v4.1.2 (vendored in
tests/backends/argo/schemas/), in its strict form (a misspelled key is an error: Argo would silently ignore
it), and reads the same under YAML 1.1 (Argo) and YAML 1.2. The other tests here prove the strict
check can fail."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import external_corpus
import pytest
import schema as argo_schema

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "golden"
GOLDEN_ARGO = sorted({*GOLDEN.glob("*/argo/**/*.yaml"), *GOLDEN.glob("*/argo/**/*.yml"),
                      *GOLDEN.glob("*/O2/argo/*.yaml")})  # -O2 output where it differs
VERSIONS = argo_schema.VERSIONS
DEFAULT_TARGET = "v3.7.18"  # what `dagshift compile -t argo` targets without --option argo-version
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SENSOR = ("argoproj.io/v1alpha1", "Sensor")


# ----------------------------------------------------------------------------- the goldens


def test_golden_argo_files_exist() -> None:
    # Without this an empty parametrization below would pass without checking anything.
    assert GOLDEN_ARGO, "no golden/*/argo/*.yaml files: the Argo backend's golden output is missing"


def _resources(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """What to validate in one document: itself, or for an Argo Events Sensor (the schema's Sensor
    definition models the Go struct, not the YAML: no apiVersion/kind, `resource` as {value:
    string}) the Argo resources its argoWorkflow triggers carry inline."""
    if (document.get("apiVersion"), document.get("kind")) != SENSOR:
        return [("", document)]
    found = []
    for index, trigger in enumerate((document.get("spec") or {}).get("triggers") or []):
        source = (((trigger or {}).get("template") or {}).get("argoWorkflow") or {}).get("source") or {}
        if isinstance(source.get("resource"), dict):
            found.append((f" spec.triggers[{index}].template.argoWorkflow.source.resource", source["resource"]))
    return found


@pytest.mark.parametrize("path", GOLDEN_ARGO, ids=[p.relative_to(GOLDEN).as_posix() for p in GOLDEN_ARGO])
def test_golden_validates_strictly(path: Path) -> None:
    documents = argo_schema.load_documents(path)
    assert documents, f"{path} holds no YAML document"
    problems = []
    for index, document in enumerate(documents):
        assert isinstance(document, dict), f"document {index} is a {type(document).__name__}, not a mapping"
        for where, resource in _resources(document):
            for version in VERSIONS:
                if version != DEFAULT_TARGET and "memoize" in path.read_text(encoding="utf-8"):
                    continue  # memoize's cache reference differs by version: test_version_4_output_...
                problems += [f"document {index}{where} [{version}] {error}"
                             for error in argo_schema.errors(resource, version)]
    assert not problems, f"{path.relative_to(ROOT)} does not validate strictly:\n" + "\n".join(problems)


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_version_4_output_validates_strictly(cli, example: Path, tmp_path: Path) -> None:
    """`--option argo-version=4` (memoize's cache reference without a key) against the v4 schema."""
    result = cli("compile", str(example), "-t", "argo", "--option", "argo-version=4", "-o", str(tmp_path), "-q")
    assert result.exit_code == 0, result.stdout + result.stderr
    problems = []
    for path in sorted(tmp_path.glob("*.yaml")):
        for document in argo_schema.load_documents(path):
            for where, resource in _resources(document):
                problems += [f"{path.name}{where} {error}" for error in argo_schema.errors(resource, "v4.1.2")]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", GOLDEN_ARGO, ids=[p.relative_to(GOLDEN).as_posix() for p in GOLDEN_ARGO])
def test_golden_reads_the_same_under_yaml_1_1_and_1_2(path: Path) -> None:
    differences = argo_schema.ambiguous_scalars(path)
    assert not differences, (f"{path.relative_to(ROOT)}: quote these scalars, Argo reads YAML 1.1:\n"
                             + "\n".join(differences))


# ----------------------------------------------------------------------------- the strict schema


@pytest.mark.corpus
@pytest.mark.parametrize("version", VERSIONS)
def test_vendored_schema_is_the_corpus_copy(version: str) -> None:
    # The corpus keeps Argo's schemas too: a refresh of one copy without the other would show here.
    vendored = argo_schema.schema_path(version).read_bytes()
    assert vendored == external_corpus.path("argo", f"schema-{version}.json").read_bytes()


@pytest.mark.parametrize("version", VERSIONS)
def test_strict_copy_closes_every_object_and_keeps_maps_open(version: str) -> None:
    strict = argo_schema.definitions(version, strict=True)
    still_open = [name for name, d in strict.items() if "properties" in d and d["additionalProperties"] is not False]
    assert still_open == []
    labels = strict["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["labels"]
    assert labels["additionalProperties"] == {"type": "string"}  # a map stays a map
    original = argo_schema.definitions(version)["io.argoproj.workflow.v1alpha1.DAGTask"]
    assert "additionalProperties" not in original, "the original must be left unchanged"


def test_strict_definitions_close_nested_inline_objects() -> None:
    leaf = {"type": "object", "properties": {"x": {"type": "string"}}}
    definitions = {"A": {"type": "object", "properties": {
        "inline": copy.deepcopy(leaf),
        "list": {"type": "array", "items": copy.deepcopy(leaf)},
        "map": {"type": "object", "additionalProperties": copy.deepcopy(leaf)},
        "choice": {"anyOf": [copy.deepcopy(leaf)]},
        "free": {"type": "object"},
    }}}
    strict = argo_schema.strict_definitions(definitions)
    a = strict["A"]
    assert a["additionalProperties"] is False
    assert a["properties"]["inline"]["additionalProperties"] is False
    assert a["properties"]["list"]["items"]["additionalProperties"] is False
    assert a["properties"]["map"]["additionalProperties"]["additionalProperties"] is False
    assert a["properties"]["choice"]["anyOf"][0]["additionalProperties"] is False
    assert "additionalProperties" not in a["properties"]["free"]
    assert "additionalProperties" not in definitions["A"]  # a copy


def _workflow() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "demo-", "labels": {"team": "ml"}},
        "spec": {
            "entrypoint": "main",
            "activeDeadlineSeconds": 7200,
            "templates": [
                {"name": "main", "dag": {"tasks": [
                    {"name": "a", "template": "echo"},
                    {"name": "b", "template": "echo", "depends": "a"},
                ]}},
                {"name": "echo",
                 "retryStrategy": {"limit": "3", "retryPolicy": "OnFailure"},
                 "activeDeadlineSeconds": "600",
                 "container": {"image": "alpine:3.20", "imagePullPolicy": "IfNotPresent", "command": ["echo", "hi"],
                               "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}},
            ],
        },
    }


def _rename(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


TYPOS = {
    "dependz": (lambda w: _rename(w["spec"]["templates"][0]["dag"]["tasks"][1], "depends", "dependz"),
                "spec.templates[0].dag.tasks[1]"),
    "imagePullPolicyy": (lambda w: _rename(w["spec"]["templates"][1]["container"], "imagePullPolicy",
                                           "imagePullPolicyy"), "spec.templates[1].container"),
    "entrypiont": (lambda w: _rename(w["spec"], "entrypoint", "entrypiont"), "spec"),
}


@pytest.mark.parametrize("version", VERSIONS)
def test_sample_workflow_is_valid(version: str) -> None:
    assert argo_schema.errors(_workflow(), version) == []
    assert argo_schema.errors(_workflow(), version, strict=False) == []


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("typo", sorted(TYPOS))
def test_misspelled_key_fails_only_the_strict_schema(version: str, typo: str) -> None:
    workflow = _workflow()
    rename, where = TYPOS[typo]
    rename(workflow)
    assert argo_schema.errors(workflow, version, strict=False) == [], "Argo's own schema lets the typo through"
    assert argo_schema.errors(workflow, version) == [
        f"{where}: Additional properties are not allowed ('{typo}' was unexpected)"]


def _set(path: str, value: Any):
    def change(workflow: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = workflow
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return change


# IntOrString and Quantity are typed `string` in the schema: Argo's CLI accepts a bare integer,
# but the schema (issue #6060, wontfix) does not, so the generator must quote them. Where the Go
# type is a plain int64 (the workflow-level activeDeadlineSeconds) the opposite holds.
NUMBERS = [
    ("spec.templates.1.retryStrategy.limit", 3, "3"),
    ("spec.templates.1.activeDeadlineSeconds", 600, "600"),
    ("spec.templates.1.container.resources.requests.cpu", 1, "1"),
    ("spec.activeDeadlineSeconds", "7200", 7200),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path, wrong, right", NUMBERS, ids=[f"{p}={w!r}" for p, w, _ in NUMBERS])
def test_value_types_follow_the_schema(version: str, path: str, wrong: Any, right: Any) -> None:
    good, bad = _workflow(), _workflow()
    _set(path, right)(good)
    _set(path, wrong)(bad)
    assert argo_schema.errors(good, version) == []
    expected = "string" if isinstance(right, str) else "integer"
    readable = path.replace(".1.", "[1].")
    assert argo_schema.errors(bad, version) == [f"{readable}: {wrong!r} is not of type '{expected}'"]


def test_unknown_kind_is_an_error() -> None:
    document = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Sensor", "metadata": {}, "spec": {}}
    (error,) = argo_schema.errors(document, VERSIONS[0])
    assert "has no definition" in error


def test_sensor_is_checked_through_the_workflows_it_carries() -> None:
    embedded = _workflow()
    TYPOS["dependz"][0](embedded)
    sensor = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Sensor", "metadata": {"name": "s"},
              "spec": {"dependencies": [{"name": "d", "eventSourceName": "e", "eventName": "x"}],
                       "triggers": [{"template": {"name": "t", "argoWorkflow": {
                           "operation": "submit", "source": {"resource": embedded}}}}]}}
    ((where, resource),) = _resources(sensor)
    assert where == " spec.triggers[0].template.argoWorkflow.source.resource"
    assert argo_schema.errors(resource, VERSIONS[-1]) == [
        "spec.templates[0].dag.tasks[1]: Additional properties are not allowed ('dependz' was unexpected)"]


def test_memoize_cache_has_no_form_both_versions_accept() -> None:
    # Why a golden with `memoize` cannot pass: v3.7 requires cache.configMap.key (a
    # ConfigMapKeySelector), v4 made configMap a LocalObjectReference (name only).
    with_key, without_key = _workflow(), _workflow()
    for workflow, config_map in ((with_key, {"name": "cache", "key": "echo"}), (without_key, {"name": "cache"})):
        workflow["spec"]["templates"][1]["memoize"] = {"key": "k", "maxAge": "1h", "cache": {"configMap": config_map}}
    where = "spec.templates[1].memoize.cache.configMap"
    assert argo_schema.errors(with_key, "v3.7.18") == []
    assert argo_schema.errors(with_key, "v4.1.2") == [
        f"{where}: Additional properties are not allowed ('key' was unexpected)"]
    assert argo_schema.errors(without_key, "v4.1.2") == []
    assert argo_schema.errors(without_key, "v3.7.18") == [f"{where}: 'key' is a required property"]


@pytest.mark.parametrize("version", VERSIONS)
def test_config_map_is_checked_too(version: str) -> None:
    def config_map(**fields: Any) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "limits"}, **fields}

    assert argo_schema.errors(config_map(data={"train": "2"}), version) == []
    assert argo_schema.errors(config_map(data={"train": 2}), version) == ["data.train: 2 is not of type 'string'"]
    assert argo_schema.errors(config_map(dataa={"train": "2"}), version) == [
        "<document>: Additional properties are not allowed ('dataa' was unexpected)"]
