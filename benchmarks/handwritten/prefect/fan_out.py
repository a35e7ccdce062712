"""Train several models in parallel, keep the best, and score the data in shards.

The tasks run the tinyml package of the project directory; `python fan_out.py` runs it once.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
from typing import Annotated

from prefect import flow, task
from pydantic import Field

# Commands run in the project directory, and python tasks import tinyml from it.
PROJECT_DIR = os.environ.get("DAGSHIFT_WORKDIR") or os.getcwd()
sys.path.insert(0, PROJECT_DIR)

# Training is heavy: at most two models train at once.
TRAINING_SLOTS = threading.BoundedSemaphore(2)

LEARNING_RATES = [
    {"name": "lr_slow", "lr": 0.01},
    {"name": "lr_medium", "lr": 0.1},
    {"name": "lr_fast", "lr": 0.5},
]


def sh(command: str) -> None:
    """Run a shell command, its output in the task's log; fail the task when it fails."""
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    print(done.stdout + done.stderr, end="")
    done.check_returncode()


def sh_result(command: str) -> dict:
    """Run a command that writes a JSON result to the file `{out}`; return that result."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "result.json")
        sh(command.format(out=out))
        with open(out, encoding="utf-8") as file:
            return json.load(file)


@task
def ingest(seed: int):
    sh(f"python3 -m tinyml.ingest --rows 400 --seed {seed} --out data/raw.csv")


@task
def clean():
    sh("python3 -m tinyml.clean --src data/raw.csv --dst data/clean.csv")


@task
def split(seed: int):
    from tinyml.split import main

    main(
        src="data/clean.csv",
        train_out="data/train.csv",
        test_out="data/test.csv",
        seed=seed,
    )


@task(task_run_name="train-{model}")
def train(model: str) -> dict:
    from tinyml.train import main

    with TRAINING_SLOTS:
        return main(
            model=model,
            train="data/train.csv",
            test="data/test.csv",
            model_out=f"models/{model}.json",
        )


@task
def pick_best(results: list[dict]):
    from tinyml.select import best

    best(results=results, out="metrics/leaderboard.json", model_out="models/best.json")


@task(task_run_name="tune_lr-{setting[name]}")
def tune_lr(setting: dict) -> dict:
    name, lr = setting["name"], setting["lr"]
    return sh_result(
        f"python3 -m tinyml.train --model logreg --name {name} --learning-rate {lr}"
        f" --train data/train.csv --test data/test.csv --model-out models/{name}.json"
        " --result-out {out}"
    )


@task
def pick_lr(results: list[dict]):
    from tinyml.select import best

    best(results=results, out="metrics/lr_leaderboard.json")


@task
def shard(shards: int) -> list[str]:
    from tinyml.shard import main

    return main(src="data/clean.csv", out_dir="data/shards", shards=shards)


@task(task_run_name="score_shard-{path}")
def score_shard(path: str) -> dict:
    return sh_result(
        f"python3 -m tinyml.predict --model models/best.json --data {path}"
        " --out-dir data/predictions --summary-out {out}"
    )


@task
def summarize(summaries: list[dict]):
    from tinyml.predict import summarize

    summarize(summaries=summaries, out="metrics/predictions.json")


@flow(name="fan_out", log_prints=True)
def fan_out(
    models: list[str] = Field(
        ("logreg", "stump", "centroid"), description="model kinds to try"
    ),
    shards: Annotated[int, Field(ge=1, le=20)] = 3,
    seed: int = 42,
):
    """Train several models in parallel, keep the best, and score the data in shards."""
    os.chdir(PROJECT_DIR)
    ingest(seed)
    clean()
    split_done = split.submit(seed)
    best = pick_best.submit(train.map(models, wait_for=[split_done]))
    best_lr = pick_lr.submit(tune_lr.map(LEARNING_RATES, wait_for=[split_done]))
    shard_paths = shard.submit(shards)
    scored = score_shard.map(shard_paths, wait_for=[best])
    summary = summarize.submit(scored)
    # The run fails when any task failed: Prefect takes the state of what the flow returns.
    return [best_lr, summary]


if __name__ == "__main__":
    fan_out()
