"""Reading export files into numbered records, and small value helpers the importers share."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import raw_contract as contract
from tqdm import tqdm

from importers.contract_writer import ImportInputError

TRUE_TEXTS = {"true", "t", "yes", "y", "1", "pass", "passed"}
FALSE_TEXTS = {"false", "f", "no", "n", "0", "fail", "failed"}


@dataclass(frozen=True)
class RawRecord:
    """One record of an export: its 1-based number, the parsed value, or the error and raw text."""

    number: int
    value: Any = None
    error: str | None = None
    text: str | None = None


def read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise ImportInputError(f"{path} does not exist") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ImportInputError(f"cannot read {path}: {error}") from error


def json_records(path: Path, list_keys: Sequence[str] = ("data",)) -> list[RawRecord]:
    """The records of a JSON or JSONL export.

    A file that is one JSON document gives: its elements when it is an array, the elements of
    its first key in `list_keys` holding an array (an API page such as ``{"data": [...]}``),
    else the document itself. Otherwise it is read as JSONL: one record per non-blank line, a
    line that is not JSON being a record with an error."""
    text = read_text(path)
    if not text.strip():
        return []
    try:
        document = contract.parse_json(text)
    except ValueError:
        document = None
    else:
        if isinstance(document, list):
            return [RawRecord(number, item) for number, item in enumerate(document, start=1)]
        if isinstance(document, dict):
            for key in list_keys:
                if isinstance(document.get(key), list):
                    return [
                        RawRecord(number, item)
                        for number, item in enumerate(document[key], start=1)
                    ]
        return [RawRecord(1, document)]
    records = []
    for line in text.splitlines():
        if not line.strip(contract.WHITESPACE):
            continue
        number = len(records) + 1
        try:
            records.append(RawRecord(number, contract.parse_json(line)))
        except ValueError as error:
            records.append(RawRecord(number, error=f"not JSON: {error}", text=line))
    return records


def csv_records(path: Path) -> tuple[list[str], list[RawRecord]]:
    """Header and rows (dicts of text) of a CSV file; a row with more cells than the header is
    a record with an error."""
    text = read_text(path)
    reader = csv.DictReader(text.splitlines(), restkey="\x00extra")
    header = list(reader.fieldnames or [])
    if not header:
        raise ImportInputError(f"{path} has no header row")
    records = []
    for number, row in enumerate(reader, start=1):
        if "\x00extra" in row:
            records.append(
                RawRecord(number, error="more cells than the header", text=",".join(map(str, row)))
            )
        else:
            records.append(RawRecord(number, row))
    return header, records


def progress(records: Sequence[Any], description: str) -> Iterator[Any]:
    """`records` with a progress bar on a terminal when there are many (silent otherwise)."""
    return iter(
        tqdm(records, desc=description, unit="rec", disable=None if len(records) > 20000 else True)
    )


def first_present(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key that is present and not null or blank."""
    for key in keys:
        value = mapping.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        return value
    return None


def as_mapping(value: Any) -> dict[str, Any]:
    """An object, or the object a JSON text holds; {} otherwise."""
    parsed = contract.as_object(value)
    return parsed if isinstance(parsed, dict) else {}


def as_string_list(value: Any) -> list[str]:
    """A list of strings, or the list a JSON text holds; [] otherwise."""
    if isinstance(value, str):
        try:
            value = contract.parse_json(value)
        except ValueError:
            return [value] if value.strip() else []
    if isinstance(value, list):
        return [str(item).strip() for item in value if item is not None and str(item).strip()]
    return []


def tags_to_attributes(tags: Sequence[str]) -> dict[str, Any]:
    """Tags as attributes: ``key:value`` / ``key=value`` tags as that key; all of them, sorted
    and comma-joined, as ``tags`` (so each tag set is a segment)."""
    attributes: dict[str, Any] = {}
    for tag in tags:
        match = re.match(r"^([A-Za-z][A-Za-z0-9_.-]*)[:=](.+)$", tag)
        if match:
            attributes.setdefault(match.group(1), match.group(2).strip())
    if tags:
        attributes["tags"] = ",".join(sorted(set(tags)))
    return attributes


def as_score(value: Any) -> float | None:
    """A numeric reading of a score or flag: numbers, booleans, and texts such as ``0.8``,
    ``true``/``false``, ``yes``/``no``, ``pass``/``fail``; None when it has none."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if contract.is_integer(value) or isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_TEXTS:
            return 1.0
        if text in FALSE_TEXTS:
            return 0.0
        try:
            return float(text)
        except ValueError:
            return None
    return None


def error_class(message: Any) -> str | None:
    """The exception class at the start of an error message (``ValueError('x')`` ->
    ``ValueError``); else the message's first line, cut to 80 characters."""
    if not isinstance(message, str) or not message.strip():
        return None
    first_line = message.strip().splitlines()[0]
    match = re.match(r"^([A-Za-z_][\w.]*)\s*[(:]", first_line)
    if match:
        return match.group(1).rsplit(".", 1)[-1]
    return first_line[:80]
