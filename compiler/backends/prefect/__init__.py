"""The Prefect 3 backend: backend.py is the entry point the registry names."""
