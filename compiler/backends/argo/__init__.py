"""The Argo Workflows backend: backend.py is the entry point the registry names."""
