"""Backend limits (issue 22): every E302 / W302 a backend reports comes from a `Limit` it declares,
every declared limit is reported somewhere, and `dagshift targets --details` and `compare` show
the declarations."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

from compiler.backends import registry
from compiler.backends.base import Limit
from compiler.compile import compile_loaded
from compiler.tools.capability_table import limit_text
from tests.helpers import load

BACKENDS = Path(__file__).resolve().parent.parent / "compiler" / "backends"
BUILT_IN = ["airflow", "prefect", "argo", "dvc", "kubeflow"]
CODES = {"E302", "W302"}


def _declared(name: str) -> dict[str, Limit]:
    """The Limit constants of a backend's limits.py, by variable name."""
    module = importlib.import_module(f"compiler.backends.{name}.limits")
    return {variable: value for variable, value in vars(module).items() if isinstance(value, Limit)}


def _trees(directory: Path) -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(directory.rglob("*.py"))}


def test_no_backend_writes_e302_or_w302_itself() -> None:
    """Only Limit.diagnose (base.py) spells the codes: a check without a declared limit cannot report them."""
    found = [f"{path.relative_to(BACKENDS)}:{node.lineno}" for path, tree in _trees(BACKENDS).items()
             if path.name != "base.py" for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and node.value in CODES]
    assert not found, f"E302/W302 written outside a declared Limit: {found}"


@pytest.mark.parametrize("name", BUILT_IN)
def test_the_backend_declares_every_limit_of_its_package(name: str) -> None:
    backend = registry.get(name)
    assert list(backend.limits) == list(dict.fromkeys(backend.limits)), "a limit listed twice"
    assert set(backend.limits) == set(_declared(name).values()), "limits.py and the backend's `limits` differ"
    names = [limit.name for limit in backend.limits]
    assert len(names) == len(set(names)), f"two limits of {name} share a name: {names}"
    for limit in backend.limits:
        assert limit.name == limit.name.lower() and " " not in limit.name, limit
        assert limit.refuses and limit.why, limit


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_declared_limit_is_reported_by_the_builder(name: str) -> None:
    """A limit the code never reports would be a promise the compiler does not keep."""
    used = {node.id for path, tree in _trees(BACKENDS / name).items() if path.name != "limits.py"
            for node in ast.walk(tree) if isinstance(node, ast.Name)}
    unused = sorted(variable for variable in _declared(name) if variable not in used)
    assert not unused, f"declared but never reported by the {name} backend: {unused}"


def _compile(text: str, target: str, strict: bool = False):
    return compile_loaded(load(text), [target], strict=[target] if strict else ())


def test_a_refused_value_reports_the_declared_limit() -> None:
    from compiler.backends.airflow.limits import TAG_LENGTH, TAG_LIMIT

    result = _compile(f"""
        name: tagged
        tags: [{"t" * (TAG_LIMIT + 1)}]
        tasks: {{a: {{command: echo}}}}
        """, "airflow")
    (error,) = [d for d in result.diagnostics.items if d.code == TAG_LENGTH.code]
    assert TAG_LENGTH.code == "E302" and error.help == TAG_LENGTH.help
    assert not result.files


def test_a_setting_left_out_reports_the_declared_limit_and_is_an_error_with_strict() -> None:
    from compiler.backends.argo.limits import START_DATE

    text = """
        name: dated
        schedule: {cron: "0 3 * * *", start_date: "2026-01-01"}
        tasks: {a: {command: echo}}
        """
    (warning,) = [d for d in _compile(text, "argo").diagnostics.items if d.code == START_DATE.code]
    assert START_DATE.code == "W302" and warning.help == START_DATE.help
    assert "E302" in [d.code for d in _compile(text, "argo", strict=True).diagnostics.items]


def test_a_call_site_may_sharpen_the_help() -> None:
    from compiler.backends.argo.limits import FRACTIONAL_BACKOFF

    (warning,) = [d for d in _compile("""
        name: backoff
        tasks: {a: {command: echo, retries: 2, retry_delay: 10s, retry_backoff: 1.5}}
        """, "argo").diagnostics.items if d.code == FRACTIONAL_BACKOFF.code]
    assert warning.help == "use a whole number, such as 2" and warning.help.startswith(FRACTIONAL_BACKOFF.help)


# ----------------------------------------------------------------------------- what users see


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_targets_details_lists_every_limit(cli, fmt: str) -> None:
    out = cli("targets", "--format", fmt, "--details").stdout
    for name in registry.names():
        for limit in registry.get(name).limits:
            if fmt == "text":
                assert limit_text(limit) in out and (not limit.help or f"workaround: {limit.help}" in out)
            else:
                cells = [limit.code, limit.name, limit.refuses, limit.why, limit.help]
                assert " | ".join(cell.replace("|", "\\|") for cell in cells) in out
    assert "E302" not in cli("targets", "--format", fmt).stdout  # the plain matrix stays as it was


def _limit_lines(section: str, prefix: str) -> dict[str, set[str]]:
    """The limit names listed per target in compare's text or markdown limits section."""
    found = {}
    for line in section.replace("\n    ", " ").splitlines():  # text wraps a target's list
        target, _, names = line.removeprefix(prefix).partition(": ")
        if line.startswith(prefix) and target in registry.names():
            found[target] = set(re.findall(r"[\w-]+", names)) - CODES
    return found


def test_compare_shows_each_targets_limits(cli) -> None:
    example = "examples/minimal.yaml"
    data = json.loads(cli("compare", example, "--format", "json").stdout)
    for target in data["targets"]:
        declared = registry.get(target["name"]).limits
        assert target["limits"] == [{"name": limit.name, "code": limit.code, "refuses": limit.refuses,
                                     "why": limit.why, "help": limit.help} for limit in declared]
    expected = {name: {limit.name for limit in registry.get(name).limits} for name in registry.names()}
    text = cli("compare", example).stdout
    assert _limit_lines(text[text.index("\nlimits: "):], "  ") == expected
    markdown = cli("compare", example, "--format", "markdown").stdout
    assert _limit_lines(markdown[markdown.index("\n## Limits\n"):], "- ") == expected
    html = cli("compare", example, "--format", "html").stdout
    for name in registry.names():
        section = html[html.index(f'id="target-{name}"'):]
        rows = section[section.index('<table class="limits">'):section.index("</table>")]
        assert re.findall(r"<tr><td><code>(E302|W302)</code></td><td><code>([\w-]+)</code>", rows) == [
            (limit.code, limit.name) for limit in registry.get(name).limits]
