"""The project config (compiler/project.py): where it is found, what it may say, how a bad one is
reported, and that its paths are relative to the config file whatever the working directory."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from compiler.backends import registry
from compiler.project import ProjectConfigError, config_diagnostics, find_config, load_config

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "examples" / "minimal.yaml"

CONFIG = """\
[[pipelines]]
file = "pipelines/minimal.yaml"
targets = ["airflow", "argo"]
output = "build"
"""


def project(tmp_path: Path, config: str = CONFIG, name: str = "dagshift.toml") -> Path:
    (tmp_path / "pipelines").mkdir(exist_ok=True)
    shutil.copy(MINIMAL, tmp_path / "pipelines" / "minimal.yaml")
    (tmp_path / name).write_text(textwrap.dedent(config))
    return tmp_path


def problems(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ProjectConfigError) as info:
        load_config(path)
    return [(problem.key, problem.message) for problem in info.value.problems]


# ----------------------------------------------------------------------------- discovery


def test_found_in_a_parent_directory(tmp_path: Path) -> None:
    project(tmp_path)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == (tmp_path / "dagshift.toml").resolve()


def test_pyproject_needs_a_tool_dagshift_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[[tool.dagshift.pipelines]]\n'
                                             'file = "p.yaml"\ntargets = ["dvc"]\noutput = "."\n')
    assert find_config(tmp_path) == (tmp_path / "pyproject.toml").resolve()


def test_a_pyproject_without_the_table_is_passed_over_for_a_parent(tmp_path: Path) -> None:
    project(tmp_path)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "sub"\n')
    assert find_config(sub) == (tmp_path / "dagshift.toml").resolve()


def test_dagshift_toml_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    project(tmp_path)
    project(tmp_path, "[tool.dagshift]\n" + CONFIG.replace("[[pipelines]]", "[[tool.dagshift.pipelines]]"),
            name="pyproject.toml")
    assert find_config(tmp_path).name == "dagshift.toml"


def test_nearest_wins(tmp_path: Path) -> None:
    project(tmp_path)
    inner = tmp_path / "inner"
    inner.mkdir()
    project(inner)
    assert find_config(inner) == (inner / "dagshift.toml").resolve()


def test_none_found(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None


# ----------------------------------------------------------------------------- reading


def test_reads_a_dagshift_toml(tmp_path: Path) -> None:
    config = load_config(project(tmp_path) / "dagshift.toml")
    [entry] = config.pipelines
    assert config.root == tmp_path.resolve()
    assert entry.file == (tmp_path / "pipelines" / "minimal.yaml").resolve()
    assert entry.file_label == "pipelines/minimal.yaml"
    assert entry.targets == ("airflow", "argo") and entry.per_target_dirs
    assert entry.output == (tmp_path / "build").resolve() and entry.output_label == "build"
    assert (entry.level, entry.strict, entry.select, entry.options) == (1, (), (), {})


def test_reads_tool_dagshift_with_defaults(tmp_path: Path) -> None:
    config = project(tmp_path, """\
        [project]
        name = "x"

        [tool.dagshift]
        strict = ["airflow", "dvc"]
        level = 2
        options = {container = "docker", image = "python:3.12"}

        [[tool.dagshift.pipelines]]
        file = "pipelines/minimal.yaml"
        targets = ["airflow"]
        output = "dags"

        [[tool.dagshift.pipelines]]
        file = "pipelines/minimal.yaml"
        targets = "all"
        output = "./build/../build"
        level = 0
        select = ["train"]
        options = {image = "python:3.13"}

        [[tool.dagshift.pipelines]]
        file = "pipelines/minimal.yaml"
        targets = ["argo", "dvc"]
        output = "more"
        unsupported = "error"
        """, name="pyproject.toml")
    first, second, third = load_config(config / "pyproject.toml").pipelines
    assert first.targets == ("airflow",) and not first.per_target_dirs
    assert (first.strict, first.level) == (("airflow",), 2)  # strict for the default's targets it compiles to
    assert second.strict == ("airflow", "dvc")
    assert third.strict == ("argo", "dvc")  # the old spelling: unsupported = "error" is strict = true
    assert first.options == {"container": "docker"}  # `image` is not an airflow option: not passed to it
    assert second.targets == tuple(registry.names()) and second.per_target_dirs  # "all"
    assert second.output_label == "build" and second.level == 0 and second.select == ("train",)
    assert second.options == {"container": "docker", "image": "python:3.13"}  # the entry's own win


def test_explicit_config_with_another_name_is_a_top_level_table(tmp_path: Path) -> None:
    project(tmp_path, name="ci.toml")
    assert len(load_config(tmp_path / "ci.toml").pipelines) == 1


def test_paths_are_relative_to_the_config_not_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    elsewhere = tmp_path.parent / (tmp_path.name + "-elsewhere")
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    [entry] = load_config(tmp_path / "dagshift.toml").pipelines
    assert entry.output == (tmp_path / "build").resolve()


# ----------------------------------------------------------------------------- validation


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    config = project(tmp_path, CONFIG.replace('output = "build"', 'output = "build"\ntarget = ["dvc"]') + "outputs = 1\n")
    found = problems(config / "dagshift.toml")
    assert ("pipelines[0].target", "unknown key 'target'") in found
    assert ("pipelines[0].outputs", "unknown key 'outputs'") in found


def test_unknown_top_level_key_in_pyproject_names_the_full_path(tmp_path: Path) -> None:
    config = project(tmp_path, "[tool.dagshift]\nunsuported = \"warn\"\n"
                     + CONFIG.replace("[[pipelines]]", "[[tool.dagshift.pipelines]]"), name="pyproject.toml")
    assert problems(config / "pyproject.toml") == [("tool.dagshift.unsuported", "unknown key 'unsuported'")]


@pytest.mark.parametrize(("change", "key", "message"), [
    (('targets = ["airflow", "argo"]', 'targets = ["airflo"]'), "pipelines[0].targets", "unknown target 'airflo'"),
    (('targets = ["airflow", "argo"]', 'targets = []'), "pipelines[0].targets", "expected a non-empty array"),
    (('targets = ["airflow", "argo"]', ''), "pipelines[0].targets", "missing"),
    (('output = "build"', 'output = ""'), "pipelines[0].output", "empty"),
    (('output = "build"', 'output = 3'), "pipelines[0].output", "expected a string, got 3"),
    (('output = "build"', 'output = "pipelines/minimal.yaml"'), "pipelines[0].output", "pipelines/minimal.yaml is a file"),
    (('file = "pipelines/minimal.yaml"', 'file = "pipelines/nope.yaml"'), "pipelines[0].file", "no such file"),
    (('output = "build"', 'output = "build"\nlevel = 3'), "pipelines[0].level", "expected 0, 1 or 2"),
    (('output = "build"', 'output = "build"\nlevel = true'), "pipelines[0].level", "expected 0, 1 or 2"),
    (('output = "build"', 'output = "build"\nunsupported = "ignore"'), "pipelines[0].unsupported", 'expected "error"'),
    (('output = "build"', 'output = "build"\nstrict = "yes"'), "pipelines[0].strict", "expected true, false or an array"),
    (('output = "build"', 'output = "build"\nstrict = ["dvcc"]'), "pipelines[0].strict", "unknown target 'dvcc'"),
    (('output = "build"', 'output = "build"\nstrict = true\nunsupported = "warn"'), "pipelines[0].unsupported",
     "both strict and unsupported are set"),
    (('output = "build"', 'output = "build"\nselect = "train"'), "pipelines[0].select", "expected an array"),
    (('output = "build"', 'output = "build"\noptions = {contaner = "docker"}'), "pipelines[0].options.contaner",
     "unknown option 'contaner'"),
    (('output = "build"', 'output = "build"\noptions = {container = 1}'), "pipelines[0].options.container",
     "expected a string"),
])
def test_bad_values(tmp_path: Path, change: tuple[str, str], key: str, message: str) -> None:
    config = project(tmp_path, CONFIG.replace(*change))
    [(found_key, found_message)] = problems(config / "dagshift.toml")
    assert found_key == key and found_message.startswith(message), (found_key, found_message)


def test_every_problem_at_once_with_its_line(tmp_path: Path) -> None:
    config = project(tmp_path, """\
        level = 9

        [[pipelines]]
        file = "pipelines/minimal.yaml"
        targets = ["argo"]
        output = "build"

        [[pipelines]]
        file = "pipelines/minimal.yaml"
        targets = ["nope"]
        output = "build"
        """)
    with pytest.raises(ProjectConfigError) as info:
        load_config(config / "dagshift.toml")
    diagnostics = config_diagnostics(info.value, "dagshift.toml")
    assert [(d.code, d.loc.file, d.loc.line, d.message) for d in diagnostics] == [
        ("E701", "dagshift.toml", 1, "expected 0, 1 or 2, got 9"),
        ("E701", "dagshift.toml", 10, "unknown target 'nope'"),
    ]
    assert all(d.help for d in diagnostics)


def test_no_pipelines(tmp_path: Path) -> None:
    (tmp_path / "dagshift.toml").write_text('strict = true\n')
    [(key, message)] = problems(tmp_path / "dagshift.toml")
    assert (key, message) == ("pipelines", "no pipelines listed")


def test_invalid_toml_gives_its_line(tmp_path: Path) -> None:
    (tmp_path / "dagshift.toml").write_text('[[pipelines]]\nfile = "x.yaml\n')
    with pytest.raises(ProjectConfigError) as info:
        load_config(tmp_path / "dagshift.toml")
    [diagnostic] = config_diagnostics(info.value, "dagshift.toml")
    assert diagnostic.message.startswith("invalid TOML") and diagnostic.loc.line == 2


def test_pyproject_given_explicitly_without_the_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert problems(tmp_path / "pyproject.toml") == [("", "there is no [tool.dagshift] table")]


# ----------------------------------------------------------------------------- through the CLI


def test_cli_reports_a_bad_config_without_traceback_and_writes_nothing(cli, tmp_path: Path) -> None:
    project(tmp_path, CONFIG.replace('output = "build"', 'output = "build"\nfiles = []'))
    result = cli("compile", cwd=tmp_path)
    assert result.exit_code == 2 and result.exception is None, result.traceback_text
    assert "error[E701]: unknown key 'files'" in result.stdout
    assert "--> dagshift.toml:5:1  (pipelines[0].files)" in result.stdout
    assert "help: known keys here:" in result.stdout
    assert "Traceback" not in result.traceback_text
    assert not (tmp_path / "build").exists()


def test_cli_without_files_or_config_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("compile", cwd=tmp_path)
    assert result.exit_code == 2
    assert "no project config found" in result.stderr


@pytest.mark.parametrize("args", [["-t", "airflow"], ["-o", "out"], ["-O", "2"], ["--select", "train"],
                                  ["--strict"], ["--unsupported", "warn"], ["--option", "container=docker"]])
def test_cli_settings_only_go_with_files(cli, tmp_path: Path, args: list[str]) -> None:
    project(tmp_path)
    result = cli("compile", *args, cwd=tmp_path)
    assert result.exit_code == 2 and "only with FILES" in result.stderr
    assert not (tmp_path / "build").exists()


def test_cli_files_still_need_target_and_output(cli, tmp_path: Path) -> None:
    project(tmp_path)
    result = cli("compile", "pipelines/minimal.yaml", "-t", "airflow", cwd=tmp_path)
    assert result.exit_code == 2 and "missing option -o/--output" in result.stderr
    result = cli("compile", "pipelines/minimal.yaml", "-t", "airflow", "-o", "x", "--config", "dagshift.toml",
                 cwd=tmp_path)
    assert result.exit_code == 2 and "not both" in result.stderr


def test_cli_builds_from_a_subdirectory_into_the_config_directory(cli, tmp_path: Path) -> None:
    project(tmp_path)
    sub = tmp_path / "pipelines"
    result = cli("compile", cwd=sub)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines() == ["wrote build/airflow/minimal.py", "wrote build/argo/workflow.yaml"]
    assert (tmp_path / "build" / "airflow" / "minimal.py").is_file()
    assert not (sub / "build").exists()


def test_cli_explicit_config_from_elsewhere(cli, tmp_path: Path) -> None:
    config = tmp_path / "proj"
    config.mkdir()
    project(config)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli("compile", "-q", "--config", str(config / "dagshift.toml"), cwd=elsewhere)
    assert result.exit_code == 0, result.stdout
    assert sorted(p.name for p in (config / "build").iterdir()) == ["airflow", "argo"]
    assert list(elsewhere.iterdir()) == []


def test_cli_two_entries_generating_one_file_write_nothing(cli, tmp_path: Path) -> None:
    project(tmp_path, CONFIG + CONFIG.replace('targets = ["airflow", "argo"]', 'targets = ["airflow"]')
            .replace('output = "build"', 'output = "build/airflow"'))
    result = cli("compile", cwd=tmp_path)
    assert result.exit_code == 1
    assert "E402" in result.stdout
    assert "pipelines/minimal.yaml and pipelines/minimal.yaml both generate build/airflow/minimal.py" in result.stdout
    assert not (tmp_path / "build").exists()


@pytest.mark.parametrize("strict, exit_code", [('["dvc"]', 1), ('["airflow"]', 0), ("false", 0)])
def test_strict_per_target_decides_what_a_left_out_setting_is(cli, tmp_path: Path, strict: str,
                                                              exit_code: int) -> None:
    project(tmp_path, f"""\
        strict = {strict}

        [[pipelines]]
        file = "pipelines/minimal.yaml"
        targets = ["airflow", "dvc"]
        output = "build"
        """)
    pipeline = tmp_path / "pipelines" / "minimal.yaml"
    pipeline.write_text(pipeline.read_text().replace("\ntasks:", '\nschedule: "0 2 * * *"\ntasks:', 1))
    result = cli("compile", cwd=tmp_path)
    assert result.exit_code == exit_code, result.stdout
    if exit_code:  # DVC has no schedules: an error for a strict DVC
        assert "error[E301]: DVC cannot express cron schedule" in result.stdout
        assert not (tmp_path / "build").exists()
    else:
        assert "warning[W301]: DVC cannot express cron schedule" in result.stdout
        assert (tmp_path / "build" / "dvc" / "dvc.yaml").is_file()
