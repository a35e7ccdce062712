"""Where the external test corpora are: Argo's example workflows, real `dvc.yaml` files and DVC's
schema, kept outside the repository in `../shared/corpus` (next to the checkout; see its
argo/README.md and dvc/README.md). The one place that knows it: tests read the corpus through
`path()`, and a test that needs it is marked `@pytest.mark.corpus` (conftest.py decides, before
any fixture is set up, whether it runs, is skipped or fails).

- `DAGSHIFT_CORPUS=DIR`: the directory holding `argo/` and `dvc/`;
- `DAGSHIFT_SHARED=DIR` (older): the directory holding `corpus/`;
- else `../shared/corpus` next to the checkout.

Without a corpus, the corpus tests are skipped on a user's machine; on CI (which always has it),
or when an environment variable names a directory that is not there, they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ENV = "DAGSHIFT_CORPUS"
LEGACY_ENV = "DAGSHIFT_SHARED"
ROOT = Path(__file__).resolve().parents[1]
NEXT_TO_CHECKOUT = ROOT.parent / "shared" / "corpus"

# The skip reason of every corpus test: one string, so conftest.py can tell these skips apart.
SKIP_REASON = f"needs the external corpus (../shared/corpus next to the checkout, or {ENV}=DIR)"
HOW_TO_SUPPLY = f"set {ENV}=DIR (the directory holding argo/ and dvc/) or clone next to ../shared"
HOW_TO_RUN = f"{HOW_TO_SUPPLY} to run them"


@dataclass(frozen=True)
class Location:
    directory: Path
    origin: str  # how it was chosen, for messages
    explicit: bool  # named by an environment variable: its absence is a mistake, not a reason to skip

    def present(self) -> bool:
        return self.directory.is_dir()


def locate(environ: Mapping[str, str] | None = None) -> Location:
    """Where the corpus is, or would be: DAGSHIFT_CORPUS, DAGSHIFT_SHARED/corpus, ../shared/corpus."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV):
        return Location(Path(environ[ENV]), f"{ENV}={environ[ENV]}", explicit=True)
    if environ.get(LEGACY_ENV):
        return Location(Path(environ[LEGACY_ENV]) / "corpus", f"{LEGACY_ENV}={environ[LEGACY_ENV]}", explicit=True)
    return Location(NEXT_TO_CHECKOUT, "../shared/corpus next to the checkout", explicit=False)


def path(*parts: str) -> Path:
    """A file or folder of the corpus (`path("argo", "examples")`). A corpus test only runs when the
    corpus is there, so a missing part is a broken corpus: the test fails, saying what is missing."""
    location = locate()
    found = location.directory.joinpath(*parts)
    if not found.exists():
        pytest.fail(
            f"the external corpus has no {'/'.join(parts)}: expected {found} ({location.origin})", pytrace=False
        )
    return found
