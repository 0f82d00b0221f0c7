"""Property tests of the raw contract (docs/definitions.md, section 2) on
generated deliveries.

Hypothesis generates a batch of raw records per example (valid ones, ones with
a wrong type, a missing or blank required field, a bad or far-future
timestamp, an unknown status, a non-object input or attributes, malformed
lines, JSON that is not an object, exact and whitespace-only redeliveries,
conflicting redeliveries, blank lines) with adversarial text in every string,
writes it as one raw folder of two JSONL files, and builds it once. The
invariants, checked per record against reference.py (the independent pandas
implementation) and against the raw record itself:

- raw records = accepted + rejected, per file, each record exactly once;
- every rejection has a known reason, the one reference.py gives, naming the
  same field or kept copy;
- every accepted record keeps its meaning: ids, text fields byte for byte
  (trimmed), status and outcome, numbers, input and attributes, timestamps
  in UTC.

A dbt build takes 10-20 s, so each example is a batch of many records and
there are few examples, derandomized so CI runs the same ones every time.
Lines may hold any bytes but LF (CR, NUL, bytes that are not UTF-8) and
integers may exceed 64 bits. A failing example keeps its folder; the message
names it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import reference
from conftest import DEFAULT_VARS, PROJECT_DIR, format_problems, run_dbt_build
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from raw_outcomes import (
    INTEGER_FIELDS,
    NUMBER_FIELDS,
    REJECTION_REASONS,
    TEXT_FIELDS,
    case_problems,
    read_outcomes,
    read_raw_records,
    reconciliation_problems,
)

EXAMPLES = 6
STATUS_VOCABULARY = sorted(
    pd.read_csv(PROJECT_DIR / "seeds" / "task_status_outcomes.csv", dtype=str)["raw_status"]
)
TASK_TYPES = sorted(
    set(pd.read_csv(PROJECT_DIR / "seeds" / "required_input_fields.csv", dtype=str)["task_type"])
)
# The optional text fields (task_run_id and task_type are drawn on their own).
OPTIONAL_TEXT_FIELDS = tuple(
    name for name in TEXT_FIELDS if name not in ("task_run_id", "task_type")
)
INT64 = {"min_value": -(2**63), "max_value": 2**63 - 1}
# Top-level integers also beyond 64 bits: the wrong type in an integer field,
# decimal text in a text field.
INTEGERS = st.one_of(st.integers(**INT64), st.integers(-(2**70), 2**70))

# ---------------------------------------------------------------------------
# Values

# Pieces that break naive quoting, trimming, splitting or templating.
ADVERSARIAL_PIECES = st.sampled_from(
    [
        "'",
        '"',
        "\\",
        "'; drop table marts.fct_task_runs; --",
        '"); delete from raw; --',
        "{{ var('raw_path') }}",
        "{% raw %}",
        "%s",
        "$1",
        "😀",
        "中文",
        "עברית",
        "Zoë",
        "\u202e",
        "\u00a0",
        "\u200b",
        "\u2028",
        "\u0000",
        " ",
        "\t",
        "\n",
        "\r",
        "\f",
        "\x0b",
        "and then",
        "?",
        ";",
    ]
)
# Any character a Python str can hold as UTF-8 (no lone surrogates).
PLAIN_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
TEXT = st.lists(st.one_of(PLAIN_TEXT, ADVERSARIAL_PIECES), max_size=5).map("".join)
NON_BLANK_TEXT = st.tuples(TEXT, st.text("abcXYZ019-_", min_size=1, max_size=6), TEXT).map("".join)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(**INT64),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(TEXT, children, max_size=3)
    ),
    max_leaves=8,
)
JSON_OBJECTS = st.dictionaries(TEXT, JSON_VALUES, max_size=5)


@st.composite
def valid_timestamps(draw: st.DrawFn) -> str:
    """ISO-8601 forms the contract accepts, in the past, with and without an offset."""
    moment = draw(
        st.datetimes(
            min_value=pd.Timestamp("2000-01-02").to_pydatetime(),
            max_value=pd.Timestamp("2025-12-30").to_pydatetime(),
        )
    )
    form = draw(st.sampled_from(["date", "minutes", "seconds", "fraction", "nanoseconds"]))
    separator = draw(st.sampled_from(["T", " "]))
    text = moment.strftime("%Y-%m-%d")
    if form != "date":
        text += separator + moment.strftime("%H:%M")
    if form in ("seconds", "fraction", "nanoseconds"):
        text += moment.strftime(":%S")
    if form == "fraction":
        text += moment.strftime(".%f")[: draw(st.integers(2, 7))]
    if form == "nanoseconds":
        text += moment.strftime(".%f") + "789"
    if form != "date":
        hours = draw(st.integers(-12, 14))
        minutes = draw(st.sampled_from([0, 30, 45]))
        sign = "-" if hours < 0 else "+"
        offset = draw(
            st.sampled_from(
                [
                    "",
                    "Z",
                    f"{sign}{abs(hours):02d}:{minutes:02d}",
                    f"{sign}{abs(hours):02d}{minutes:02d}",
                    f"{sign}{abs(hours):02d}",
                ]
            )
        )
        text += offset
    return text


BAD_TIMESTAMPS = st.one_of(
    st.sampled_from(
        [
            "2023-02-29",
            "2024-02-30T10:00:00Z",
            "2024-13-01",
            "2024-05-01T24:30:00Z",
            "2024-05-01T23:59:60Z",
            "2024-05-01T10:00:00z",
            "2024-5-1",
            "01/05/2024",
            "yesterday",
            "epoch",
            "infinity",
            "2024-05-01T10:00:00+0",
        ]
    ),
    TEXT,
)
FUTURE_TIMESTAMPS = st.sampled_from(["2999-01-01T00:00:00Z", "9999-12-31", "2500-06-01 12:00"])


@st.composite
def statuses(draw: st.DrawFn) -> Any:
    """A status of the vocabulary in any case, padded with whitespace."""
    status = draw(st.sampled_from(STATUS_VOCABULARY))
    status = "".join(
        character.upper() if upper else character
        for character, upper in zip(
            status,
            draw(st.lists(st.booleans(), min_size=len(status), max_size=len(status))),
            strict=True,
        )
    )
    padding = st.text(" \t\n\r\f", max_size=2)
    return draw(padding) + status + draw(padding)


def wrong_type_values(kind: str) -> st.SearchStrategy:
    """Values whose JSON kind the contract does not accept for `kind`."""
    containers = st.one_of(st.lists(JSON_SCALARS, max_size=2), JSON_OBJECTS)
    if kind == "text":
        return st.one_of(
            st.booleans(), st.floats(allow_nan=False, allow_infinity=False), containers
        )
    if kind == "integer":
        return st.one_of(
            st.booleans(), st.floats(allow_nan=False, allow_infinity=False), TEXT, containers
        )
    return st.one_of(st.booleans(), TEXT, containers)


# ---------------------------------------------------------------------------
# Records


@st.composite
def valid_records(draw: st.DrawFn, run_ids: list) -> dict:
    record: dict[str, Any] = {
        "task_run_id": draw(st.sampled_from(run_ids)),
        "task_type": draw(st.one_of(st.sampled_from(TASK_TYPES), NON_BLANK_TEXT)),
        "started_at": draw(valid_timestamps()),
        "status": draw(statuses()),
    }
    for field in OPTIONAL_TEXT_FIELDS:
        if draw(st.booleans()):
            record[field] = draw(st.one_of(TEXT, INTEGERS, st.none()))
    if draw(st.booleans()):
        record["finished_at"] = draw(st.one_of(valid_timestamps(), st.none()))
    for field in INTEGER_FIELDS:
        if draw(st.booleans()):
            record[field] = draw(st.one_of(INTEGERS, st.none()))
    for field in NUMBER_FIELDS:
        if draw(st.booleans()):
            record[field] = draw(
                st.one_of(
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.integers(**INT64),
                    st.none(),
                )
            )
    for field in ("input", "attributes"):
        if draw(st.booleans()):
            record[field] = draw(st.one_of(JSON_OBJECTS, JSON_OBJECTS.map(json.dumps), st.none()))
    # Fields in any order: the contract reads them by name.
    keys = draw(st.permutations(list(record)))
    return {key: record[key] for key in keys}


@st.composite
def broken_records(draw: st.DrawFn, run_ids: list) -> dict:
    """A valid record with one or two rules of section 2 broken (the first in
    the rules' order, or in the contract's field order, must name the rejection)."""
    record = draw(valid_records(run_ids))
    for rule in draw(st.lists(st.sampled_from(BREAKABLE_RULES), min_size=1, max_size=2)):
        break_rule(draw, record, rule)
    return record


# Rules 3-9: those a single record breaks by one of its fields.
BREAKABLE_RULES = REJECTION_REASONS[
    REJECTION_REASONS.index("invalid_type") : REJECTION_REASONS.index("duplicate_delivery")
]


def break_rule(draw: st.DrawFn, record: dict, rule: str) -> None:
    """Changes `record` so that it breaks `rule`."""
    if rule == "invalid_type":
        field, kind = draw(
            st.sampled_from(
                [
                    ("task_run_id", "text"),
                    ("task_type", "text"),
                    ("status", "text"),
                    ("started_at", "text"),
                    *((name, "text") for name in OPTIONAL_TEXT_FIELDS),
                    *((name, "integer") for name in INTEGER_FIELDS),
                    *((name, "number") for name in NUMBER_FIELDS),
                ]
            )
        )
        record[field] = draw(wrong_type_values(kind))
    elif rule == "missing_required_field":
        field = draw(st.sampled_from(["task_run_id", "task_type", "started_at", "status"]))
        if draw(st.booleans()):
            record.pop(field, None)
        else:
            record[field] = draw(st.sampled_from([None, "", " \t\r\n\f "]))
    elif rule == "unparseable_timestamp":
        record[draw(st.sampled_from(["started_at", "finished_at"]))] = draw(BAD_TIMESTAMPS)
    elif rule == "timestamp_in_future":
        record["started_at"] = draw(FUTURE_TIMESTAMPS)
    elif rule == "unknown_status":
        record["status"] = draw(st.one_of(NON_BLANK_TEXT, INTEGERS))
    else:
        field = "input" if rule == "input_not_an_object" else "attributes"
        record[field] = draw(
            st.one_of(
                st.lists(JSON_SCALARS, max_size=2),
                st.integers(**INT64),
                st.booleans(),
                TEXT,
                st.lists(JSON_SCALARS, max_size=2).map(json.dumps),
            )
        )


# Anything but a line feed, which ends the line.
LINE_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n"))
# Bytes that are mostly not UTF-8 (a Latin-1 producer, a binary file).
LINE_BYTES = st.binary(min_size=1, max_size=40).map(lambda line: line.replace(b"\n", b""))


@st.composite
def raw_lines(draw: st.DrawFn, run_ids: list) -> tuple[str, Any]:
    """('record', dict) to be written as JSON, or ('line', text or bytes) written as is."""
    kind = draw(
        st.sampled_from(
            ["valid"] * 7 + ["broken"] * 4 + ["truncated", "not_object", "text", "bytes"]
        )
    )
    if kind == "valid":
        return "record", draw(valid_records(run_ids))
    if kind == "broken":
        return "record", draw(broken_records(run_ids))
    if kind == "truncated":
        text = json.dumps(draw(valid_records(run_ids)))
        return "line", text[: draw(st.integers(1, len(text) - 1))]
    if kind == "not_object":
        value = draw(st.one_of(st.lists(JSON_SCALARS, max_size=3), JSON_SCALARS))
        return "line", json.dumps(value)
    if kind == "bytes":
        return "line", draw(LINE_BYTES)
    return "line", draw(LINE_TEXT)


def render(item: tuple[str, Any], style: int) -> bytes:
    """A record as one JSONL line; `style` varies whitespace and escaping only."""
    kind, value = item
    if kind == "line":
        return value if isinstance(value, bytes) else value.encode("utf-8")
    separators = [(",", ":"), (", ", ": "), (" ,  ", " :\t")][style % 3]
    return json.dumps(value, separators=separators, ensure_ascii=style % 2 == 0).encode("utf-8")


@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, bytes]:
    """Two JSONL files (name -> content) of one delivery."""
    run_ids = draw(
        st.lists(
            st.one_of(NON_BLANK_TEXT, st.integers(-1000, 10**12)),
            min_size=20,
            max_size=40,
            unique_by=lambda value: str(value).strip(" \t\n\r\f"),
        )
    )
    items = draw(st.lists(raw_lines(run_ids), min_size=25, max_size=45))
    lines = [render(item, draw(st.integers(0, 5))) for item in items]
    # Redeliveries: exact copies and whitespace variants of earlier records, later on.
    for _ in range(draw(st.integers(5, 20))):
        source = draw(st.integers(0, len(items) - 1))
        line = render(items[source], draw(st.integers(0, 5)))
        lines.insert(draw(st.integers(source + 1, len(lines))), line)
    for _ in range(draw(st.integers(0, 5))):
        lines.insert(
            draw(st.integers(0, len(lines))), draw(st.text(" \t\f\r", max_size=3)).encode()
        )
    split = draw(st.integers(0, len(lines)))
    return {
        "task_runs_1.jsonl": b"\n".join(lines[:split]),
        "task_runs_2.jsonl": b"\n".join(lines[split:]) + b"\n",
    }


# ---------------------------------------------------------------------------
# The oracle: reference.py for outcomes, reasons, timestamps and outcomes;
# the raw record itself for every other field (raw_outcomes.case_problems)


def reference_expectations(folder: Path, now) -> dict[tuple[str, int], dict]:
    status_map = pd.read_csv(PROJECT_DIR / "seeds" / "task_status_outcomes.csv", dtype=str)
    accepted, rejected = reference.validate(
        reference.load_raw(folder),
        status_map,
        now=now,
        max_clock_skew_hours=DEFAULT_VARS["max_clock_skew_hours"],
    )
    expectations: dict[tuple[str, int], dict] = {}
    for run in accepted.to_dict("records"):
        expectations[(run["source_file"], int(run["record_number"]))] = {
            "accepted": {
                "task_run_id": run["task_run_id"],
                "outcome": run["outcome"],
                "started_at": run["started_at"].isoformat(sep=" "),
                "finished_at": (
                    None if pd.isna(run["finished_at"]) else run["finished_at"].isoformat(sep=" ")
                ),
            }
        }
    for row in rejected.to_dict("records"):
        case = {"rejected": row["rejection_reason"]}
        detail = row["rejection_detail"]
        if row["rejection_reason"] in ("duplicate_delivery", "conflicting_duplicate"):
            # The kept copy's file:line, the detail's last word.
            case["detail"] = detail.rsplit(" ", 1)[-1]
        elif row["rejection_reason"] != "unknown_status" and isinstance(detail, str):
            # The field named (reference.py may add ': value' after it).
            case["detail"] = detail.split(":")[0]
        expectations[(row["source_file"], int(row["record_number"]))] = case
    return expectations


@pytest.fixture(scope="module")
def delivery_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("raw_properties")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # A failing example is reported as generated: shrinking would cost a build per step.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(delivery=deliveries())
def test_generated_deliveries_keep_the_raw_contract(delivery, delivery_root):
    example = Path(tempfile.mkdtemp(prefix="example_", dir=delivery_root))
    folder = example / "raw"
    folder.mkdir()
    for name, content in delivery.items():
        (folder / name).write_bytes(content)
    build = run_dbt_build(folder, example / "work")
    assert not build.unexpected_failures() and build.db_path.exists(), (
        f"raw folder {folder}\n{build.describe()}"
    )

    outcomes = read_outcomes(build)
    records, _ = read_raw_records(folder)
    problems = reconciliation_problems(outcomes, records)
    fct = build.table("marts.fct_task_runs")
    if int(fct["attempt_count"].sum()) != len(outcomes.accepted):
        problems.append(
            f"fct_task_runs counts {int(fct['attempt_count'].sum())} runs, "
            f"{len(outcomes.accepted)} accepted"
        )
    reasons = [row["rejection_reason"] for row in outcomes.rejected.values()]
    problems += [
        f"unknown rejection reason {reason!r}"
        for reason in reasons
        if reason not in REJECTION_REASONS
    ]
    for location, expected in sorted(reference_expectations(folder, build.started_at).items()):
        problems += case_problems(
            outcomes, records.get(location), location, expected, require_task=False
        )
    assert not problems, f"raw folder {folder}\n" + format_problems(problems)
