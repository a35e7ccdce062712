"""What a pipeline loses when every task is its own pod (Argo, Kubeflow), and the warnings that say so.

On Airflow, Prefect and DVC every task runs in one working directory, so a file one task writes is
there for the next. On Kubernetes each task is a fresh container: only declared artifacts travel
between pods, and only what the image holds is there to run. Commands are opaque, so the checks
read them the way a reviewer would:

* **files** (W303): a relative path written in a command or a python argument, such as
  `data/shards` or `models/${{ item }}.json`, that no declared artifact or output covers. What the
  task writes there stays in its pod; what it reads there must already be in the image.
* **code** (W304): a task that runs the pipeline's own code (`python: tinyml.split:main`,
  `python3 -m tinyml.ingest`, `python3 train.py`, `./run.sh`) in the default image, which holds
  only Python's standard library. One warning per code root, naming the tasks.

`--option volume=CLAIM` mounts one PersistentVolumeClaim at the working directory of every task:
files pass as they do on the other targets and the code can live there, so neither warning is given.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from compiler.language import placeholders
from compiler.language.ir import Pipeline, Task
from compiler.language.source import Reporter

# Endings of data files that a token names even without a `/` in it (`--out model.pkl`).
DATA_SUFFIXES = frozenset(
    "arrow avro csv db feather gz h5 hdf5 html joblib json jsonl log npy npz onnx orc parquet pickle pkl "
    "png pt pth sqlite tar tsv txt xml yaml yml zip".split()
)
CODE_SUFFIXES = (".py", ".sh")
# Modules a python image has besides the standard library.
IMAGE_MODULES = frozenset({"pip", "ensurepip", "venv"})
_PATH_TEXT = re.compile(r"[\w.\-/*?@+,\[\]{}\x00]+")
_SENTINEL = "\x00{}\x00"
# What makes shlex read a command other than as blank-separated words.
_QUOTING = re.compile(r"['\"\\\\]")
_SHLEX_BLANKS = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True)
class Mention:
    """A path-like word in a task's text: where it was written and how to show it."""

    field: tuple  # YAML path of the field inside the task
    text: str  # as the user wrote it, placeholders included


def warn_pod_boundaries(pipeline: Pipeline, report: Reporter, target: str, *, volume: str | None,
                        default_image: str | None) -> None:
    """W303 for files that do not pass between pods, W304 for code missing from the default image.

    `default_image` is None when the user chose the image (--option image): it holds their code.
    """
    if volume is not None:
        return
    _warn_files(pipeline, report, target)
    if default_image is not None:
        _warn_code(pipeline, report, target, default_image)


def _warn_files(pipeline: Pipeline, report: Reporter, target: str) -> None:
    declared = _declared_paths(pipeline)
    users: dict[str, list[tuple[str, Mention]]] = {}
    for task_id, task in pipeline.tasks.items():
        for mention in _path_mentions(task):
            if not _covered(mention.text, declared):
                users.setdefault(mention.text, []).append((task_id, mention))
    for text, mentions in users.items():
        task_ids = list(dict.fromkeys(task_id for task_id, _ in mentions))
        first_task, first = mentions[0]
        report.warning_at_text(
            "W303",
            f"{_tasks(task_ids)} {'uses' if len(task_ids) == 1 else 'use'} '{text}', which is not a declared "
            f"artifact: every {target} task is its own pod, so files there do not pass from one task to another",
            ("tasks", first_task, *first.field), text,
            help="declare the file under `artifacts:` and write ${{ artifacts.NAME }}, or share the working "
                 "directory between pods with --option volume=CLAIM (an existing PersistentVolumeClaim)")


def _warn_code(pipeline: Pipeline, report: Reporter, target: str, image: str) -> None:
    users: dict[str, list[tuple[str, tuple]]] = {}
    for task_id, task in pipeline.tasks.items():
        if task.image is not None:
            continue
        for root, field in _user_code(task):
            users.setdefault(root, []).append((task_id, field))
    for root, uses in users.items():
        task_ids = list(dict.fromkeys(task_id for task_id, _ in uses))
        first_task, field = uses[0]
        report.warning(
            "W304",
            f"{_tasks(task_ids)} {'runs' if len(task_ids) == 1 else 'run'} the pipeline's own code '{root}', "
            f"which the default image {image} does not contain: on {target} such a task fails",
            ("tasks", first_task, *field),
            help="build an image that contains your code and compile with --option image=IMAGE, or put the code "
                 "on a PersistentVolumeClaim mounted at the working directory with --option volume=CLAIM")


def _tasks(task_ids: list[str], shown: int = 4) -> str:
    """"task 'a'", "tasks 'a' and 'b'", "6 tasks ('a', 'b', 'c', 'd' and 2 more)"."""
    if len(task_ids) == 1:
        return f"task '{task_ids[0]}'"
    names = [f"'{t}'" for t in task_ids[:shown]]
    rest = f" and {len(task_ids) - shown} more" if len(task_ids) > shown else ""
    if not rest and len(names) == 2:
        return f"tasks {names[0]} and {names[1]}"
    listed = ", ".join(names) + rest if rest else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{len(task_ids)} tasks ({listed})"


# ---------------------------------------------------------------------------------------- files


def _declared_paths(pipeline: Pipeline) -> list[str]:
    paths = [_normal(artifact.path) for artifact in pipeline.artifacts.values()]
    for task in pipeline.tasks.values():
        paths += [_normal(output.path) for output in task.outputs.values() if output.path]
    return paths


def _covered(text: str, declared: list[str]) -> bool:
    """A declared path, a file inside a declared directory, or a directory holding declared files."""
    path = _normal(text)
    return any(path == d or path.startswith(d + "/") or d.startswith(path + "/") for d in declared)


def _normal(path: str) -> str:
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/")


def _path_mentions(task: Task) -> Iterator[Mention]:
    if isinstance(task.command, str):
        for word in _shell_words(task.command):
            if _is_data_path(word):
                yield Mention(("command",), word)
    elif isinstance(task.command, list):
        for index, argument in enumerate(task.command):
            for word in _option_values([argument]):
                if _is_data_path(word):
                    yield Mention(("command", index), word)
    if task.args is not None:
        for field, text in placeholders.strings_in(task.args, ("args",)):
            if _is_data_path(text):
                yield Mention(field, text)


@lru_cache(maxsize=1 << 16)  # Argo and Kubeflow both read every command, twice
def _shell_words(command: str) -> tuple[str, ...]:
    """The words of a shell command, placeholders kept whole as written (`models/${{ item }}.json`)."""
    written = list(dict.fromkeys(text for text, _ in placeholders.occurrences(command))) if "${{" in command else []
    hidden = command
    for index, text in enumerate(written):
        hidden = hidden.replace(text, _SENTINEL.format(index))
    if _QUOTING.search(hidden) is None:  # nothing quoted or escaped: shlex's words are the blank-separated ones
        words = _SHLEX_BLANKS.split(hidden.strip(" \t\r\n"))
        words = words if words != [""] else []
    else:
        try:
            words = shlex.split(hidden)
        except ValueError:  # unbalanced quotes: the shell would refuse it, no need to be exact
            words = hidden.split()
    if written:
        words = [re.sub("\x00(\\d+)\x00", lambda m: written[int(m.group(1))], word) for word in words]
    return tuple(_option_values(words))


def _option_values(words: list[str]) -> Iterator[str]:
    """`--out=data/x.csv` and `OUT=data/x.csv` name the path after the `=`."""
    for word in words:
        if "=" in word and "/" not in word.split("=", 1)[0] and "${{" not in word.split("=", 1)[0]:
            word = word.split("=", 1)[1]
        yield word


def _is_data_path(text: str) -> bool:
    if not text or text.startswith(("-", "/", "~", "$")) or "://" in text or text.endswith(CODE_SUFFIXES):
        return False
    if "${{" in text:
        literal = "".join(s for s in placeholders.parse(text)[0] if isinstance(s, str))
        if any(ref.kind in ("artifact", "output") for ref in placeholders.refs(text)):
            return False  # inside a declared artifact or a managed output file
        if not literal.strip("/."):
            return False  # a whole value from elsewhere: a param or item, not a path written here
        checked = text
        for written, _ in placeholders.occurrences(text):
            checked = checked.replace(written, "x")
    else:
        checked = text
    if not _PATH_TEXT.fullmatch(checked):
        return False
    inner = checked.strip("/")
    if "/" in inner:
        return True
    suffix = checked.rsplit(".", 1)[-1].lower() if "." in checked else ""
    return suffix in DATA_SUFFIXES


# ---------------------------------------------------------------------------------------- code


def _user_code(task: Task) -> Iterator[tuple[str, tuple]]:
    """(code root, field) for each use of the pipeline's own code: a module or a script file."""
    if task.python is not None:
        root = task.python.split(":", 1)[0].split(".", 1)[0]
        if _is_user_module(root):
            yield root, ("python",)
    if isinstance(task.command, str):
        words, field = _shell_words(task.command), ("command",)
    elif isinstance(task.command, list):
        words, field = [str(w) for w in task.command], ("command",)
    else:
        return
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word == "-m" and index > 0 and _is_python(words[:index]) and following:
            root = following.split(".", 1)[0]
            if _is_user_module(root):
                yield root, field
        elif word.endswith(CODE_SUFFIXES) and not word.startswith(("/", "-", "$")) and "${{" not in word:
            yield word, field
        elif word.startswith("./") and index == 0:
            yield word, field


def _is_python(words_before: list[str]) -> bool:
    return any(re.fullmatch(r"python(3(\.\d+)?)?", word.rsplit("/", 1)[-1]) for word in words_before[-3:])


def _is_user_module(root: str) -> bool:
    return bool(root) and root not in sys.stdlib_module_names and root not in IMAGE_MODULES
