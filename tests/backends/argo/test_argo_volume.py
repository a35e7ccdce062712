"""`--option volume=CLAIM`: an existing PersistentVolumeClaim mounted at the working directory of
every container and script template (shell, python and container tasks, alerts), so that files
pass between tasks, which are pods, as they do on Airflow, Prefect and DVC. The output stays valid
for the strict v3.7 and v4 schemas; a claim name that is not a DNS-1123 name is an E303."""

from __future__ import annotations

from pathlib import Path

import pytest
import schema as argo_schema
import yaml
from argo_model import load, main_spec
from test_argo_schema import _resources

from compiler.backends.argo.backend import requested_volume

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def compile_documents(cli, source: Path | str, out: Path, *options: str) -> list[dict]:
    flags = [flag for option in options for flag in ("--option", option)]
    result = cli("compile", str(source), "-t", "argo", "-o", str(out), "-q", *flags)
    assert result.exit_code == 0, result.stdout + result.stderr
    return [d for path in sorted(out.glob("*.yaml")) for d in load(path.read_text(encoding="utf-8"))]


def runs(template: dict) -> dict | None:
    """The container or script of a template (None for dag, steps and suspend templates)."""
    return template.get("container") or template.get("script")


def test_fan_out_mounts_the_claim_in_every_task(cli, tmp_path: Path) -> None:
    spec = main_spec(compile_documents(cli, "examples/fan_out.yaml", tmp_path, "volume=pipeline-data"))
    assert spec["volumes"] == [{"name": "workdir", "persistentVolumeClaim": {"claimName": "pipeline-data"}}]
    leaves = [runs(t) for t in spec["templates"] if runs(t)]
    assert {"container", "script"} <= {key for t in spec["templates"] for key in t}  # shell and python tasks
    for leaf in leaves:
        assert leaf["volumeMounts"] == [{"name": "workdir", "mountPath": leaf["workingDir"]}], leaf


def test_every_kind_of_task_and_alert_mounts_it(cli, tmp_path: Path) -> None:
    source = tmp_path / "kinds.yaml"
    source.write_text(yaml.safe_dump({
        "name": "kinds", "workdir": "/data/run",
        "alerts": [{"on": "failure", "command": "echo failed"}, {"on": "success", "python": "m:notify"}],
        "tasks": {"shell": {"command": "echo a > a.txt"}, "other": {"command": "echo b > b.txt"},
                  "py": {"python": "m:f", "after": ["shell"]},
                  "box": {"image": "alpine:3.20", "command": "cat a.txt", "after": ["shell"]},
                  "nothing": {"after": ["box"]}},
    }), encoding="utf-8")
    spec = main_spec(compile_documents(cli, source, tmp_path / "out", "volume=shared.claim-1"))
    leaves = [runs(t) for t in spec["templates"] if runs(t)]
    assert len(leaves) == 5  # one shell template shared by the two shell tasks, python, container, two alerts
    assert all(leaf["volumeMounts"] == [{"name": "workdir", "mountPath": "/data/run"}] for leaf in leaves), leaves


def test_without_the_option_nothing_is_mounted(cli, tmp_path: Path) -> None:
    spec = main_spec(compile_documents(cli, "examples/fan_out.yaml", tmp_path))
    assert "volumes" not in spec
    assert not any("volumeMounts" in runs(t) for t in spec["templates"] if runs(t))
    assert requested_volume({}) is None
    assert requested_volume({"volume": "pipeline-data"}) == "pipeline-data"


@pytest.mark.parametrize("version, schema_version", [("3.7", "v3.7.18"), ("4", "v4.1.2")])
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_output_with_a_volume_validates_strictly(cli, tmp_path: Path, example: Path, version: str,
                                                 schema_version: str) -> None:
    documents = compile_documents(cli, example, tmp_path, "volume=pipeline-data", f"argo-version={version}")
    problems = [f"{where} {error}" for document in documents for where, resource in _resources(document)
                for error in argo_schema.errors(resource, schema_version)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("claim", ["Pipeline-Data", "data_1", "-data", "data-", "a..b", ".a", "", "a" * 254])
def test_a_claim_name_that_is_not_a_dns_name_is_refused(cli, tmp_path: Path, claim: str) -> None:
    out = tmp_path / "out"
    result = cli("compile", "examples/minimal.yaml", "-t", "argo", "-o", str(out), "--option", f"volume={claim}")
    assert result.exit_code == 1
    assert "error[E303]" in result.stdout and "option `volume`" in result.stdout, result.stdout
    assert "help: use the name of an existing claim" in result.stdout
    assert not out.exists() or not any(out.iterdir())


def test_import_reads_the_volume_as_the_compile_option_it_is(cli, tmp_path: Path) -> None:
    """One W602 at spec.volumes naming the option to compile with; no loss per mount; the same
    pipeline as without the volume."""
    from compiler.importers import import_file, pipeline_yaml

    compile_documents(cli, "examples/fan_out.yaml", tmp_path / "with", "volume=pipeline-data")
    compile_documents(cli, "examples/fan_out.yaml", tmp_path / "without")
    (shared,) = import_file(tmp_path / "with" / "workflow.yaml", "argo")
    (plain,) = import_file(tmp_path / "without" / "workflow.yaml", "argo")
    assert [(d.code, d.help) for d in shared.diagnostics] == [
        ("W602", "compile with --option volume=pipeline-data to share the files between tasks again")]
    assert pipeline_yaml(shared).split("\n", 1)[1] == pipeline_yaml(plain).split("\n", 1)[1]
