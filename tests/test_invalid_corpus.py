"""The invalid-input corpus: bad input never produces a traceback.

Every file in examples/invalid/ is rejected with exit code 1 and exactly the diagnostics kept in
golden/invalid/<stem>.txt (the stdout of `dagshift validate --format text examples/invalid/<file>`
run from the repository root). The json and github formats are checked for shape. A 50 MB file is
generated on the fly (it is too big to commit) and checked against golden/invalid/generated_50mb.txt.

Two corpus files are generated, deterministically, by this module: binary_garbage.yaml and
deeply_nested.yaml. `pytest --update-golden` rewrites them (and the goldens); without it the test
below checks that the committed files are what the generators produce.

Adding a case: drop the file into examples/invalid/ (first line: `# <stem>: what is wrong`), run
`pytest tests/test_invalid_corpus.py --update-golden`, and read the new golden file: the diagnostic
must point at the right line and column and say how to fix the problem.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INVALID = ROOT / "examples" / "invalid"
GOLDEN_INVALID = ROOT / "golden" / "invalid"
GENERATED_50MB = "generated_50mb"

# ----------------------------------------------------------------------------- generated corpus files


def binary_garbage() -> bytes:
    """What a pipeline file looks like after someone commits a compressed archive in its place:
    a gzip header, then 400 bytes of a SHA-256 chain (fixed, so the file never changes)."""
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")
    block = b"dagshift invalid corpus: binary garbage"
    while len(out) < 410:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:410])


def deeply_nested() -> bytes:
    """A param default nested 5,000 lists deep, on one line (generated data gone wrong)."""
    depth = 5000
    return (
        "# deeply_nested: a param default nested 5000 lists deep (the limit is 64 levels)\n"
        "name: deeply-nested\n"
        "params:\n"
        f"  matrix: {'[' * depth}1{']' * depth}\n"
        "tasks:\n"
        "  train:\n"
        "    command: python3 -m tinyml.train --matrix '${{ params.matrix }}'\n"
    ).encode("utf-8")


GENERATED = {"binary_garbage.yaml": binary_garbage, "deeply_nested.yaml": deeply_nested}

# Files whose first line cannot be a `# <stem>: ...` comment without changing the case.
NO_HEADER_COMMENT = {"empty.yaml", "binary_garbage.yaml", "json_syntax_error.json"}


def corpus() -> list[str]:
    present = {p.name for p in INVALID.iterdir() if p.is_file() and not p.name.startswith(".")}
    return sorted(present | set(GENERATED))


CASES = corpus()


def golden_name(case: str) -> str:
    return f"{Path(case).stem}.txt"


def assert_no_traceback(result) -> None:
    assert result.exception is None, f"the CLI raised {result.exception!r}"
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr


# ----------------------------------------------------------------------------- the corpus itself


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_inputs_are_current(name: str, golden) -> None:
    golden.compare_file(INVALID / name, GENERATED[name]())


def test_binary_garbage_is_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        binary_garbage().decode("utf-8")


def test_case_names_are_unique_and_documented() -> None:
    stems = [Path(case).stem for case in CASES]
    assert len(stems) == len(set(stems)), "two corpus files share a stem, so they would share a golden file"
    for case in CASES:
        if case in NO_HEADER_COMMENT or not (INVALID / case).exists():
            continue
        first = (INVALID / case).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(f"# {Path(case).stem}: "), f"{case}: first line should say what is wrong"


@pytest.mark.parametrize("case", CASES)
def test_text_diagnostics_match_golden(case: str, cli, golden) -> None:
    result = cli("validate", "--format", "text", f"examples/invalid/{case}")
    assert_no_traceback(result)
    golden.compare_file(GOLDEN_INVALID / golden_name(case), result.stdout)
    assert result.exit_code == 1, result.stdout
    assert result.stderr == ""
    errors = len(re.findall(r"^error\[E\d{3}\]: ", result.stdout, re.M))
    assert errors >= 1
    assert re.search(rf"^found {errors} error\(s\) and \d+ warning\(s\)$", result.stdout, re.M), result.stdout


@pytest.mark.parametrize("case", CASES)
def test_json_diagnostics_have_locations(case: str, cli) -> None:
    path = f"examples/invalid/{case}"
    result = cli("validate", "--format", "json", path)
    assert_no_traceback(result)
    assert result.exit_code == 1
    diagnostics = json.loads(result.stdout)
    errors = [d for d in diagnostics if d["severity"] == "error"]
    assert errors, diagnostics
    for d in diagnostics:
        assert re.fullmatch(r"[EW]\d{3}", d["code"]), d
        assert d["message"], d
        assert d["file"] == path, d
        assert isinstance(d["line"], int) and d["line"] >= 1, d
        assert isinstance(d["col"], int) and d["col"] >= 1, d


@pytest.mark.parametrize("case", CASES)
def test_github_annotations(case: str, cli) -> None:
    path = f"examples/invalid/{case}"
    result = cli("validate", "--format", "github", path)
    assert_no_traceback(result)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ")) for line in lines), result.stdout
    errors = [line for line in lines if line.startswith("::error ")]
    json_errors = [d for d in json.loads(cli("validate", "--format", "json", path).stdout) if d["severity"] == "error"]
    assert len(errors) == len(json_errors)
    for line in errors:
        assert re.match(rf"::error file={re.escape(path)},line=\d+,col=\d+,title=E\d{{3}}::\S", line), line


def test_golden_files_match_the_corpus(golden) -> None:
    """No orphan goldens (a golden without its input) and no input without its golden."""
    golden.check_set(GOLDEN_INVALID, {golden_name(case) for case in CASES} | {f"{GENERATED_50MB}.txt"})


# ----------------------------------------------------------------------------- a 50 MB file


def test_generated_50mb_file(tmp_path: Path, cli, golden) -> None:
    """Too big to commit: generated here, validated by its bare name from its own directory, so the
    golden output does not depend on where the temporary directory is."""
    path = tmp_path / f"{GENERATED_50MB}.yaml"
    header = (
        f"# {GENERATED_50MB}: a 50 MB pipeline file (a data set pasted into a param default)\n"
        "name: generated-50mb\ntasks:\n  train:\n    command: python3 -m tinyml.train\n"
        "params:\n  rows:\n"
    ).encode()
    row = b"    - [0.1234, 0.5678, 0.9012, 0.3456, \"label-a\"]\n"
    size = 50 * 1024 * 1024
    with path.open("wb") as out:
        out.write(header)
        written = len(header)
        chunk = row * 20_000
        while written + len(chunk) <= size:
            out.write(chunk)
            written += len(chunk)
        while written + len(row) <= size:
            out.write(row)
            written += len(row)
        out.write(b"#" * (size - written - 1) + b"\n")
    assert path.stat().st_size == size
    result = cli("validate", "--format", "text", path.name, cwd=tmp_path)
    assert_no_traceback(result)
    golden.compare_file(GOLDEN_INVALID / f"{GENERATED_50MB}.txt", result.stdout)
    assert result.exit_code == 1


# ----------------------------------------------------------------------------- a real process


@pytest.mark.slow
@pytest.mark.parametrize("case", ["binary_garbage.yaml", "deeply_nested.yaml", "alias_bomb.yaml", "custom_tag.yaml",
                                  "empty.yaml", "tab_indent.yaml"])
def test_real_process_output_matches_golden(case: str) -> None:
    """The console entry point in a separate process (real stdout encoding, real exit code), with a C
    locale: the same bytes as the golden file, nothing on stderr."""
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "LANG": "C"}
    proc = subprocess.run(
        [sys.executable, "-m", "compiler", "validate", "--format", "text", f"examples/invalid/{case}"],
        cwd=ROOT, capture_output=True, env=env, timeout=120,
    )
    assert b"Traceback" not in proc.stdout + proc.stderr, proc.stderr.decode("utf-8", "replace")
    assert proc.stderr == b""
    assert proc.returncode == 1
    assert proc.stdout == (GOLDEN_INVALID / golden_name(case)).read_bytes()


# ----------------------------------------------------------------------------- the golden mechanism
# (tests of tests/golden.py, kept here because this module is its first user)

import golden as golden_module  # noqa: E402  (tests/ is on sys.path: pytest puts conftest.py's directory there)


@pytest.mark.parametrize("environ, option, expected", [
    ({}, False, False),
    ({}, True, True),
    ({"UPDATE_GOLDEN": "1"}, False, True),
    ({"UPDATE_GOLDEN": "0"}, False, False),
    ({"UPDATE_GOLDEN": "false"}, False, False),
    ({"CI": "true"}, False, False),
    ({"CI": "0", "UPDATE_GOLDEN": "1"}, False, True),
    ({"CI": "false"}, True, True),
    ({"CI": ""}, True, True),
])
def test_update_flag(environ: dict, option: bool, expected: bool) -> None:
    assert golden_module.update_requested(option, environ) is expected


@pytest.mark.parametrize("environ, option", [({"CI": "true"}, True), ({"CI": "1", "UPDATE_GOLDEN": "1"}, False),
                                             ({"CI": "yes"}, True)])
def test_update_is_refused_in_ci(environ: dict, option: bool) -> None:
    with pytest.raises(pytest.UsageError, match="CI never rewrites golden files"):
        golden_module.update_requested(option, environ)


@pytest.mark.slow
@pytest.mark.parametrize("args, env", [(["--update-golden"], {}), ([], {"UPDATE_GOLDEN": "1"})])
def test_pytest_refuses_to_update_goldens_in_ci(args: list[str], env: dict) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args,
         "tests/test_examples_validate.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "CI": "true", **env},
    )
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert "CI never rewrites golden files" in proc.stderr


def test_compare_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.txt"
    with pytest.raises(pytest.fail.Exception, match="missing golden file"):
        golden_module.compare_file(path, "a\n", update=False)
    golden_module.compare_file(path, "a\nb\n", update=True)
    assert path.read_bytes() == b"a\nb\n"
    golden_module.compare_file(path, b"a\nb\n", update=False)
    with pytest.raises(pytest.fail.Exception) as failure:
        golden_module.compare_file(path, "a\nc\n", update=False)
    assert "-b\n+c\n" in str(failure.value) and "--update-golden" in str(failure.value)
    # Byte for byte: line endings and the final newline count, and the message says where.
    with pytest.raises(pytest.fail.Exception, match="first difference at byte 1"):
        golden_module.compare_file(path, "a\r\nb\n", update=False)
    with pytest.raises(pytest.fail.Exception, match="No newline at end of file"):
        golden_module.compare_file(path, "a\nb", update=False)
    assert path.read_bytes() == b"a\nb\n"  # comparing never writes


def test_compare_tree(tmp_path: Path) -> None:
    tree = tmp_path / "golden" / "example" / "airflow"
    files = {"dags/a.py": "print(1)\n", "README.md": b"x\n"}
    with pytest.raises(pytest.fail.Exception, match="missing golden file"):
        golden_module.compare_tree(tree, files, update=False)
    golden_module.compare_tree(tree, files, update=True)
    assert (tree / "dags" / "a.py").read_text() == "print(1)\n"
    golden_module.compare_tree(tree, files, update=False)

    (tree / "stale.py").write_text("old\n")
    changed = {"dags/a.py": "print(2)\n", "README.md": b"x\n"}
    with pytest.raises(pytest.fail.Exception) as failure:
        golden_module.compare_tree(tree, changed, update=False)
    message = str(failure.value)
    assert "2 golden problem(s)" in message and "-print(1)" in message and "+print(2)" in message
    assert "orphan golden file" in message and "stale.py" in message

    golden_module.compare_tree(tree, {"README.md": b"x\n"}, update=True)
    assert golden_module.golden_files(tree) == {"README.md"}
    assert not (tree / "dags").exists()  # emptied directories are removed
    with pytest.raises(ValueError):
        golden_module.compare_tree(tree, {"../escape.txt": "x"}, update=True)


def test_check_golden_set(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "orphan.txt").write_text("o")
    (tmp_path / ".gitkeep").write_text("")
    with pytest.raises(pytest.fail.Exception) as failure:
        golden_module.check_golden_set(tmp_path, {"a.txt", "b.txt"}, update=False)
    assert "orphan.txt" in str(failure.value) and "b.txt" in str(failure.value)
    golden_module.check_golden_set(tmp_path, {"a.txt", "b.txt"}, update=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitkeep", "a.txt"]
