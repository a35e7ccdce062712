"""What users run beside compile: compare targets, semantic diff, graph and HTML reports."""
