"""compiler.language.values: durations, CPU and memory quantities, cron, time zones, module:function."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.language import values

# ----------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1d2h3m4s", 93784),
        ("1h 30m", 5400), (" 2H ", 7200), ("0.5m", 30), ("1.5h", 5400), ("90", 90), ("0", 0),
        (90, 90), (0, 0), (120.0, 120),
    ],
)
def test_durations(value, seconds):
    assert values.parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "'' is not a duration"),
        ("abc", "'abc' is not a duration: use 30s, 5m, 2h, 1d, 1h30m or a number of seconds"),
        ("5 minutes", "is not a duration"),
        ("1h30", "is not a duration"),
        ("h", "is not a duration"),
        ("-5s", "is not a duration"),
        ("1w", "is not a duration"),
        (-5, "a duration cannot be negative"),
        (1.5, "'1.5' is not a whole number of seconds"),
        ("0.5s", "'0.5s' is not a whole number of seconds"),
        (True, "expected a duration such as 30s, 5m, 2h or 1d, got True"),
        (None, "got NoneType"),
        ([1], "got list"),
        (float("inf"), "longer than 365d, the longest duration every target can run"),
        (1e300, "longer than 365d"),
        ("366d", "longer than 365d"),
        (float("nan"), "not NaN"),
    ],
)
def test_invalid_durations(value, message):
    with pytest.raises(ValueError) as info:
        values.parse_duration(value)
    assert message in str(info.value)


@given(st.integers(0, values.MAX_DURATION))
def test_format_duration_round_trip(seconds):
    text = values.format_duration(seconds)
    assert values.parse_duration(text) == seconds
    assert text == "0s" or text[0] != "0"


def test_format_duration_shortest_form():
    assert [values.format_duration(s) for s in (0, 59, 60, 5400, 86400 + 1)] == ["0s", "59s", "1m", "1h30m", "1d1s"]


# ----------------------------------------------------------------------------- quantities


@pytest.mark.parametrize("value, text, millicores", [
    ("500m", "500m", 500), ("2", "2", 2000), ("0.5", "0.5", 500), (".25", ".25", 250), (1, "1", 1000),
    (0.5, "0.5", 500), (1.0, "1", 1000), (" 4 ", "4", 4000),
])
def test_cpu(value, text, millicores):
    assert values.parse_cpu(value) == text
    assert values.cpu_millicores(text) == millicores


@pytest.mark.parametrize("value", ["0", "0m", "-1", "1 core", "500M", "m", "", True, None, "1e3", "١", float("inf")])
def test_invalid_cpu(value):
    with pytest.raises(ValueError) as info:
        values.parse_cpu(value)
    assert "CPU quantity" in str(info.value)


@pytest.mark.parametrize("value, text, size", [
    ("512Mi", "512Mi", 512 * 2**20), ("1Gi", "1Gi", 2**30), ("2G", "2G", 2 * 10**9), ("1000000", "1000000", 10**6),
    (1024, "1024", 1024), ("1.5Gi", "1.5Gi", 3 * 2**29), ("64k", "64k", 64000), ("1Ti", "1Ti", 2**40),
])
def test_memory(value, text, size):
    assert values.parse_memory(value) == text
    assert values.memory_bytes(text) == size


@pytest.mark.parametrize("value, hint", [
    ("512mi", True), ("1gb", True), ("1GB", True), ("0", False), ("0Gi", False), ("1 Gi", False), ("Gi", False),
    ("-1Gi", False), ("1Gb", False), (False, False), ("١Gi", False),
])
def test_invalid_memory(value, hint):
    with pytest.raises(ValueError) as info:
        values.parse_memory(value)
    assert "memory quantity" in str(info.value)
    assert ("did you mean Mi/Gi? units are case-sensitive" in str(info.value)) == hint


# ----------------------------------------------------------------------------- cron


@pytest.mark.parametrize("value, text", [
    ("0 2 * * *", "0 2 * * *"),
    ("  0   2 * *   * ", "0 2 * * *"),
    ("*/15 0-23/2 1,15 jan-mar mon-fri", "*/15 0-23/2 1,15 jan-mar mon-fri"),
    ("0 0 * DEC SUN", "0 0 * DEC SUN"),
    ("59 23 31 12 7", "59 23 31 12 7"),
    ("0 0 1 * 0", "0 0 1 * 0"),
    ("5/10 * * * *", "5/10 * * * *"),
    ("0-59 0,12 1-31/2 */3 1-5", "0-59 0,12 1-31/2 */3 1-5"),
])
def test_cron(value, text):
    assert values.parse_cron(value) == text


@pytest.mark.parametrize("preset", sorted(values.CRON_PRESETS))
def test_cron_presets(preset):
    assert values.parse_cron(preset) == preset
    assert values.parse_cron(values.CRON_PRESETS[preset])  # each preset's meaning is a valid expression


@pytest.mark.parametrize("value, message", [
    ("@reboot", "unknown cron preset '@reboot': use one of @yearly"),
    ("0 2 * *", "has 4 fields; a cron expression has 5"),
    ("0 0 2 * * *", "(seconds are not supported: drop the first field)"),
    ("60 * * * *", "60 is out of range for the minute field (0-59)"),
    ("* 24 * * *", "24 is out of range for the hour field (0-23)"),
    ("* * 0 * *", "0 is out of range for the day of month field (1-31)"),
    ("* * * 13 *", "13 is out of range for the month field (1-12)"),
    ("* * * * 8", "8 is out of range for the day of week field (0-7)"),
    ("* * * foo *", "'foo' is not valid in the month field"),
    ("* * * * mon-sun2", "'sun2' is not valid in the day of week field"),
    ("*/0 * * * *", "'*/0' has an invalid step in the minute field"),
    ("*/x * * * *", "'*/x' has an invalid step in the minute field"),
    ("30-10 * * * *", "range '30-10' runs backwards in the minute field"),
    ("* * * * fri-mon", "range 'fri-mon' runs backwards in the day of week field"),
    ("1,,2 * * * *", "'' is not valid in the minute field"),
    ("? * * * *", "'?' is not valid in the minute field"),
    ("١ * * * *", "'١' is not valid in the minute field"),
    ("² * * * *", "'²' is not valid in the minute field"),
    ("*/² * * * *", "has an invalid step"),
    (5, "expected a cron expression such as '0 2 * * *', got 5"),
])
def test_invalid_cron(value, message):
    with pytest.raises(ValueError) as info:
        values.parse_cron(value)
    assert message in str(info.value)


_FIELD_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


@st.composite
def cron_fields(draw):
    fields = []
    for low, high in _FIELD_RANGES:
        kind = draw(st.sampled_from(["star", "value", "range", "step", "list"]))
        a = draw(st.integers(low, high))
        b = draw(st.integers(a, high))
        if kind == "star":
            fields.append("*")
        elif kind == "value":
            fields.append(str(a))
        elif kind == "range":
            fields.append(f"{a}-{b}")
        elif kind == "step":
            fields.append(f"*/{draw(st.integers(1, 30))}")
        else:
            fields.append(",".join(str(draw(st.integers(low, high))) for _ in range(draw(st.integers(1, 4)))))
    return " ".join(fields)


@given(cron_fields())
def test_generated_cron_expressions_are_accepted(expression):
    assert values.parse_cron(expression) == expression


@given(cron_fields(), st.integers(0, 4), st.integers(1, 200))
def test_out_of_range_values_are_rejected(expression, index, excess):
    fields = expression.split(" ")
    low, high = _FIELD_RANGES[index]
    fields[index] = str(high + excess)
    with pytest.raises(ValueError, match="out of range"):
        values.parse_cron(" ".join(fields))


# ----------------------------------------------------------------------------- time zones


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_time_zones(name):
    assert values.parse_timezone(name) == name


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe/Berlinn", "", "../etc/passwd", None, 1, "/etc/localtime"])
def test_invalid_time_zones(name):
    with pytest.raises(ValueError) as info:
        values.parse_timezone(name)
    assert "Europe/Berlin" in str(info.value)  # the message shows a valid example


def test_timezone_names_include_common_zones():
    assert {"UTC", "Europe/Berlin"} <= values.timezone_names()


# ----------------------------------------------------------------------------- module:function


@pytest.mark.parametrize("ref", ["m:f", "tinyml.clean:main", "pkg.sub_2.mod:Class.method", "_m:_f", "match:case"])
def test_python_refs(ref):
    assert values.parse_python_ref(ref) == ref


@pytest.mark.parametrize("ref, message", [
    ("tinyml.clean", "is not a 'module:function' reference"),
    ("tinyml.clean:", "is not a 'module:function' reference"),
    (":main", "is not a 'module:function' reference"),
    ("a:b:c", "is not a 'module:function' reference"),
    ("my-pkg:main", "is not a 'module:function' reference"),
    ("pkg..mod:f", "is not a 'module:function' reference"),
    ("1pkg:f", "is not a 'module:function' reference"),
    ("pkg:f()", "is not a 'module:function' reference"),
    ("pkg.class:f", "uses a Python keyword as a name"),
    ("pkg:lambda", "uses a Python keyword as a name"),
    (42, "expected 'module:function', got 42"),
])
def test_invalid_python_refs(ref, message):
    with pytest.raises(ValueError) as info:
        values.parse_python_ref(ref)
    assert message in str(info.value)


@pytest.mark.parametrize("name", ["America", "Europe", "A" * 300, "../../etc/passwd", "Europe/Berlin\n", "", "UTC "])
def test_time_zones_that_name_directories_or_no_file_are_unknown(name):
    with pytest.raises(ValueError, match="time zone|IANA") as info:
        values.parse_timezone(name)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize("number, portable", [
    (0, True), (2**63 - 1, True), (-(2**63), True), (2**63, False), (-(2**63) - 1, False),
    (1.5, True), (1e308, True), (float("inf"), False), (float("-inf"), False), (float("nan"), False),
])
def test_portable_numbers_are_finite_and_fit_64_bits(number, portable):
    assert values.is_portable_number(number) is portable
