"""Train several kinds of model in parallel and keep the best, tune the learning rate, and score
the data in shards with the best model. The tasks run the tinyml package of the project
directory."""

import json
import os
import subprocess
import sys
import tempfile

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, task

# Commands run in the project directory, and python tasks import tinyml from it.
PROJECT_DIR = os.environ.get("DAGSHIFT_WORKDIR") or os.getcwd()


def in_project_dir():
    os.chdir(PROJECT_DIR)
    if PROJECT_DIR not in sys.path:
        sys.path.insert(0, PROJECT_DIR)


def run_for_json(command: list[str]) -> dict:
    """Run a tinyml command that writes its result as JSON to the file named last."""
    with tempfile.TemporaryDirectory() as tmp:
        result = os.path.join(tmp, "result.json")
        subprocess.run([*command, result], cwd=PROJECT_DIR, check=True)
        with open(result, encoding="utf-8") as file:
            return json.load(file)


with DAG(
    dag_id="fan_out",
    description="Train several models in parallel, keep the best, and score the data in shards.",
    schedule=None,
    params={
        "models": Param(
            ["logreg", "stump", "centroid"],
            type="array",
            description="model kinds to try",
        ),
        "shards": Param(3, type="integer", minimum=1, maximum=20),
        "seed": Param(42, type="integer"),
    },
    tags=["example", "fan-out"],
    default_args={
        "cwd": PROJECT_DIR,
        "skip_on_exit_code": None,  # exit code 99 is a failure too
    },
):
    ingest = BashOperator(
        task_id="ingest",
        bash_command=(
            "python3 -m tinyml.ingest --rows 400 --seed {{ params.seed }}"
            " --out data/raw.csv"
        ),
    )
    clean = BashOperator(
        task_id="clean",
        bash_command="python3 -m tinyml.clean --src data/raw.csv --dst data/clean.csv",
    )

    @task
    def split(params: dict):
        in_project_dir()
        from tinyml.split import main

        main(
            src="data/clean.csv",
            train_out="data/train.csv",
            test_out="data/test.csv",
            seed=params["seed"],
        )

    @task
    def models(params: dict) -> list:
        return params["models"]

    @task(
        max_active_tis_per_dagrun=2,
        multiple_outputs=False,
        map_index_template="{{ task.op_kwargs['model'] }}",
    )
    def train(model: str) -> dict:
        in_project_dir()
        from tinyml.train import main

        return main(
            model=model,
            train="data/train.csv",
            test="data/test.csv",
            model_out=f"models/{model}.json",
        )

    @task
    def pick_best(results: list):
        in_project_dir()
        from tinyml.select import best

        best(
            results=list(results),
            out="metrics/leaderboard.json",
            model_out="models/best.json",
        )

    @task(
        multiple_outputs=False,
        map_index_template="{{ task.op_kwargs['rate']['name'] }}",
    )
    def tune_lr(rate: dict) -> dict:
        return run_for_json(
            ["python3", "-m", "tinyml.train", "--model", "logreg"]
            + ["--name", rate["name"], "--learning-rate", str(rate["lr"])]
            + ["--train", "data/train.csv", "--test", "data/test.csv"]
            + ["--model-out", f"models/{rate['name']}.json", "--result-out"]
        )

    @task
    def pick_lr(results: list):
        in_project_dir()
        from tinyml.select import best

        best(results=list(results), out="metrics/lr_leaderboard.json")

    @task
    def shard(params: dict) -> list:
        in_project_dir()
        from tinyml.shard import main

        return main(
            src="data/clean.csv", out_dir="data/shards", shards=params["shards"]
        )

    @task(multiple_outputs=False, map_index_template="{{ task.op_kwargs['path'] }}")
    def score_shard(path: str) -> dict:
        return run_for_json(
            ["python3", "-m", "tinyml.predict", "--model", "models/best.json"]
            + ["--data", path, "--out-dir", "data/predictions", "--summary-out"]
        )

    @task
    def summarize(summaries: list):
        in_project_dir()
        from tinyml.predict import summarize

        summarize(summaries=list(summaries), out="metrics/predictions.json")

    split_data = split()
    trained = train.expand(model=models())
    tuned = tune_lr.expand(
        rate=[
            {"name": "lr_slow", "lr": 0.01},
            {"name": "lr_medium", "lr": 0.1},
            {"name": "lr_fast", "lr": 0.5},
        ]
    )
    shards = shard()
    scored = score_shard.expand(path=shards)

    ingest >> clean >> [split_data, shards]
    split_data >> [trained, tuned]
    pick_best(trained) >> scored
    pick_lr(tuned)
    summarize(scored)
