"""Daily churn model: generate customer data, split it, check it, then train, evaluate and
deploy a logistic regression. The tasks run the tinyml package of the project directory.
"""

import os
import sys

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, CronTriggerTimetable, Param, task

# Commands run in the project directory, and python tasks import tinyml from it.
PROJECT_DIR = os.environ.get("DAGSHIFT_WORKDIR") or os.getcwd()


def in_project_dir():
    os.chdir(PROJECT_DIR)
    if PROJECT_DIR not in sys.path:
        sys.path.insert(0, PROJECT_DIR)


with DAG(
    dag_id="sequential",
    description="Generate churn data, clean and split it, check it, train, evaluate and deploy.",
    schedule=CronTriggerTimetable("0 3 * * *", timezone="Europe/Berlin"),
    start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Berlin"),
    catchup=False,
    params={
        "rows": Param(
            400, type="integer", minimum=10, description="customers to generate"
        ),
        "seed": Param(42, type="integer"),
        "learning_rate": Param(0.1, type="number"),
        "epochs": Param(
            20,
            type="integer",
            minimum=1,
            maximum=200,
            description="passes over the data",
        ),
        "min_rows": Param(
            50, type="integer", minimum=1, description="fewest training rows accepted"
        ),
    },
    tags=["example", "sequential"],
    default_args={
        "owner": "ml-platform",
        "cwd": PROJECT_DIR,
        "skip_on_exit_code": None,  # exit code 99 is a failure too
    },
):
    ingest = BashOperator(
        task_id="ingest",
        bash_command=(
            "python3 -m tinyml.ingest --rows {{ params.rows }} --seed {{ params.seed }}"
            " --out data/raw.csv"
        ),
        doc_md="generate a synthetic customer table (about 3% broken rows)",
    )

    @task(doc_md="drop broken rows and split into train and test sets")
    def transform(params: dict):
        in_project_dir()
        from tinyml.transform import main

        main(
            src="data/raw.csv",
            train_out="data/train.csv",
            test_out="data/test.csv",
            test_fraction=0.25,
            seed=params["seed"],
        )

    validate = BashOperator(
        task_id="validate",
        bash_command=(
            "python3 -m tinyml.validate --src data/train.csv"
            " --min-rows {{ params.min_rows }}"
        ),
        doc_md="fail the run early when the training data is not usable",
    )
    train = BashOperator(
        task_id="train",
        bash_command=(
            "python3 -m tinyml.train --model logreg --train data/train.csv"
            " --learning-rate {{ params.learning_rate }} --epochs {{ params.epochs }}"
            " --seed {{ params.seed }} --model-out models/model.json"
        ),
        doc_md="logistic regression by stochastic gradient descent",
    )

    @task(doc_md="accuracy, precision, recall and F1 on the test set")
    def evaluate() -> float:
        in_project_dir()
        from tinyml.evaluate import main

        return main(
            model="models/model.json",
            data="data/test.csv",
            metrics_out="metrics/metrics.json",
        )

    deploy = BashOperator(
        task_id="deploy",
        bash_command=(
            "python3 -m tinyml.deploy --model models/model.json"
            " --metrics metrics/metrics.json --target deployed"
        ),
        doc_md="copy the model into deployed/ with a manifest (checksum, accuracy)",
    )

    ingest >> transform() >> validate >> train >> evaluate() >> deploy
