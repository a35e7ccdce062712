"""Every generated dvc.yaml validates against the official dvc.yaml JSON schema (the external
corpus's schema.json), which rejects misspelled keys as DVC does. The validator is checked on the
corpus itself: the real-world files it accepts and rejects, and the deliberately invalid examples.
Running the files on the real DVC is tests/engines/test_dvc_engine.py.

Every test here needs the corpus (the schema is in it): marked `corpus`, skipped without it
except on CI (tests/external_corpus.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dvc_schema
import pytest

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "golden"
GOLDEN_DVC = sorted(GOLDEN.glob("*/dvc/dvc.yaml"))

pytestmark = pytest.mark.corpus

# Real-world corpus files the schema rejects, and why (each reason checked by the test below).
CORPUS_INVALID = {
    "FUSA-ROADS__fusa-net-experiments__experiments_template_dvc.yaml":
        "stages.train: Additional properties are not allowed ('live' was unexpected) (Stage)",
    "iterative__example-repos-dev__dvc-checkpoints-mnist_branches_full_pipeline_dvc.yaml":
        "stages.train: Additional properties are not allowed ('live' was unexpected) (Stage)",
    "iterative__pipeline-conifguration__multi-params-files_dvc.yaml": "has non-unique elements",
    "simonlevine__x-transformer-icd__src_dvc.yaml": "has non-unique elements",
}
# Corpus files that are not YAML to DVC's reader (ruamel, YAML 1.2).
CORPUS_UNREADABLE = {
    "SoyGema__Neural-Machine-Translation__src_dvc.yaml",  # a TAB after a plain scalar
}


# ----------------------------------------------------------------------------- the goldens


def test_golden_dvc_files_exist() -> None:
    # Without this an empty parametrization below would pass without checking anything.
    assert GOLDEN_DVC, "no golden/*/dvc/dvc.yaml files: the DVC backend's golden output is missing"


@pytest.mark.parametrize("path", GOLDEN_DVC, ids=[p.relative_to(GOLDEN).as_posix() for p in GOLDEN_DVC])
def test_golden_validates(path: Path) -> None:
    problems = dvc_schema.errors(dvc_schema.load(path))
    assert not problems, f"{path.relative_to(ROOT)} does not validate:\n" + "\n".join(problems)
    params = dvc_schema.load(path.with_name("params.yaml"))
    assert isinstance(params, dict), "params.yaml must be a mapping (DVC reads params by name)"


# ----------------------------------------------------------------------------- the schema


def test_schema_already_rejects_unknown_keys() -> None:
    # Every object that lists its properties closes itself: nothing to add, unlike Argo's schema.
    assert dvc_schema.open_objects() == []
    assert dvc_schema.schema()["additionalProperties"] is False


def _pipeline() -> dict[str, Any]:
    return {
        "stages": {
            "prepare": {
                "desc": "make the data",
                "cmd": ["mkdir -p data", "python3 -m tinyml.ingest --rows ${rows} --out data/raw.csv"],
                "params": ["rows", {"conf.json": ["a.b"]}],
                "outs": ["data/raw.csv", {".dagshift/done/prepare": {"cache": False}}],
            },
            "train": {
                "foreach": "${models}",
                "do": {
                    "cmd": "python3 train.py ${item}",
                    "deps": ["data/raw.csv", ".dagshift/done/prepare"],
                    "metrics": [{"metrics/${item}.json": {"cache": False}}],
                },
            },
            "tune": {
                "foreach": {"0": {"name": "slow", "lr": 0.01}},
                "do": {"cmd": "python3 tune.py ${item.name} ${item.lr}", "outs": ["models/${key}.json"]},
            },
        },
    }


def _rename(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


TYPOS = {
    "dep": (lambda p: _rename(p["stages"]["train"]["do"], "deps", "dep"),
            "stages.train.do: Additional properties are not allowed ('dep' was unexpected) (ForeachDo)"),
    "out": (lambda p: _rename(p["stages"]["prepare"], "outs", "out"),
            "stages.prepare: Additional properties are not allowed ('out' was unexpected) (Stage)"),
    "cach": (lambda p: _rename(p["stages"]["prepare"]["outs"][1][".dagshift/done/prepare"], "cache", "cach"),
             ("stages.prepare.outs[1]: {'.dagshift/done/prepare': {'cach': False}} is not valid under any of "
              "the given schemas (Stage)")),
    "stage": (lambda p: _rename(p, "stages", "stage"),
              "<document>: Additional properties are not allowed ('stage' was unexpected)"),
}


def test_sample_pipeline_is_valid() -> None:
    assert dvc_schema.errors(_pipeline()) == []


@pytest.mark.parametrize("typo", sorted(TYPOS))
def test_misspelled_key_is_an_error(typo: str) -> None:
    pipeline = _pipeline()
    rename, expected = TYPOS[typo]
    rename(pipeline)
    assert dvc_schema.errors(pipeline) == [expected]


def test_value_types_are_checked() -> None:
    pipeline = _pipeline()
    pipeline["stages"]["prepare"]["cmd"] = ["true", 1]
    pipeline["stages"]["tune"]["do"]["frozen"] = "yes"
    pipeline["stages"]["train"]["foreach"] = "models"  # a string foreach must be one ${...}
    assert dvc_schema.errors(pipeline) == [
        "stages.prepare.cmd: ['true', 1] is not valid under any of the given schemas (Stage)",
        "stages.train.foreach: 'models' is not valid under any of the given schemas (ForeachDo)",
        "stages.tune.do.frozen: 'yes' is not of type 'boolean' (ForeachDo)",
    ]


# ----------------------------------------------------------------------------- the corpus


def test_corpus_files_validate_except_the_known_problems() -> None:
    valid, rejected, unreadable = [], {}, []
    for path in dvc_schema.corpus_files("files"):
        try:
            document = dvc_schema.load(path)
        except Exception:  # noqa: BLE001 - a YAML error of any kind
            unreadable.append(path.name)
            continue
        problems = dvc_schema.errors(document)
        if problems:
            rejected[path.name] = problems
        else:
            valid.append(path.name)
    assert set(unreadable) == CORPUS_UNREADABLE
    assert set(rejected) == set(CORPUS_INVALID), {name: rejected[name] for name in set(rejected) - set(CORPUS_INVALID)}
    for name, reason in CORPUS_INVALID.items():
        assert any(reason in problem for problem in rejected[name]), (name, rejected[name])
    assert len(valid) == 69, len(valid)  # of 74


def test_corpus_invalid_examples_are_all_rejected() -> None:
    invalid = list(dvc_schema.corpus_files("invalid"))
    assert len(invalid) == 9
    accepted = [path.name for path in invalid if not dvc_schema.errors(dvc_schema.load(path))]
    assert accepted == []
    (malformed,) = dvc_schema.corpus_files("malformed")
    with pytest.raises(Exception, match="mapping values|could not find expected|while scanning"):
        dvc_schema.load(malformed)

