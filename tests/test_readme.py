"""The README's promises: its first two commands exist and do what they say, and its Mermaid
graph is what `dagshift graph` prints today (regenerate with --update-golden)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from click.testing import CliRunner

from compiler.cli import main

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
