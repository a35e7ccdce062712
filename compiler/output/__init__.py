"""Writing what the backends render: templates and formatting (emit.py, pylayout/), YAML, the output
files written all or nothing (files.py), and the `--check` comparison with files on disk."""
