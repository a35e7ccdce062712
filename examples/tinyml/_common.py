"""Shared helpers: the data schema, stable CSV/JSON I/O and lenient value coercion."""

from __future__ import annotations

import csv
import json
import os
import sys

# The churn data set: one row per customer.
COLUMNS = ["customer_id", "tenure_months", "monthly_charges", "support_calls", "contract", "churned"]
CONTRACT_MONTHS = {"month": 1, "one_year": 12, "two_year": 24}
# Numeric features the models use, in this order.
FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_months"]
LABEL = "churned"
DIGITS = 6  # floats in JSON files are rounded to this many decimals


class TaskError(Exception):
    """A failure with a message meant for the person reading the task log."""


def ensure_parent(path: str) -> None:
    parent = os.path.dirname(str(path))
    if parent:
        os.makedirs(parent, exist_ok=True)


def read_csv(path: str) -> tuple[list[str], list[dict[str, str]]]:
    if not os.path.exists(path):
        raise TaskError(f"input file not found: {path}")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = [dict(r) for r in reader]
    return header, rows


def write_csv(path: str, rows: list[dict], columns: list[str]) -> None:
    ensure_parent(path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def round_floats(obj):
    """Round every float in a JSON-like value so files are stable and readable."""
    if isinstance(obj, float):
        return round(obj, DIGITS)
    if isinstance(obj, dict):
        return {k: round_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_floats(v) for v in obj]
    return obj


def dumps(obj) -> str:
    return json.dumps(round_floats(obj), sort_keys=True, indent=2) + "\n"


def write_json(path: str, obj) -> None:
    ensure_parent(path)
    with open(path, "w", newline="\n", encoding="utf-8") as f:
        f.write(dumps(obj))


def read_json(path: str):
    if not os.path.exists(path):
        raise TaskError(f"input file not found: {path}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_value(path: str | None, value) -> None:
    """Write a task's value output: plain text for a str, compact JSON for anything else.

    No trailing newline, so the orchestrator reads back exactly the value.
    """
    if not path:
        return
    ensure_parent(path)
    text = value if isinstance(value, str) else json.dumps(round_floats(value), sort_keys=True)
    with open(path, "w", newline="\n", encoding="utf-8") as f:
        f.write(text)


def as_int(value, name: str = "value") -> int:
    try:
        return int(float(value)) if isinstance(value, str) and "." in value else int(value)
    except (TypeError, ValueError):
        raise TaskError(f"{name}: expected an integer, got {value!r}") from None


def as_float(value, name: str = "value") -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TaskError(f"{name}: expected a number, got {value!r}") from None


def as_bool(value, name: str = "value") -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", "", "none", "null"):
        return False
    raise TaskError(f"{name}: expected true or false, got {value!r}")


def as_json(value, name: str = "value"):
    """A list/dict as is; a JSON (or Python-repr) string decoded; anything else unchanged."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                import ast

                try:
                    return ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    raise TaskError(f"{name}: cannot decode {value!r}") from None
    return value


def as_list(value, name: str = "value") -> list:
    """A list; or a JSON list as text; or comma-separated text."""
    value = as_json(value, name)
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    raise TaskError(f"{name}: expected a list, got {value!r}")


def as_flat_list(value, name: str = "value") -> list:
    """Like as_list, but an element that is itself a JSON list (text) is spliced in, so both
    `--scores 0.8 0.7` and `--scores "[0.8, 0.7]"` give [0.8, 0.7]."""
    out = []
    for item in as_list(value, name):
        decoded = as_json(item, name)
        out.extend(decoded if isinstance(decoded, list) else [item])
    return out


def _field(row: dict[str, str], name: str, kind):
    if name not in row or row[name] is None:
        raise ValueError(f"{name} is missing")
    try:
        return kind(row[name])
    except ValueError:
        raise ValueError(f"{name} is not a valid {kind.__name__}: {row[name]!r}") from None


def parse_row(row: dict[str, str]) -> dict:
    """A raw CSV row -> typed values; raises ValueError naming the bad field."""
    tenure = _field(row, "tenure_months", int)
    charges = _field(row, "monthly_charges", float)
    calls = _field(row, "support_calls", int)
    contract = _field(row, "contract", str)
    label = _field(row, "churned", int)
    if not row.get("customer_id"):
        raise ValueError("customer_id is empty")
    if not 0 <= tenure <= 120:
        raise ValueError(f"tenure_months out of range: {tenure}")
    if not 0 < charges <= 1000:
        raise ValueError(f"monthly_charges out of range: {charges}")
    if not 0 <= calls <= 50:
        raise ValueError(f"support_calls out of range: {calls}")
    if contract not in CONTRACT_MONTHS:
        raise ValueError(f"unknown contract: {contract!r}")
    if label not in (0, 1):
        raise ValueError(f"churned must be 0 or 1: {label}")
    return {
        "customer_id": row["customer_id"],
        "tenure_months": tenure,
        "monthly_charges": charges,
        "support_calls": calls,
        "contract": contract,
        "churned": label,
    }


def feature_vector(row: dict) -> list[float]:
    """Typed row -> numeric feature vector in FEATURES order."""
    return [
        float(row["tenure_months"]),
        float(row["monthly_charges"]),
        float(row["support_calls"]),
        float(CONTRACT_MONTHS[row["contract"]]),
    ]


def load_dataset(path: str) -> tuple[list[dict], list[list[float]], list[int]]:
    """Read a clean CSV -> (typed rows, feature vectors, labels)."""
    _, raw = read_csv(path)
    rows = []
    for i, r in enumerate(raw, start=2):
        try:
            rows.append(parse_row(r))
        except (KeyError, ValueError) as e:
            raise TaskError(f"{path}:{i}: bad row ({e}); run tinyml.clean first") from None
    return rows, [feature_vector(r) for r in rows], [r[LABEL] for r in rows]


def run_cli(name: str, func, args) -> int:
    """Call func(**vars(args)); a TaskError becomes "NAME: error: ..." on stderr and exit status 1."""
    try:
        func(**vars(args))
    except TaskError as e:
        print(f"{name}: error: {e}", file=sys.stderr)
        return 1
    return 0
