"""The README's promises: its first two commands exist and do what they say (the main job runs
clean), and its Mermaid graph is what `dagshift graph` prints today (regenerate with --update-golden)."""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
from pathlib import Path

from click.testing import CliRunner

from compiler.backends import registry
from compiler.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TARGETS_BLOCK = re.compile(r"(<!-- targets .*?-->\n)(?P<body>.*?)(<!-- /targets -->)", re.S)
GRAPH_BLOCK = re.compile(r"(<!-- graph:(?P<example>[\w-]+) .*?-->\n```mermaid\n)(?P<body>.*?)(```\n<!-- /graph -->)", re.S)


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text()
    first_block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert first_block and text.index(first_block.group(0)) < text.index("\n## ")
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands == ["./scripts/demo.sh", "./scripts/test.sh"]
    for command in commands:
        script = ROOT / command
        assert script.is_file() and os.access(script, os.X_OK)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/test.sh" in ci


def test_readme_graph_and_capabilities_match_the_cli(update_golden: bool) -> None:
    text = README.read_text()
    blocks = list(GRAPH_BLOCK.finditer(text))
    assert blocks, "the README lost its graph block"
    updated = text
    for block in blocks:
        example = ROOT / "examples" / f"{block.group('example')}.yaml"
        result = CliRunner().invoke(main, ["graph", str(example)])
        assert result.exit_code == 0, result.output
        updated = updated.replace(block.group(0), block.group(1) + result.output + block.group(4))
    table = TARGETS_BLOCK.search(updated)
    assert table, "the README lost its capability table"
    matrix = CliRunner().invoke(main, ["targets", "--format", "markdown"])
    assert matrix.exit_code == 0
    updated = updated.replace(table.group(0), table.group(1) + "\n" + matrix.output + table.group(3))
    if update_golden:
        README.write_text(updated)
        return
    assert updated == text, "README graph or capability table is stale: run ./scripts/test.sh --update-golden"


DEMO = ROOT / "scripts" / "demo.sh"
DAGSHIFT_IN_DEMO = '"$venv/bin/dagshift" '


def demo_commands() -> list[list[str]]:
    """The dagshift commands scripts/demo.sh runs, as argument lists (globs not yet expanded)."""
    lines = [line.strip() for line in DEMO.read_text().splitlines()]
    return [shlex.split(line[len(DAGSHIFT_IN_DEMO):]) for line in lines if line.startswith(DAGSHIFT_IN_DEMO)]


def test_the_main_job_runs_clean_on_a_copy_of_the_examples(cli, tmp_path: Path) -> None:
    """The README's first command, on a fresh clone: every dagshift command of scripts/demo.sh exits
    0, and the compile leaves output for all five targets."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    commands = demo_commands()
    assert [args[0] for args in commands] == ["validate", "compile", "graph"], "demo.sh changed: update this test"
    for args in commands:
        expanded = [match for arg in args
                    for match in (sorted(glob.glob(arg, root_dir=tmp_path)) if "*" in arg else [arg])]
        result = cli(*expanded, cwd=tmp_path)
        assert result.exit_code == 0, f"dagshift {' '.join(args)}:\n{result.traceback_text}"
        assert "Traceback" not in result.traceback_text
    (compile_args,) = [args for args in commands if args[0] == "compile"]
    out = tmp_path / compile_args[compile_args.index("-o") + 1]
    for target in registry.names():
        assert any(path.is_file() for path in (out / target).rglob("*")), f"the demo wrote nothing for {target}"


ARCHITECTURE_TREE = re.compile(r"## Architecture\n.*?```text\ncompiler/\n(?P<body>.*?)```", re.S)


def test_readme_architecture_tree_names_every_stage_package() -> None:
    """The tree in the README's architecture section lists each package of compiler/, and only those."""
    tree = ARCHITECTURE_TREE.search(README.read_text())
    assert tree, "the README lost its architecture tree"
    listed = set(re.findall(r"^  (\w+)/", tree.group("body"), re.M))
    packages = {path.parent.name for path in (ROOT / "compiler").glob("*/__init__.py")}
    assert listed == packages
