"""Every example pipeline (examples/*.yaml; the invalid corpus in examples/invalid/ is not one of
them) validates cleanly: exit code 0 and not a single error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.api import check_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def test_there_are_examples() -> None:
    assert EXAMPLES, "examples/*.yaml is empty"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_validates(example: Path, cli) -> None:
    relative = f"examples/{example.name}"
    loaded = check_file(example, relative)
    errors = [f"{d.loc}: [{d.code}] {d.message}" for d in loaded.diagnostics.errors]
    assert not errors, "\n".join(errors)
    assert loaded.pipeline is not None

    result = cli("validate", "--format", "json", relative)
    assert result.exception is None, repr(result.exception)
    assert [d for d in json.loads(result.stdout) if d["severity"] == "error"] == []
    assert result.exit_code == 0, result.stdout

    text = cli("validate", relative)
    assert text.exit_code == 0
    assert f"ok: {relative}: pipeline '{loaded.pipeline.name}'" in text.stdout
