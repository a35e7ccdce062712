"""Argo's resource, http and containerSet templates from the official examples, imported as
kubectl / curl / container tasks (compiler/importers/argo/emulated.py), compile back to Argo YAML
that validates strictly, and read back with the same commands: the fixed scripts and every
argument pass through Argo's own escaping unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import external_corpus
import pytest
import schema as argo_schema

from compiler.api import check_text
from compiler.compile import compile_loaded
from compiler.importers import import_file, pipeline_yaml
from compiler.importers.base import Grade

EMULATED = ("runs as a task: kubectl", "runs as a task: curl", "containerSet '")


def emulated_imports():
    corpus = external_corpus.path("argo", "examples")
    return [result for path in sorted(corpus.rglob("*.yaml")) for result in import_file(path, "argo")
            if result.grade is Grade.REVIEW and any(any(mark in d.message for mark in EMULATED)
                                                    for d in result.diagnostics)]


def commands(pipeline) -> dict[str, list[str]]:
    """Each task's command, by id; dagshift's Argo names write an id's '_' as '-' (Argo's spelling),
    so a '-' in an id reads back as '_'."""
    def same_ids(text: str) -> str:
        return re.sub(r"\$\{\{ tasks\.([^.]+)\.", lambda m: "${{ tasks." + m.group(1).replace("-", "_") + ".", text)
    return {task_id.replace("-", "_"): [same_ids(part) for part in task.command or []]
            for task_id, task in pipeline.tasks.items()}


@pytest.mark.corpus
def test_emulated_templates_compile_to_strict_argo_and_read_back_the_same(tmp_path: Path) -> None:
    imports = emulated_imports()
    assert len(imports) >= 14  # 10 resource files, 2 http, 3 containerSets (one file has both kinds)
    compiled_count = 0
    for result in imports:
        loaded = check_text(pipeline_yaml(result), f"{result.file} (imported)")
        compiled = compile_loaded(loaded, ["argo"], per_target_dirs=False)
        errors = [d for d in compiled.diagnostics if d.severity.value == "error"]
        if errors:  # only an Argo variable the importer kept as text, which Argo cannot hold literally
            assert all(d.code == "E302" and "'{{'" in d.message for d in errors), (result.file, errors)
            continue
        compiled_count += 1
        for relative, text in compiled.files.items():
            path = tmp_path / str(compiled_count) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            for document in argo_schema.load_documents(path):
                for version in argo_schema.VERSIONS:
                    assert argo_schema.errors(document, version) == [], (result.file, relative, version)
        workflow = next(p for p in (tmp_path / str(compiled_count)).iterdir() if p.name.endswith("workflow.yaml"))
        (back,) = import_file(workflow, "argo")
        again = check_text(pipeline_yaml(back), "read back")
        assert commands(again.pipeline) == commands(loaded.pipeline), result.file
    assert compiled_count >= 12
