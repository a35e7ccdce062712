"""The DVC backend: backend.py is the entry point the registry names."""
