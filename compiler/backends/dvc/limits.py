"""What DVC cannot take although it has the feature: DvcBackend.limits, reported by the builder."""

from __future__ import annotations

from compiler.backends.base import Limit

# A YAML mapping key (a JSON key in params.yaml) is at most 1024 characters, quotes included.
YAML_KEY_LIMIT = 1024

PARAM_DEFAULT = Limit(
    "param-default", "a param without a default", "DVC reads every param from params.yaml",
    "give it a default (change it in params.yaml)")
PARAM_KEY_LENGTH = Limit(
    "param-key-length", f"a param name or key of its default longer than {YAML_KEY_LIMIT} characters (as JSON)",
    "DVC reads params.yaml as YAML, where a key is at most that long", "use shorter keys")
WORKDIR_OUTSIDE = Limit(
    "workdir-outside", "an absolute workdir, or one with '..'", "DVC stages run inside the repository",
    "use a path relative to the directory of dvc.yaml, or leave it out")
DOLLAR_IN_PATH = Limit(
    "interpolation-in-path", "'${' in an artifact path, an output path or the workdir", "DVC reads it as its own "
    "interpolation", "choose a path without '${'")
DOLLAR_IN_ITEMS = Limit(
    "interpolation-in-items", "'${' in a task's foreach list", "DVC reads it as its own interpolation",
    "put the list in a param and fan out over ${{ params.NAME }}")
FANNED_OUT_FILE = Limit(
    "fanned-out-file", "a fanned-out task that produces a file artifact", "every run would write the same path, "
    "which DVC refuses (two stages, one out)", "write one file per item inside a task that does not fan out, or "
    "produce a value output instead")
ITEM_NAMES = Limit(
    "item-names", "fan-out over a list param whose items are not numbers or short names", "DVC names each run "
    "after its item", "list the items in the task's foreach, or use names (letters, digits, - _ .)")
ITEMS_ALIKE = Limit(
    "items-alike", "fan-out over a list param with items that read alike (1 and '1', or one item twice)",
    "DVC names each run after its item, so they would be one run", "make the items distinct")

LIMITS = (PARAM_DEFAULT, PARAM_KEY_LENGTH, WORKDIR_OUTSIDE, DOLLAR_IN_PATH, DOLLAR_IN_ITEMS, FANNED_OUT_FILE,
          ITEM_NAMES, ITEMS_ALIKE)
