"""The Kubeflow Pipelines v2 backend: backend.py is the entry point the registry names."""
