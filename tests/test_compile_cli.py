"""`dagshift compile` and `dagshift targets`: all-or-nothing writes, layouts, capability errors,
and third-party backends through the `dagshift.backends` entry-point group."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from compiler import importers
from compiler.backends import registry
from compiler.language.features import Feature

ROOT = Path(__file__).resolve().parent.parent

CACHED = """\
name: cached
tasks:
  a: {command: echo a, cache: true}
  b: {command: echo b, after: [a], pool: io}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_compile_writes_one_file_per_pipeline(cli, tmp_path: Path) -> None:
    out = tmp_path / "dags"
    result = cli("compile", "examples/sequential.yaml", "-t", "airflow", "-o", str(out))
    assert result.exit_code == 0, result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["sequential.py"]
    assert f"wrote {out / 'sequential.py'}" in result.stdout


def test_several_targets_get_a_directory_each(cli, tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = cli("compile", "examples/minimal.yaml", "-t", "all", "-o", str(out), "-q")
    assert result.exit_code == 0 and result.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == sorted(registry.names())
    assert (out / "airflow" / "minimal.py").is_file()



def test_a_repeated_target_option_adds_targets(cli, tmp_path: Path) -> None:
    """`-t airflow -t prefect,argo` compiles all three (a repeated option never silently keeps only the last)."""
    out = tmp_path / "build"
    result = cli("compile", "examples/minimal.yaml", "-t", "airflow", "-t", "prefect,argo", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["airflow", "argo", "prefect"]


def test_an_error_writes_nothing_and_keeps_existing_files(cli, tmp_path: Path) -> None:
    out = tmp_path / "dags"
    out.mkdir()
    (out / "cached.py").write_text("# hand-written, must survive\n")
    (out / "other.py").write_text("# unrelated\n")
    good = ROOT / "examples" / "sequential.yaml"
    bad = write(tmp_path, "cached.yaml", CACHED)
    result = cli("compile", str(good), str(bad), "-t", "airflow", "-o", str(out), "--strict")
    assert result.exit_code == 1
    assert "E301" in result.stdout and "result caching (task 'a')" in result.stdout
    assert "nothing written" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["cached.py", "other.py"]  # no sequential.py either
    assert (out / "cached.py").read_text() == "# hand-written, must survive\n"


def test_invalid_pipeline_writes_nothing(cli, tmp_path: Path) -> None:
    out = tmp_path / "dags"
    bad = write(tmp_path, "bad.yaml", "name: bad\ntasks:\n  a: {after: [nope]}\n")
    result = cli("compile", str(bad), "-t", "airflow", "-o", str(out))
    assert result.exit_code == 1 and "E100" in result.stdout
    assert not out.exists() or not any(out.iterdir())


def test_an_operational_setting_the_target_lacks_is_left_out_with_a_warning(cli, tmp_path: Path) -> None:
    out = tmp_path / "dags"
    path = write(tmp_path, "cached.yaml", CACHED)
    result = cli("compile", str(path), "-t", "airflow", "-o", str(out))
    assert result.exit_code == 0, result.stdout
    assert ("warning[W301]: Airflow 3 cannot express result caching (task 'a'): it is left out, so the task runs "
            "every time") in result.stdout
    assert (out / "cached.py").is_file()
    assert 'pool="io"' in (out / "cached.py").read_text()


SCHEDULED = """\
name: nightly
schedule: {cron: "0 2 * * *", timezone: Europe/Berlin}
defaults: {retries: 3, retry_delay: 5m, timeout: 5m}
tasks:
  extract: {command: echo extract}
  load: {command: echo load, after: [extract], timeout: 2h}
"""


def test_a_scheduled_pipeline_with_retries_compiles_to_every_target(cli, tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = cli("compile", str(write(tmp_path, "nightly.yaml", SCHEDULED)), "-t", "all", "-o", str(out), "-q")
    assert result.exit_code == 0, result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(registry.names())
    warnings = [block for block in result.stdout.split("\n\n") if block.startswith("warning[W301]: DVC")]
    assert [block.splitlines()[0] for block in warnings] == [
        ("warning[W301]: DVC cannot express cron schedule with time zone (the pipeline): it is left out, so runs "
         "start only when started by hand or by another scheduler"),
        ("warning[W301]: DVC cannot express retries with delay (2 tasks): it is left out, so a failed attempt fails "
         "the task at once"),
        ("warning[W301]: DVC cannot express task timeout (task 'extract'): it is left out, so the task runs with no "
         "time limit"),
        ("warning[W301]: DVC cannot express task timeout (task 'load'): it is left out, so the task runs with no "
         "time limit"),
    ]
    dvc = (out / "dvc" / "dvc.yaml").read_text()
    assert "retr" not in dvc and "timeout" not in dvc and "cron" not in dvc
    assert '"retries": 3' in (out / "airflow" / "nightly.py").read_text()  # the others keep them (default_args)


def test_an_inherited_setting_is_reported_at_its_defaults_key_with_the_users_numbers(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "nightly.yaml", SCHEDULED)
    result = cli("compile", str(path), "-t", "dvc", "-o", str(tmp_path / "out"))
    blocks = {block.splitlines()[0]: block for block in result.stdout.split("\n\n")}
    retries = next(block for first, block in blocks.items() if "retries with delay" in first)
    assert f"--> {path}:3:21  (defaults.retries)" in retries
    assert "= note: set in `defaults` and inherited by tasks 'extract', 'load'" in retries
    inherited = next(block for first, block in blocks.items() if "task timeout (task 'extract')" in first)
    assert f"--> {path}:3:50  (defaults.timeout)" in inherited
    assert "= note: set in `defaults` and inherited by task 'extract'" in inherited
    assert "= help: `timeout 300 CMD` inside the command" in inherited  # 5m
    own = next(block for first, block in blocks.items() if "task timeout (task 'load')" in first)
    assert f"--> {path}:6:57  (tasks.load.timeout)" in own and "= note" not in own
    assert "= help: `timeout 7200 CMD` inside the command" in own  # 2h


@pytest.mark.parametrize("flags", [["--strict"], ["--unsupported", "error"]])
def test_strict_makes_every_setting_left_out_an_error(cli, tmp_path: Path, flags: list[str]) -> None:
    out = tmp_path / "build"
    out.mkdir()
    (out / "keep.txt").write_text("kept\n")
    result = cli("compile", str(write(tmp_path, "nightly.yaml", SCHEDULED)), "-t", "all", "-o", str(out), *flags)
    assert result.exit_code == 1
    assert "warning[" not in result.stdout
    codes = [line.split("]")[0] for line in result.stdout.splitlines() if line.startswith("error[")]
    assert codes.count("error[E301") == 4  # DVC: schedule, retries, two timeouts
    assert codes.count("error[E302") == 1  # Kubeflow's own limit: the schedule's time zone
    assert "= note: an error because of --strict: without it, the DVC output leaves this setting out" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_strict_and_unsupported_warn_contradict(cli, tmp_path: Path) -> None:
    result = cli("compile", "examples/minimal.yaml", "-t", "dvc", "-o", str(tmp_path), "--strict", "--unsupported",
                 "warn")
    assert result.exit_code == 2 and "contradict" in result.stderr


def test_what_changes_what_runs_is_an_error_without_strict(cli, tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = cli("compile", "examples/fan_out.yaml", "-t", "all", "-o", str(out))
    assert result.exit_code == 1
    assert ("error[E301]: DVC cannot express dynamic fan-out (foreach over an upstream output)" in result.stdout)
    assert not out.exists() or not any(out.iterdir())


def test_nothing_is_left_behind_in_the_output_directory(cli, tmp_path: Path) -> None:
    out = tmp_path / "dags"
    assert cli("compile", "examples/parallel.yaml", "-t", "airflow", "-o", str(out)).exit_code == 0
    assert [p.name for p in out.iterdir()] == ["parallel.py"]  # the staging directory is gone


def test_usage_errors(cli, tmp_path: Path) -> None:
    assert cli("compile", "examples/minimal.yaml", "-t", "nope", "-o", str(tmp_path)).exit_code == 2
    assert cli("compile", "examples/minimal.yaml", "-o", str(tmp_path)).exit_code == 2
    assert cli("compile", "examples/minimal.yaml", "-t", "airflow").exit_code == 2
    bad_option = cli("compile", "examples/minimal.yaml", "-t", "airflow", "-o", str(tmp_path), "--option", "x")
    assert bad_option.exit_code == 2
    unknown_key = cli("compile", "examples/minimal.yaml", "-t", "airflow", "-o", str(tmp_path), "--option", "x=1")
    assert unknown_key.exit_code == 2 and "container" in unknown_key.stderr + unknown_key.stdout
    bad_value = cli("compile", "examples/minimal.yaml", "-t", "airflow", "-o", str(tmp_path / "o"),
                    "--option", "container=podman")
    assert bad_value.exit_code == 1 and "E303" in bad_value.stdout


def test_two_pipelines_with_one_name_collide(cli, tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "name: same\ntasks: {a: {command: echo}}\n")
    second = write(tmp_path, "b.yaml", "name: same\ntasks: {b: {command: echo}}\n")
    result = cli("compile", str(first), str(second), "-t", "airflow", "-o", str(tmp_path / "out"))
    assert result.exit_code == 1 and "E402" in result.stdout
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_targets_matrix_comes_from_the_declarations(cli, fmt: str) -> None:
    result = cli("targets", "--format", fmt, "--details")
    assert result.exit_code == 0
    airflow = registry.get("airflow")
    assert "Airflow 3" in result.stdout
    assert airflow.support(Feature.CACHE).how in result.stdout
    if fmt == "markdown":
        assert result.stdout.startswith("| feature | kind | Airflow 3")
        rows = [line.split(" | ") for line in result.stdout.splitlines()[2:] if line.startswith("| ")]
        kinds = {cells[0].lstrip("| "): cells[1] for cells in rows}
        assert kinds["retries with delay"] == "operational" and kinds["conditional task (when / else_of)"] == "semantic"


PLUGIN = '''
from compiler.backends.base import Backend, native
from compiler.importers import Imported, Importer
from compiler.language.features import Feature


class EchoBackend(Backend):
    name = "echo"
    title = "Echo"
    capabilities = {feature: native() for feature in Feature}
    importer = "echo_backend:IMPORTER"  # the same entry point ships the importer

    def render(self, pipeline, ctx):
        return {f"{pipeline.name}.txt": "\\n".join(pipeline.tasks) + "\\n"}


class EchoImporter(Importer):
    name = "echo"
    title = "Echo"

    def detect(self, path, text):
        return path.suffix == ".txt"

    def read(self, path, text, display):
        return [Imported(display, {"name": path.stem, "tasks": {task: {"command": f"echo {task}"}
                                                                 for task in text.split()}})]


IMPORTER = EchoImporter()
'''


def test_a_third_party_backend_plugs_in_through_entry_points(cli, tmp_path: Path, monkeypatch) -> None:
    """A real distribution on sys.path with an entry point in the `dagshift.backends` group."""
    site = tmp_path / "site"
    (site / "echo_backend").mkdir(parents=True)
    (site / "echo_backend" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    dist = site / "echo_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-backend\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[dagshift.backends]\necho = echo_backend:EchoBackend\n")
    monkeypatch.syspath_prepend(str(site))
    registry._plugins.cache_clear()
    registry.get.cache_clear()
    try:
        assert "echo" in registry.names()
        out = tmp_path / "out"
        result = cli("compile", "examples/minimal.yaml", "-t", "echo", "-o", str(out))
        assert result.exit_code == 0, result.stdout
        assert (out / "minimal.txt").read_text().split() == ["ingest", "transform", "validate", "train", "evaluate",
                                                             "deploy"]
        assert "Echo" in cli("targets").stdout
        # ...and read back, named (--from) or detected after the built-in formats
        assert importers.formats()[-1] == "echo" and importers.get("echo").title == "Echo"
        for named in (("--from", "echo"), ()):
            back = tmp_path / "back" / f"minimal{len(named)}.yaml"
            result = cli("import", str(out / "minimal.txt"), *named, "-o", str(back))
            assert result.exit_code == 0, result.stdout
            assert list(yaml.safe_load(back.read_text())["tasks"]) == ["ingest", "transform", "validate", "train",
                                                                      "evaluate", "deploy"]
    finally:
        sys.modules.pop("echo_backend", None)
        registry._plugins.cache_clear()
        registry.get.cache_clear()


@pytest.mark.parametrize("target", registry.names())
def test_a_pipeline_whose_every_task_is_removed_still_compiles(cli, tmp_path, target) -> None:
    """-O1 removes a task whose condition is always false (W501); with none left, each backend
    still writes a valid, empty pipeline (Airflow used to write a `with DAG` block with no body)."""
    source = tmp_path / "empty.yaml"
    source.write_text('name: empty_after\ntasks:\n  never: {command: "echo x", when: "1 == 2"}\n', encoding="utf-8")
    result = cli("compile", str(source), "-t", target, "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stdout
    assert "warning[W501]" in result.stdout and "error" not in result.stdout
    assert any((tmp_path / "out").iterdir())


def test_a_backends_own_limit_on_an_inherited_setting_points_at_defaults(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "pooled.yaml", 'name: pooled\ndefaults: {pool: "gpu pool"}\n'
                                          "tasks:\n  a: {command: echo a}\n  b: {command: echo b, pool: io}\n")
    result = cli("compile", str(path), "-t", "argo", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stdout
    (block,) = [block for block in result.stdout.split("\n\n") if block.startswith("warning[W302]")]
    assert "pool 'gpu pool' is not one, so it is left out and task 'a' is not limited by it" in block
    assert f"--> {path}:2:18  (defaults.pool)" in block
    assert "= note: set in `defaults` and inherited by task 'a'" in block
    workflow = (tmp_path / "out" / "workflow.yaml").read_text()
    assert "gpu pool" not in workflow and "key: io" in workflow
