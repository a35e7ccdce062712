"""tinyml: a tiny, standard-library-only ML toolkit for the dagshift examples.

Every module works two ways:

* as a command: ``python3 -m tinyml.train --train data/train.csv --model-out models/model.json``
* as a Python callable for ``python:`` tasks: ``tinyml.train:main`` called with keyword
  arguments (strings, numbers, lists or dicts; strings such as ``"400"`` or ``"[1, 2]"`` are
  accepted too, because some orchestrators pass every value as text).

Everything is deterministic: random numbers come from ``random.Random(seed)``, JSON is written
with sorted keys and rounded floats, and no output contains a timestamp, so two runs from the
same inputs produce byte-identical files. All paths are relative to the current directory.
"""

__all__ = [
    "clean",
    "deploy",
    "evaluate",
    "flaky",
    "ingest",
    "notify",
    "predict",
    "report",
    "select",
    "shard",
    "split",
    "stats",
    "train",
    "transform",
    "validate",
]
