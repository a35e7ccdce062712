"""compiler.output_files: every file or none, nothing half-written where a tool reads it, every
destination that cannot be written a diagnostic (E403), never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.check import Expected, check_outputs
from compiler.output_files import TEMP_SUFFIX, OutputError, leftovers, write_outputs

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = "name: p\ntasks: {a: {command: echo hi}}\n"


def tree(directory: Path) -> dict[str, str]:
    return {path.relative_to(directory).as_posix(): path.read_text() if path.is_file() else "<dir>"
            for path in sorted(directory.rglob("*"))}


def test_writes_every_file_exactly_and_leaves_no_temporary_file(tmp_path):
    written = write_outputs({tmp_path / "a": {"x.py": "x = 1\n", "sub/y.yaml": "y: é\n"}, tmp_path / "b": {"z": ""}})
    assert written == [tmp_path / "a" / "x.py", tmp_path / "a" / "sub" / "y.yaml", tmp_path / "b" / "z"]
    assert tree(tmp_path) == {"a": "<dir>", "a/sub": "<dir>", "a/sub/y.yaml": "y: é\n", "a/x.py": "x = 1\n",
                              "b": "<dir>", "b/z": ""}


def test_a_directory_where_a_file_goes_stops_everything_before_the_first_write(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py").write_text("mine\n")
    (tmp_path / "b" / "y.py").mkdir(parents=True)
    before = tree(tmp_path)
    with pytest.raises(OutputError) as info:
        write_outputs({tmp_path / "a": {"x.py": "new\n"}, tmp_path / "b": {"y.py": "new\n"}})
    assert info.value.path == tmp_path / "b" / "y.py" and "is a directory" in info.value.reason
    assert tree(tmp_path) == before


def test_a_dangling_symlink_or_a_file_on_the_way_is_named(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "missing")
    with pytest.raises(OutputError, match="symbolic link to .*missing, which does not exist"):
        write_outputs({tmp_path / "link": {"x.py": ""}})
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is a file, not a directory") as info:
        write_outputs({tmp_path / "file" / "deeper": {"x.py": ""}})
    assert info.value.path == tmp_path / "file"


def test_a_failure_while_writing_removes_what_was_staged_and_created(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py").write_text("mine\n")
    before = tree(tmp_path)
    with pytest.raises(OutputError) as info:  # /proc refuses new directories: the second output fails
        write_outputs({tmp_path / "a": {"x.py": "new\n", "new/y.py": "y\n"}, Path("/proc/dagshift-test"): {"z": ""}})
    assert "/proc/dagshift-test" in str(info.value)
    assert tree(tmp_path) == before


def test_sigterm_while_moving_files_into_place_leaves_no_temporary_file(tmp_path):
    """The signal arrives through the real handler: os.replace sends it to the process itself."""
    script = f"""
import os, signal, sys
sys.path.insert(0, {str(ROOT)!r})
from compiler import output_files
real_replace = os.replace
def replace_then_terminate(source, destination):
    real_replace(source, destination)
    os.kill(os.getpid(), signal.SIGTERM)
os.replace = replace_then_terminate
output_files.write_outputs({{output_files.Path({str(tmp_path)!r}): {{"a.py": "a\\n", "b.py": "b\\n", "c.py": "c\\n"}}}})
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 128 + 15, run.stderr
    assert tree(tmp_path) == {"a.py": "a\n"}  # the first file moved; the others' staging is gone


def test_temporary_files_of_a_killed_run_are_reported_then_removed_by_the_next_write(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    leftover = tmp_path / f".p.py.{dead}{TEMP_SUFFIX}"
    leftover.write_text("import airfl")  # truncated by SIGKILL
    running = tmp_path / f".p.py.{os.getppid()}{TEMP_SUFFIX}"  # a live process still writing: not ours
    running.write_text("")
    assert leftovers(tmp_path) == [leftover]
    result = check_outputs([Expected(tmp_path, "out", {"p.py": "x\n"})])
    assert [(p.kind, p.shown) for p in result.problems] == [("missing", "out/p.py"),
                                                            ("leftover", f"out/.p.py.{dead}{TEMP_SUFFIX}")]
    write_outputs({tmp_path: {"p.py": "x\n"}})
    assert not leftover.exists() and running.exists()


def dagshift(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compiler", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


@pytest.mark.parametrize("output", ["dangling", "/proc/dagshift-out", "a-file/deeper"])
def test_compile_into_a_place_it_cannot_write_is_a_diagnostic_and_exit_1(tmp_path, output):
    (tmp_path / "p.yaml").write_text(PIPELINE)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "a-file").write_text("")
    run = dagshift("compile", "p.yaml", "-t", "all", "-o", output, cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr + run.stdout
    assert "error[E403]: cannot write" in run.stdout and "help:" in run.stdout
    as_json = dagshift("compile", "p.yaml", "-t", "all", "-o", output, "--format", "json", cwd=tmp_path)
    assert [d["code"] for d in json.loads(as_json.stdout)] == ["E403"]  # one JSON document
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "dangling", "p.yaml"]
