"""dagshift: one neutral pipeline description, compiled to Airflow, Prefect, Argo, DVC and Kubeflow."""

__version__ = "0.1.0"

from pathlib import Path


def templates_dir() -> Path:
    """The Jinja templates: inside the package when installed from a wheel, else the checkout's
    top-level `templates/` (editable installs and running from source)."""
    packaged = Path(__file__).resolve().parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "templates"
