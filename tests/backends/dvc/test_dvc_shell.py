"""Which commands a DVC cmd holds as written and how the others are quoted for `bash -c`
(compiler/backends/dvc/shell.py). The real DVC runs both in tests/engines/dvc/test_dvc_injection.py
and test_conformance.py."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backends.dvc.shell import Interpolation, TextInterpolation, command, is_plain, quoted, word

NUMBER = Interpolation("${n}")
ITEM_WITH_SPACE = TextInterpolation("${item}")


@pytest.mark.parametrize("parts", [
    ["python3 -m tinyml.ingest --rows ", NUMBER, " --out data/raw.csv"],
    ["a --lr=0.1 && b | c > out.txt; d < in.txt >> log.txt || e"],
    ["> out.txt cat"],
    ["true"],
    [""],
])
def test_plain_commands(parts: list[str]) -> None:
    assert is_plain(parts) and command(parts) == "".join(parts)


@pytest.mark.parametrize("parts", [
    ["echo hi"],  # echo reads -e and backslashes differently in dash, bash and fish
    ["if true; then a; fi"], ["a; end"], ["set x 1"], ["X=1 a"], ["a && X=1"],
    ["printf '%s' a"], ['a "b"'], ["a $HOME"], ["a ${x}"], ["a *.txt"], ["a {b,c}"], ["a ~/x"], ["a # c"],
    ["a \\ b"], ["a & b"], ["a 2>&1"], ["(a)"], ["a `b`"], ["a é"], ["a !b"], ["[[ -f x ]]"],
    ["echo ", ITEM_WITH_SPACE], ["a\u00a0b"],
])
def test_other_commands_run_by_bash(parts: list[str]) -> None:
    assert not is_plain(parts) and command(parts).startswith("bash -c '")


_texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00\n\r"), max_size=20)


@settings(max_examples=300, deadline=None)
@given(text=_texts)
def test_quoting_gives_the_text_back_and_hides_dollar_brace_from_dvc(text: str) -> None:
    written = quoted([text])
    assert shlex.split(written) == [text]
    assert "${" not in written and "\\${" not in written
    # fish reads `\\` and `\'` inside single quotes: neither may appear there
    assert not any("\\" in run for run in _single_quoted_runs(written))


def _single_quoted_runs(word: str) -> list[str]:
    """The texts between single quotes, as a POSIX shell reads the word (`\'` outside quotes is
    an escaped quote, not a quote)."""
    runs, inside, index = [], None, 0
    while index < len(word):
        char = word[index]
        if inside is not None:
            if char == "'":
                runs.append(inside)
                inside = None
            else:
                inside += char
        elif char == "\\":
            index += 1  # the escaped character is outside any quotes
        elif char == "'":
            inside = ""
        index += 1
    return runs


@pytest.mark.parametrize("shell", ["sh", "dash", "bash", "zsh", "fish"])
def test_every_shell_hands_bash_the_same_text(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    text = "it's \\ \\\\ $HOME ${x} $${{ y }} \"q\" # {a,b} `id` é"
    argv = [shell, "-c", f"printf %s {quoted([text])}"]
    assert subprocess.run(argv, capture_output=True, text=True, check=True).stdout == text


def test_generated_paths_are_words_every_shell_reads_alike() -> None:
    assert word(".dagshift/done") == ".dagshift/done"
    assert shlex.split(word("my dir/it's")) == ["my dir/it's"]
