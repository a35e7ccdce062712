"""Prefect 3 flow modules, read by static analysis (the module is parsed, never executed).

Two kinds of module are read:

* dagshift's own output (compiler/backends/prefect/backend.py): every task runs `_run(_SPECS[id], ...)`
  and the flow body submits tasks with the helpers of templates/prefect/runtime.py.j2. The specs
  hold the original task ids, commands, python targets, env, secrets and outputs; the body holds
  the edges, conditions (the original `when:` text is in the comment above `_when[...]`), trigger
  rules and fan-outs. This is decoded exactly.
* hand-written flows: `@task` functions become python tasks (`module:function`), their options
  task settings; calls in the `@flow` body (direct, `.submit`, `.map`) become tasks, futures passed
  as arguments data edges (`${{ tasks.T.outputs.result }}`), `wait_for=` order edges; `if` over
  params becomes `when:`. Other code in the flow body has no IR equivalent: reported as a loss.

The prefect.yaml next to the module gives the deployment: schedule, tags, run concurrency,
triggers.

Not carried by dagshift's Prefect output (`not_carried`), with the reason:
* artifacts, consumes, produces: artifact references are written as their paths, so the output
  has files, not named artifacts; the edges they made are kept as plain `after` edges
  (PrefectImporter.carried compares the pipeline in that shape).
* an `after` edge another path implies, into a task whose trigger rule is all_success or
  none_failed: a flow that calls its tasks one after the other holds their order, not each edge
  of it, and such an edge changes nothing a run does (PrefectImporter.carried leaves them out).
* data triggers name the artifact's path (not the artifact), manual triggers leave no trace
  (a deployment without schedules): `triggers` are compared by type and path in the tests.
* params' `type` is written as the hint whether it was written or implied by the default, and
  outputs' descriptions, the owner, tasks' `estimate` and `priority` are not written at all.
* retry_backoff / retry_max_delay become the list of delays: with one retry, or a cap never
  reached, they leave no trace (the delays themselves round trip).
* schedule.start_date: Prefect cron schedules have no start (the backend warns W302).

The modules (none imports reader.py: each reader is handed what it reads):
* reader.py: PrefectImporter (detect, read, carried), and read_flow, which makes a FlowState
  (state.py: the module, the @flow function, the reporter, the pipeline data and tasks read so
  far, the parameter names) for each @flow function and runs the readers below on it;
* module.py: the module's functions, and what dagshift's output keeps beside them;
* params.py: the signature; options.py: @flow / @task options and hooks;
* generated.py and generated_tasks.py: dagshift's flow body and task functions;
* handwritten.py: hand-written flow bodies, and conditions.py their conditions;
* deployment.py: the prefect.yaml; values.py: static values.
"""

from .reader import IMPORTER, PrefectImporter

__all__ = ["IMPORTER", "PrefectImporter"]
