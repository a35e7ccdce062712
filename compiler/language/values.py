"""Parsers for the small value languages of the pipeline file: durations, resource quantities,
cron expressions, time zones and `module:function` references, and the limits every target can
honour (docs/pipeline-syntax.md, "Limits").

Each parser raises `ValueError` with a message that can be shown to the user as it is.
"""

from __future__ import annotations

import keyword
import math
import re
import zoneinfo
from decimal import Decimal, InvalidOperation

# ----------------------------------------------------------------------------- limits

# The largest values every target runs as written: Airflow's timedelta and int32 database columns,
# Argo's int64 seconds, KFP's int64 parameters, a shell's `timeout`, Prefect's pydantic settings.
MAX_DURATION = 365 * 86400  # a timeout, retry delay, cache expiry or estimate: one year
MAX_RETRIES = 100
MAX_BACKOFF = 100.0
MAX_LIMIT = 10_000  # max_parallel, max_active_tasks, max_active_runs
MAX_PRIORITY = 1_000_000
MAX_GPU = 64
MIN_INT, MAX_INT = -(2**63), 2**63 - 1  # a param, argument or list value
NUMBER_LIMITS_HELP = "numbers must be finite, and whole numbers fit in 64 bits (at most 9223372036854775807)"


def is_portable_number(value: int | float) -> bool:
    """A number every target can carry: finite, and whole numbers within 64 bits."""
    if isinstance(value, float):
        return math.isfinite(value)
    return MIN_INT <= value <= MAX_INT


# ----------------------------------------------------------------------------- durations

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: object) -> int:
    """'1h30m' / '45s' / 90 -> seconds. Whole seconds only: every target counts in seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, 5m, 2h or 1d, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        else:
            pos, seconds = 0, 0.0
            for match in _DURATION_PART.finditer(text):
                if match.start() != pos:
                    break
                seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
                pos = match.end()
            if pos != len(text) or not text:
                raise ValueError(f"'{value}' is not a duration: use 30s, 5m, 2h, 1d, 1h30m or a number of seconds")
    else:
        raise ValueError(f"expected a duration such as 30s, 5m, 2h or 1d, got {type(value).__name__}")
    if math.isnan(seconds):
        raise ValueError("a duration must be a number of seconds, not NaN")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > MAX_DURATION:
        raise ValueError(f"'{value}' is longer than {format_duration(MAX_DURATION)}, the longest duration every "
                         f"target can run")
    if seconds != int(seconds):
        raise ValueError(f"'{value}' is not a whole number of seconds")
    return int(seconds)


def format_duration(seconds: int) -> str:
    """Seconds -> the shortest surface form ('1h30m'), for messages and round trips."""
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in _DURATION_UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            out += f"{count}{unit}"
    return out


# ----------------------------------------------------------------------------- quantities

_CPU = re.compile(r"^(\d+(\.\d+)?|\.\d+)(m)?\Z", re.ASCII)
_MEMORY = re.compile(r"^(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?\Z", re.ASCII)
_MEMORY_FACTORS = {
    None: 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


def parse_cpu(value: object) -> str:
    """Kubernetes CPU quantity: 2, 0.5, 500m. Returned in its canonical text form."""
    text = _quantity_text(value, "CPU")
    if not _CPU.match(text) or cpu_millicores(text) <= 0:
        raise ValueError(f"'{value}' is not a CPU quantity: use cores (1, 0.5) or millicores (500m)")
    return text


def cpu_millicores(text: str) -> float:
    return float(text[:-1]) if text.endswith("m") else float(text) * 1000


def parse_memory(value: object) -> str:
    """Kubernetes memory quantity: 512Mi, 1Gi, 2G, 1000000 (bytes)."""
    text = _quantity_text(value, "memory")
    match = _MEMORY.match(text)
    if not match or float(match.group(1)) <= 0:
        hint = " (did you mean Mi/Gi? units are case-sensitive)" if re.match(r"^\d+(mi|gi|mb|gb|MB|GB)$", text) else ""
        raise ValueError(f"'{value}' is not a memory quantity: use 512Mi, 1Gi, 2G or bytes{hint}")
    return text


def memory_bytes(text: str) -> int:
    match = _MEMORY.match(text)
    assert match, text
    return int(Decimal(match.group(1)) * _MEMORY_FACTORS[match.group(3)])


def _quantity_text(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a {what} quantity, got {value!r}")
    if isinstance(value, float):
        try:
            return format(Decimal(repr(value)).normalize(), "f")
        except InvalidOperation as exc:  # inf / nan
            raise ValueError(f"'{value}' is not a {what} quantity") from exc
    return str(value).strip()


# ----------------------------------------------------------------------------- cron

CRON_PRESETS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_CRON_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}),
    ("day of week", 0, 7, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}),
)


def parse_cron(value: object) -> str:
    """A standard 5-field cron expression (names, ranges, lists and steps) or an @preset."""
    if not isinstance(value, str):
        raise ValueError(f"expected a cron expression such as '0 2 * * *', got {value!r}")
    text = " ".join(value.split())
    if text.startswith("@"):
        if text not in CRON_PRESETS:
            raise ValueError(f"unknown cron preset '{text}': use one of {', '.join(CRON_PRESETS)}")
        return text
    fields = text.split(" ")
    if len(fields) != 5:
        extra = " (seconds are not supported: drop the first field)" if len(fields) == 6 else ""
        raise ValueError(
            f"'{value}' has {len(fields)} fields; a cron expression has 5: minute hour day-of-month month day-of-week{extra}"
        )
    for text_field, (name, low, high, names) in zip(fields, _CRON_FIELDS):
        for part in text_field.split(","):
            _check_cron_part(part, name, low, high, names, value)
    return text


def _check_cron_part(part: str, name: str, low: int, high: int, names: dict, whole: str) -> None:
    def number(token: str) -> int:
        token_l = token.lower()
        if token_l in names:
            return names[token_l]
        if not _is_number(token):
            raise ValueError(f"'{token}' is not valid in the {name} field of '{whole}'")
        n = int(token)
        if not low <= n <= high:
            raise ValueError(f"{n} is out of range for the {name} field ({low}-{high}) in '{whole}'")
        return n

    base, _, step = part.partition("/")
    if step and (not _is_number(step) or int(step) == 0):
        raise ValueError(f"'{part}' has an invalid step in the {name} field of '{whole}'")
    if base == "*":
        return
    start, dash, end = base.partition("-")
    first = number(start)
    if dash and number(end) < first:
        raise ValueError(f"range '{base}' runs backwards in the {name} field of '{whole}'")


def _is_number(token: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and other scripts' digits."""
    return token.isascii() and token.isdigit()


# ----------------------------------------------------------------------------- time zones


_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*", re.ASCII)
_LONGEST_ZONE_NAME = 64  # the longest IANA name has 32 characters


def parse_timezone(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected an IANA time zone name such as Europe/Berlin, got {value!r}")
    shown = value if len(value) <= _LONGEST_ZONE_NAME else value[:_LONGEST_ZONE_NAME] + "..."
    unknown = f"unknown time zone '{shown}': use an IANA name such as UTC or Europe/Berlin"
    if len(value) > _LONGEST_ZONE_NAME or not _ZONE_NAME.fullmatch(value):
        raise ValueError(unknown)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: `America` is a directory
        raise ValueError(unknown) from exc
    return value


def timezone_names() -> set[str]:
    return zoneinfo.available_timezones()


# ----------------------------------------------------------------------------- module:function

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def parse_python_ref(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected 'module:function', got {value!r}")
    module, colon, function = value.partition(":")
    if not colon or not _DOTTED.match(module) or not _DOTTED.match(function):
        raise ValueError(f"'{value}' is not a 'module:function' reference (for example churn.transform:main)")
    if any(keyword.iskeyword(part) for part in module.split(".") + function.split(".")):
        raise ValueError(f"'{value}' uses a Python keyword as a name")
    return value
