"""Runs inside the Prefect engine venv: validate generated prefect.yaml files the way `prefect
deploy` reads them, and load each entrypoint's flow. Prints one JSON report on the last line.

    python prefect_deployment_check.py DIR...   (each DIR holds prefect.yaml and the flow module)

`resolved_deployment` (also used by prefect_runner.py) gives a deployment as `prefect deploy`
resolves its templating before it registers it.
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


def resolved_deployment(directory: Path) -> dict:
    """The first deployment of DIRECTORY/prefect.yaml after Prefect's own deploy-time templating,
    in the order prefect/cli/deploy/_core.py applies it (Prefect 3.9): block document references,
    variables and environment variables in the whole entry, then step outputs (none here) in all
    but its triggers. Needs a Prefect API (blocks and variables are read from it)."""
    import asyncio

    import yaml
    from prefect.utilities.templating import apply_values, resolve_block_document_references, resolve_variables

    async def from_the_api(config: dict) -> dict:
        return await resolve_variables(await resolve_block_document_references(config))

    entry = yaml.safe_load((directory / "prefect.yaml").read_text(encoding="utf-8"))["deployments"][0]
    entry = apply_values(asyncio.run(from_the_api(entry)), dict(os.environ), remove_notset=False)
    triggers = entry.pop("triggers", None)
    entry = apply_values(entry, {}, warn_on_notset=True, skip_prefixes=["ctx."])
    if triggers is not None:
        entry["triggers"] = triggers
    return entry


if __name__ == "__main__":
    print(json.dumps({d: check(Path(d).resolve()) for d in sys.argv[1:]}))
