"""The `dagshift` command: one module per command group (main.py holds the group and the small commands)."""
