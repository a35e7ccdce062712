"""The pipeline language: the IR models (ir.py), the YAML/JSON loader with source positions, and the
syntax inside strings (placeholders, `when:` conditions, references, values, names, features)."""
