"""Passes over the IR, in the order compile runs them, one module each:

- validation (check_*.py, with context.py): only report; each is a small function in the tuple
  below, and every pass runs, so the user sees all problems at once;
- optimization (optimize.py, the driver, docs/optimizer.md): fold_conditions.py, redundant_after.py,
  deduplicate.py, fuse.py, priority.py and selection.py (--select). They share action.py (what a pass
  did), remove.py and rename.py; analysis.py holds what `dagshift plan` reports besides;
- lower.py: the capability lowering before a backend, which leaves out what the target cannot express.
"""

from __future__ import annotations

from compiler.diagnostics import Diagnostics
from compiler.gc_pause import without_gc
from compiler.language.graph import build_graph
from compiler.language.ir import Pipeline
from compiler.language.source import Reporter, SourceFile

from .context import PassContext, ValidationPass

__all__ = ["PassContext", "ValidationPass", "validate"]


def _validation_passes() -> tuple[ValidationPass, ...]:
    from . import check_graph, check_names, check_policies, check_references, check_tasks, check_types, check_values

    return (
        check_names.ids_are_portable,
        check_names.names_are_identifiers,
        check_names.env_names_are_names,
        check_names.secrets_are_portable,
        check_values.text_and_numbers_are_portable,
        check_values.paths_name_files,
        check_tasks.task_kind_is_clear,
        check_tasks.fan_out_settings,
        check_references.after_names_known_tasks,
        check_references.artifacts_have_one_producer,
        check_references.placeholders_resolve,
        check_references.else_branches_pair_up,
        check_references.triggers_are_complete,
        check_graph.no_cycles,
        check_types.param_defaults_match_types,
        check_types.foreach_is_a_list,
        check_types.conditions_are_well_typed,
        check_policies.no_literal_secrets,
        check_policies.retry_settings_are_consistent,
        check_policies.schedule_is_complete,
        check_policies.alerts_are_runnable,
    )


@without_gc
def validate(pipeline: Pipeline, source: SourceFile, diagnostics: Diagnostics | None = None) -> Diagnostics:
    """Run every validation pass; returns the collector (new if none was given)."""
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    ctx = PassContext(pipeline, build_graph(pipeline), Reporter(source, diagnostics))
    for check in _validation_passes():
        check(ctx)
    return diagnostics
