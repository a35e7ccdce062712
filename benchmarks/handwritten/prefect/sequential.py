"""Daily churn model: generate customer data, split it, check it, then train, evaluate and
deploy a logistic regression. The tasks run the tinyml package of the project directory.

Deployed with prefect.yaml (cron "0 3 * * *", Europe/Berlin); `python sequential.py` runs it once.
"""

import os
import subprocess
import sys
from typing import Annotated

from prefect import flow, task
from pydantic import Field

# Commands run in the project directory, and python tasks import tinyml from it.
PROJECT_DIR = os.environ.get("DAGSHIFT_WORKDIR") or os.getcwd()
sys.path.insert(0, PROJECT_DIR)


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


@task
def ingest(rows: int, seed: int):
    """generate a synthetic customer table (about 3% broken rows)"""
    sh(f"python3 -m tinyml.ingest --rows {rows} --seed {seed} --out data/raw.csv")


@task
def transform(seed: int):
    """drop broken rows and split into train and test sets"""
    from tinyml.transform import main

    main(
        src="data/raw.csv",
        train_out="data/train.csv",
        test_out="data/test.csv",
        test_fraction=0.25,
        seed=seed,
    )


@task
def validate(min_rows: int):
    """fail the run early when the training data is not usable"""
    sh(f"python3 -m tinyml.validate --src data/train.csv --min-rows {min_rows}")


@task
def train(learning_rate: float, epochs: int, seed: int):
    """logistic regression by stochastic gradient descent"""
    sh(
        "python3 -m tinyml.train --model logreg --train data/train.csv"
        f" --learning-rate {learning_rate} --epochs {epochs} --seed {seed}"
        " --model-out models/model.json"
    )


@task
def evaluate() -> float:
    """accuracy, precision, recall and F1 on the test set"""
    from tinyml.evaluate import main

    return main(
        model="models/model.json",
        data="data/test.csv",
        metrics_out="metrics/metrics.json",
    )


@task
def deploy():
    """copy the model into deployed/ with a manifest (checksum, accuracy)"""
    sh(
        "python3 -m tinyml.deploy --model models/model.json"
        " --metrics metrics/metrics.json --target deployed"
    )


@flow(log_prints=True)
def sequential(
    rows: Annotated[int, Field(ge=10)] = Field(
        400, description="customers to generate"
    ),
    seed: int = 42,
    learning_rate: float = 0.1,
    epochs: Annotated[int, Field(ge=1, le=200)] = Field(
        20, description="passes over the data"
    ),
    min_rows: Annotated[int, Field(ge=1)] = Field(
        50, description="fewest training rows accepted"
    ),
):
    """Generate churn data, clean and split it, check it, train, evaluate and deploy."""
    os.chdir(PROJECT_DIR)
    ingest(rows, seed)
    transform(seed)
    validate(min_rows)
    train(learning_rate, epochs, seed)
    evaluate()
    deploy()


if __name__ == "__main__":
    sequential()
