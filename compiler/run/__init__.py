"""`dagshift run`: compile a pipeline for one target and run it on that real engine on this machine,
reporting each task's state changes as they happen (events.py). The engine lives in the current
interpreter or in the one given with --engine-python (engine.py); each target's run is one module
(airflow.py, prefect.py, dvc.py, kubeflow.py) and runs.py chooses it. Code that runs inside an engine's
interpreter is a script in scripts/, run by path with scripts/_protocol.py beside it: it never imports dagshift.
"""
