"""The warnings for pipelines that would lose files or code when every task is its own pod
(compiler/backends/kubernetes_pods.py): which words count as files and code, and which do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.api import check_file
from compiler.backends.kubernetes_pods import warn_pod_boundaries
from compiler.diagnostics import Diagnostics
from compiler.language.source import Reporter
from tests.helpers import load

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
IMAGE = "python:3.12-slim"


def warnings_for(loaded, *, volume=None, default_image=IMAGE):
    found = Diagnostics()
    warn_pod_boundaries(loaded.pipeline, Reporter(loaded.source, found), "Argo", volume=volume,
                        default_image=default_image)
    return found.sorted()


def messages(text: str, **options) -> list[str]:
    return [f"{d.code} {d.message}" for d in warnings_for(load(text), **options)]


def test_fan_out_names_every_file_passed_outside_artifacts_and_the_code_root():
    found = warnings_for(check_file(EXAMPLES / "fan_out.yaml"))
    files = {d.message.split("'")[3] for d in found if d.code == "W303"}
    assert files == {"models/${{ item }}.json", "models/${{ item.name }}.json", "data/shards", "data/predictions"}
    shards = next(d for d in found if "'data/shards'" in d.message)
    source = (EXAMPLES / "fan_out.yaml").read_text().splitlines()
    assert source[shards.loc.line - 1][shards.loc.col - 1:].startswith("data/shards")
    assert "volume=CLAIM" in shards.help
    [code] = [d for d in found if d.code == "W304"]
    assert "'tinyml'" in code.message and "10 tasks" in code.message and IMAGE in code.message


def test_a_volume_silences_both_and_a_chosen_image_silences_the_code_warning():
    loaded = check_file(EXAMPLES / "fan_out.yaml")
    assert warnings_for(loaded, volume="pipeline-data") == []
    assert {d.code for d in warnings_for(loaded, default_image=None)} == {"W303"}


def test_declared_paths_managed_outputs_and_values_from_elsewhere_are_not_files():
    assert messages("""
        name: p
        params: {dest: out.csv}
        artifacts:
          raw: data/raw.csv
          reports: {path: reports, kind: directory}
        tasks:
          a:
            command: >-
              cp ${{ artifacts.raw }} ./data/raw.csv && echo 1 > ${{ outputs.n }}
              && touch reports/summary.json ${{ params.dest }} data
            produces: [raw, reports]
            outputs: {n: int}
          b:
            command: cat ${{ artifacts.raw }} > /tmp/x.csv; curl https://example.com/a/b.json -o -
            consumes: [raw]
          c:
            command: echo done
            outputs: {m: {type: int, path: state/m.txt}}
            after: [a]
          d:
            command: cat state/m.txt
            after: [c]
    """) == []


def test_option_values_argv_lists_and_python_args_are_read():
    found = messages("""
        name: p
        tasks:
          a:
            command: tool --out=cache/a.bin OUT2=result.parquet
          b:
            command: [tool, --in, cache/a.bin]
            after: [a]
          c:
            python: json:dumps
            args: {obj: 1, path: "runs/${{ item }}/log.txt"}
            foreach: [x, y]
            after: [b]
    """, default_image=None)
    assert len(found) == 3
    assert "2 tasks" not in found[0] and "tasks 'a' and 'b' use 'cache/a.bin'" in found[0]
    assert "'result.parquet'" in found[1] and "'runs/${{ item }}/log.txt'" in found[2]


@pytest.mark.parametrize("command, root", [
    ("python3 -m tinyml.ingest --rows 3", "tinyml"),
    ("python train.py --epochs 3", "train.py"),
    ("/usr/local/bin/python3.12 -m mypkg", "mypkg"),
    ("./run.sh fast", "./run.sh"),
    ("bash scripts/prepare.sh", "scripts/prepare.sh"),
])
def test_a_command_that_runs_the_pipelines_own_code_is_named(command, root):
    [warning] = messages(f"""
        name: p
        tasks:
          a:
            command: {command}
    """)
    assert warning.startswith("W304") and f"'{root}'" in warning


@pytest.mark.parametrize("task", [
    "{command: python3 -m json.tool}",
    "{command: python3 -m pip install requests}",
    "{python: 'json:dumps', args: {obj: 1}}",
    "{command: python3 -m tinyml.ingest, image: 'ghcr.io/acme/tinyml:1'}",
    "{command: echo python3 -m}",
])
def test_the_standard_library_and_own_images_need_no_code_warning(task):
    assert messages(f"""
        name: p
        tasks:
          a: {task}
    """) == []


def test_a_command_the_shell_cannot_split_still_gets_its_words_read():
    [warning] = messages("""
        name: p
        tasks:
          a:
            command: "echo 'unbalanced > logs/out.txt"
    """, default_image=None)
    assert "'logs/out.txt'" in warning


@pytest.mark.parametrize("target", ["argo", "kubeflow"])
def test_compiling_fan_out_warns_about_the_files_passed_between_pods_unless_a_volume_is_mounted(target):
    from compiler.compile import compile_loaded
    from compiler.tools.compare import compare_loaded, to_text

    loaded = check_file(EXAMPLES / "fan_out.yaml")
    without = compile_loaded(loaded, [target])
    named = {d.message.split("'")[3] for d in without.diagnostics if d.code == "W303"}
    assert {"data/shards", "data/predictions", "models/${{ item }}.json"} <= named
    assert [d.code for d in without.diagnostics].count("W304") == 1
    report = to_text(compare_loaded(check_file(EXAMPLES / "fan_out.yaml"), [target]))
    assert "warning[W303]" in report and "'data/shards'" in report and "warning[W304]" in report
    mounted = compile_loaded(check_file(EXAMPLES / "fan_out.yaml"), [target], options={"volume": "pipeline-data"})
    assert not [d for d in mounted.diagnostics if d.code in ("W303", "W304")] and mounted.files
    assert all("pipeline-data" in text for name, text in mounted.files.items() if name.endswith((".py", "workflow.yaml")))
