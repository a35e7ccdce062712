"""Runs inside the Prefect engine venv: validate generated prefect.yaml files the way `prefect
deploy` reads them, and load each entrypoint's flow. Prints one JSON report on the last line.

    python prefect_deployment_check.py DIR...   (each DIR holds prefect.yaml and the flow module)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def check(directory: Path) -> dict:
    import yaml
    from prefect.cli.deploy._models import DeploymentConfig, PrefectYamlModel
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
    from prefect.cli.deploy._triggers import _initialize_deployment_triggers
    from prefect.flows import load_flow_from_entrypoint

    raw = yaml.safe_load((directory / "prefect.yaml").read_text())
    model = PrefectYamlModel.model_validate(raw)  # what `prefect deploy` validates
    problems = []
    known = set(DeploymentConfig.model_fields)
    report = {"deployments": []}
    for entry, config in zip(raw["deployments"], model.deployments):
        unknown = sorted(set(entry) - known)  # the model ignores unknown keys: catch typos here
        if unknown:
            problems.append(f"unknown deployment keys {unknown}")
        schedules = [_schedule_config_to_deployment_schedule(s) for s in entry.get("schedules", [])]
        triggers = _initialize_deployment_triggers(entry["name"], [dict(t) for t in entry.get("triggers", [])])
        os.chdir(directory)
        flow = load_flow_from_entrypoint(str(directory / entry["entrypoint"]))
        report["deployments"].append({
            "name": config.name,
            "flow": flow.name,
            "schedules": [str(s["schedule"].cron) for s in schedules],
            "timezones": [s["schedule"].timezone for s in schedules],
            "triggers": [type(t).__name__ for t in triggers],
            "concurrency_limit": entry.get("concurrency_limit"),
            "parameters": sorted(flow.parameters.properties),
        })
    report["problems"] = problems
    return report


if __name__ == "__main__":
    print(json.dumps({d: check(Path(d).resolve()) for d in sys.argv[1:]}))
