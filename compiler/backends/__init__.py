"""Backends: one module per target (capabilities, lowering, template context) plus its templates
in templates/<name>/. See base.py for the interface and registry.py for how they are found."""
