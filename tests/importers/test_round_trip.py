"""Round trip: every example, compiled by dagshift to a backend, imported back by that backend's
importer, is the same pipeline (normalized: compiler/importers/normalize.py), as far as the format
carries it (`Importer.carried`: by default without the fields in `not_carried`, each with its
reason; a format may instead rewrite a field into the shape it keeps).

The pipeline expected back is the one the backend was given: defaults folded in, optimized at
the level compiled (-O1, and -O2 where the target's cost model fuses or merges tasks), with the
operational settings the target cannot express left out. Kubeflow is checked in tests/engines/ (its PipelineSpec
YAML is compiled by kfp, which lives in the engine venv).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.api import check_file
from compiler.backends import registry
from compiler.compile import fold_defaults
from compiler.diagnostics import Diagnostics
from compiler.importers import Grade, get, import_file
from compiler.language.source import Reporter
from compiler.passes.lower import check_capabilities
from compiler.passes.optimize import optimize

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
# The file of a backend's output that the importer reads (it finds its companions itself).
ENTRY = {
    "airflow": lambda out, name: out / f"{name}.py",
    "prefect": lambda out, name: out / f"{name}.py",
    "argo": lambda out, name: next(p for p in (out / "workflow.yaml", out / "cronworkflow.yaml",
                                                 out / "workflowtemplate.yaml") if p.exists()),
    "dvc": lambda out, name: out / "dvc.yaml",
}


def expected_pipeline(example: str, backend_name: str, level: int):
    """What the backend was given for the example: as compile_loaded lowers it."""
    loaded = check_file(ROOT / "examples" / f"{example}.yaml", f"examples/{example}.yaml")
    backend = registry.get(backend_name)
    pipeline = optimize(fold_defaults(loaded.pipeline), level, (), backend.cost).pipeline
    diagnostics = Diagnostics()
    lowered = check_capabilities(pipeline, backend, Reporter(loaded.source, diagnostics), written=loaded.pipeline)
    return None if diagnostics.has_errors else lowered


@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("backend", sorted(ENTRY))
@pytest.mark.parametrize("example", EXAMPLES)
def test_compiled_output_imports_back_as_the_same_pipeline(cli, tmp_path: Path, example: str, backend: str,
                                                           level: int) -> None:
    expected = expected_pipeline(example, backend, level)
    out = tmp_path / "out"
    result = cli("compile", f"examples/{example}.yaml", "-t", backend, "-o", str(out), "-q", f"-O{level}")
    if result.exit_code != 0:  # the backend cannot express it (golden diagnostics.txt pins why)
        assert result.exit_code == 1 and "error[E30" in result.stdout, result.stdout
        return
    assert expected is not None
    importer = get(backend)
    (imported,) = import_file(ENTRY[backend](out, expected.name), backend)
    assert imported.grade is Grade.AUTOMATIC, [str(d) for d in imported.diagnostics]  # its own output: no loss
    back = check_file_text(imported)
    assert importer.carried(back) == importer.carried(expected)


def check_file_text(imported):
    from compiler.api import check_text
    from compiler.importers import pipeline_yaml

    loaded = check_text(pipeline_yaml(imported), imported.file)
    assert not loaded.diagnostics.has_errors, [str(d) for d in loaded.diagnostics]
    return loaded.pipeline
