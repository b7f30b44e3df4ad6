"""Saved JSON reports read back into the model: size-capped, schema-checked, ids checked against their fields.

A report of another schema version is refused, never guessed at: fields may have changed meaning. The schema is
checked by a compiled check (auditor.report.schema_check), made once; only a report that fails it is walked again by
jsonschema, whose message names the first problem.

A report is parsed by orjson (half the work of json.loads) where orjson gives what json.loads gives; json.loads parses
the rest (one that may hold an integer past 64 bits, which orjson reads as a float: any number of 19 digits or more;
what orjson refuses: NaN, a number too large for a float, a byte order mark, UTF-16, a lone surrogate, nesting past
1,024 levels) and words every refusal: a report refused after orjson parsed it is parsed again by json.loads, whose
data is the one refused.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterator, NoReturn, Union

from auditor.inputs import read_input
from auditor.model import READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION, Report, component_id, finding_id

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

    from auditor.report.schema_check import Check

MAX_BYTES = 64 * 1024 * 1024
# A report the auditor writes nests a handful of levels; the renderers and the merge recurse on what they read,
# so a deeper one (hand-made) is refused on load rather than left to exhaust Python's recursion limit.
MAX_NESTING = 64
# Only a \uD800-\uDFFF escape, or its three bytes written raw (ED A0..BF ..: json.loads of bytes decodes with
# surrogatepass), can make a lone surrogate; a report without either needs no walk.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


class SavedReportError(Exception):
    """A file that is not a report this auditor can read; the message names the file and why."""


def load_data(path: str, limit: int = MAX_BYTES) -> dict[str, Any]:
    """The report as JSON data, checked against the published schema."""
    raw = read_input(path, limit, SavedReportError)
    data = _parsed_by_orjson(raw)
    if data is not None:
        try:
            return _checked(data, path)
        except SavedReportError:
            pass  # json.loads may refuse it first (nested past Python's recursion limit): its refusal is the one given
    return _checked(_parsed_by_json(raw, path), path)


# orjson reads an integer past 64 bits as a float, where json.loads gives the int. Such an integer's digits (19 or more)
# follow a byte a JSON number can follow ('-', ':', '[', ',', whitespace) or start the text: translated (digits to
# "0", those bytes to a space, all others to themselves), the text holds " " and 19 zeros, or starts with 19 zeros.
# Digits inside a string follow a quote or a letter mostly (a sha256 of zeros), and leave orjson its report.
_NUMBER_DIGITS = bytes.maketrans(b"123456789-:[,\t\r\n", b"000000000" + b" " * 7)
_LONG_DIGITS = b"0" * 19
_LONG_NUMBER = b" " + _LONG_DIGITS


def _parsed_by_orjson(raw: bytes) -> Any:
    """The JSON data orjson reads, where it reads what json.loads would; else (and for null) None."""
    loads = _orjson_loads()
    if _may_hold_long_integer(raw):
        return None
    try:
        return loads(raw)
    except ValueError:  # orjson.JSONDecodeError: whatever orjson refuses, json.loads decides on
        return None


def _may_hold_long_integer(raw: bytes) -> bool:
    # a bytearray's translate costs a fifth less than bytes' (it does not look for an unchanged text), copy included;
    # the translation is let go before the parse
    digits = bytearray(raw).translate(_NUMBER_DIGITS)
    return _LONG_NUMBER in digits or digits.startswith(_LONG_DIGITS)


@lru_cache(maxsize=1)
def _orjson_loads() -> Callable[[bytes], Any]:
    import orjson  # here: it imports uuid and more, which only reading a report needs

    return orjson.loads


def _parsed_by_json(raw: bytes, path: str) -> Any:
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except ValueError as exc:  # not UTF-8, not JSON, NaN, an integer of more than 4,300 digits
        raise SavedReportError(f"{path}: not valid JSON ({exc})") from exc
    except RecursionError:  # nested far deeper still: the parser ran out of stack first
        raise SavedReportError(_too_deep(path)) from None
    # orjson refuses both forms of a lone surrogate; json.loads reads them.
    # Both forms start with a backslash or the byte ED; most reports hold neither, and `in` finds that fastest.
    suspect = ((b"\\" in raw and b"\\u" in raw) or b"\xed" in raw) and _SURROGATE_ESCAPE.search(raw)
    lone = _lone_surrogate(data) if suspect else None
    if lone is not None:
        shown = lone.encode("utf-8", "backslashreplace").decode("utf-8")
        raise SavedReportError(f"{path}: {shown[:80]!r} holds a lone surrogate, which is not Unicode text "
                               f"and cannot be written out: not a report the auditor wrote")
    return data


def _checked(data: Any, path: str) -> dict[str, Any]:
    if not isinstance(data, dict) or "schema_version" not in data:
        raise SavedReportError(f"{path}: no schema_version: not an auditor JSON report")
    version = data["schema_version"]
    if version not in READABLE_SCHEMA_VERSIONS:
        *earlier, last = map(repr, READABLE_SCHEMA_VERSIONS)
        readable = f"{', '.join(earlier)} and {last}" if earlier else last
        raise SavedReportError(f"{path}: schema_version {version!r}; this auditor reads schema_version {readable} only "
                               f"(re-run the scan with this auditor, or use the auditor that wrote it)")
    problem = "" if _check()(data) else _first_schema_error(data)
    if problem:
        raise SavedReportError(f"{path}: does not follow the report schema {SCHEMA_VERSION}: {problem}")
    # The schema bounds the depth of all but its open parts (checked here, after it): walking only those is a
    # fraction of walking the whole report.
    # The parts of one level are walked together, as the items of one list (a level above them): one walk, not one
    # for each component's details.
    by_level: dict[int, list[Any]] = {}
    for value, level in open_parts(data):
        by_level.setdefault(level, []).append(value)
    if any(_nested_deeper(values, MAX_NESTING - level + 2) for level, values in by_level.items()):
        raise SavedReportError(_too_deep(path))
    return data


def open_parts(data: dict[str, Any]) -> Iterator[tuple[Any, int]]:
    """The values of a report the schema lets hold anything (objects of any keys, nested as deep as they like), each
    with its level (the report itself is level 1); tests/test_saved_reports.py checks this list against the schema."""
    if "run" in data:
        yield data["run"], 2
    for section, key in (("targets", "details"), ("components", "details"), ("findings", "waiver")):
        for item in data[section]:
            if key in item:
                yield item[key], 4


def _lone_surrogate(data: object) -> str | None:
    """The first string (key or value) that holds a lone surrogate; walked without recursion."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return value
        elif isinstance(value, dict):
            pending += [*value, *value.values()]
        elif isinstance(value, list):
            pending += value
    return None


def _too_deep(path: str) -> str:
    return f"{path}: objects and arrays nested more than {MAX_NESTING} levels deep: not a report the auditor wrote"


def _nested_deeper(data: object, limit: int) -> bool:
    """Whether any object or array lies more than `limit` levels down (the top one is level 1); walked a level at a
    time, without recursion."""
    containers: list[Union[dict[Any, Any], list[Any]]] = [data] if isinstance(data, (dict, list)) else []
    level = 1
    while containers:
        if level > limit:
            return True
        below: list[Union[dict[Any, Any], list[Any]]] = []
        for container in containers:
            below += [child for child in (container.values() if isinstance(container, dict) else container)
                      if isinstance(child, (dict, list))]
        level, containers = level + 1, below
    return False


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not a JSON value")


def load_report(path: str, limit: int = MAX_BYTES) -> Report:
    return report_from_data(load_data(path, limit), path)


def report_from_data(data: dict[str, Any], path: str) -> Report:
    """The model of checked data. Ids are derived from fields, so a hand-edited field shows as a mismatch."""
    check_ids(data, path)
    try:
        return Report.from_dict(data)
    except TypeError as exc:  # a field the model needs that the schema leaves out
        raise SavedReportError(f"{path}: a field the auditor writes is missing ({exc})") from None


def check_ids(data: dict[str, Any], path: str) -> None:
    """Each component's and finding's id is the one its fields make, and each finding's component is in the report;
    every component has a version (null where it has none: the schema lets it out, the model needs it)."""
    ids = set()
    for component in data["components"]:
        if "version" not in component:
            raise SavedReportError(f"{path}: a field the auditor writes is missing (component {component['id']} has no "
                                   f"version; null where it has none)")
        made = component_id(component["kind"], component["name"], component["version"], component["location"],
                            component.get("line"), component["source"], component.get("host"))
        if component["id"] != made:
            raise SavedReportError(f"{path}: component {component['id']} does not match its fields (edited after the scan?)")
        ids.add(made)
    for finding in data["findings"]:
        if finding["id"] != finding_id(finding["rule"], finding["component"]) or finding["component"] not in ids:
            raise SavedReportError(f"{path}: finding {finding['id']} does not match its rule and component "
                                   f"(edited after the scan?)")


def _first_schema_error(data: dict[str, Any]) -> str:
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is None:
        return ""
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    return f"at {where}: {error.message[:300]}"


@lru_cache(maxsize=1)
def _check() -> Check:
    from auditor.report.json_report import schema
    from auditor.report.schema_check import compile_schema

    return compile_schema(schema())


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    from auditor.report.json_report import schema

    return Draft202012Validator(schema())
