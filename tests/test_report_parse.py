"""A saved report parsed by orjson where orjson reads what json.loads reads, by json.loads elsewhere: load_data gives
the data json.loads alone gives (the same types, key order and float reprs), or the same refusal, word for word."""

import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from fuzzing import fuzz
from auditor.report import saved
from auditor.report.saved import SavedReportError, load_data

GOLDEN = Path(__file__).parent / "golden" / "site-packages-py3-old-botocore.json"
LONG = "1234567890123456789"  # 19 digits: as an integer's, or longer, the most orjson could misread


def same(a, b) -> bool:
    """Equal as parsed JSON is: the same types throughout, keys in the same order, floats of the same repr (-0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return a == b


def by_json(raw: bytes):
    return json.loads(raw, parse_constant=saved._not_json)


def outcome(path):
    try:
        return "data", load_data(str(path))
    except SavedReportError as exc:
        return "refused", str(exc)


def outcome_by_json_alone(path):
    """load_data as it was before orjson: json.loads parses every report."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(saved, "_parsed_by_orjson", lambda raw: None)
        return outcome(path)


def assert_as_json_alone(path):
    got, expected = outcome(path), outcome_by_json_alone(path)
    assert got[0] == expected[0], (got, expected)
    assert same(got[1], expected[1]), (got, expected)
    return got


@lru_cache(maxsize=1)
def report_text() -> str:
    """A report load_data accepts, written with a placeholder in its run (a part the schema leaves open)."""
    data = json.loads(GOLDEN.read_text())["report"]
    data["generated_at"] = "2026-12-01T00:00:00Z"
    data["run"]["x"] = "@VALUE@"
    return json.dumps(data, indent=2)


def report_holding(tmp_path, value: str | bytes, name="report.json"):
    text = report_text().encode()
    path = tmp_path / name
    path.write_bytes(text.replace(b'"@VALUE@"', value.encode() if isinstance(value, str) else value))
    return path


# -- documents written in every form json.dumps writes, and a few it does not, then edited byte by byte -------------

class Pairs(tuple):
    """An object as its (key, value) pairs: a key may come twice."""


class Raw(str):
    """A value written as it is: numbers as no Python float writes them, constants json.loads reads and JSON has not."""


RAW_NUMBERS = st.builds(
    lambda sign, whole, fraction, exponent: f"{sign}{whole}{fraction}{exponent}",
    st.sampled_from(["", "-"]),
    st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,24}", fullmatch=True)),
    st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,40}", fullmatch=True)),
    st.one_of(st.just(""), st.from_regex(r"[eE][-+]?[0-9]{1,3}", fullmatch=True),
              st.sampled_from(["e400", "E-400", "e308", "e-324", "e0000000000000000000000005"])))

# Integers of 18 to 22 digits, either sign: those orjson reads as json.loads does (to 2**64 - 1 and from -2**63) and
# those it would make floats of.
WIDE_INTEGERS = st.builds(lambda digits, start, sign: sign * int(start + "0" * (digits - len(start))),
                          st.sampled_from([18, 19, 19, 20, 20, 21, 22]), st.from_regex(r"[1-9][0-9]{0,17}", fullmatch=True),
                          st.sampled_from([1, -1]))

NUMBERS = st.one_of(
    WIDE_INTEGERS, WIDE_INTEGERS, st.integers(), st.integers(-2 ** 70, 2 ** 70),
    st.sampled_from([2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64, -2 ** 63, -2 ** 63 - 1, 10 ** 19, -10 ** 18, -10 ** 19]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e-7, 1e16, -0.0, 0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e22, 0.1,
                     9.223372036854776e18, 1.8446744073709552e19, 123456789012345678.0]),
    RAW_NUMBERS.map(Raw))

SCALARS = st.one_of(
    NUMBERS, NUMBERS, st.none(), st.booleans(),
    st.text(max_size=8), st.text(st.characters(min_codepoint=0x10000), max_size=3),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2),  # lone surrogates, or a pair split in two
    st.sampled_from(["0" * 64, "-" + LONG + "0", ":" + LONG, "[" + LONG, " " + LONG + "00", "\U0001f600", "\x00\x1f\x7f",
                     "\ufeff", "\u2028", "\\u0041"]),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1" * 4400]).map(Raw))

KEYS = st.one_of(st.sampled_from(["a", "b", "0" * 40, "\U0001f600"]), st.text(max_size=4))



def nested(leaves, size=4):
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=size), st.lists(st.tuples(KEYS, inner), max_size=size).map(Pairs)), max_leaves=3 * size)


DOCUMENTS = nested(SCALARS)


class Style(NamedTuple):
    ensure_ascii: bool
    indent: str | None  # None: on one line
    newline: str  # json.dumps writes "\n"; JSON lets "\r" and "\r\n" stand for it
    item_separator: str
    key_separator: str


STYLES = st.builds(Style, st.booleans(), st.sampled_from([None, "", " ", "  ", "\t"]), st.sampled_from(["\n", "\r\n", "\r"]),
                   st.sampled_from([", ", ","]), st.sampled_from([": ", ":"]))


def written(node, style: Style, level: int = 1) -> str:
    """`node` as json.dumps writes it in `style`, but for a key written twice or a Raw."""
    if isinstance(node, Raw):
        return str(node)
    if not isinstance(node, (list, Pairs)):
        return json.dumps(node, ensure_ascii=style.ensure_ascii)
    if isinstance(node, Pairs):
        parts = [json.dumps(key, ensure_ascii=style.ensure_ascii) + style.key_separator + written(value, style, level + 1)
                 for key, value in node]
        opening, closing = "{}"
    else:
        parts = [written(value, style, level + 1) for value in node]
        opening, closing = "[]"
    if not parts:
        return opening + closing
    if style.indent is None:
        return opening + style.item_separator.join(parts) + closing
    inside, outside = style.newline + style.indent * level, style.newline + style.indent * (level - 1)
    return opening + inside + ("," + inside).join(parts) + outside + closing


EDIT_BYTES = [b"0", b"9", b"-", b'"', b"\\", b",", b":", b"[", b"]", b"{", b"}", b" ", b"\n", b"\t", b"\r", b"e", b".", b"+",
              b"\x00", b"\x1f", b"\x0c", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xff", b"\\ud800", b"\\udc00", LONG.encode(),
              b"NaN", b"1e400", b'"a": 1, "a"']


@st.composite
def edited(draw, raw: bytes) -> bytes:
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):  # none in half the documents: orjson reads those
        at = draw(st.integers(0, len(raw)))
        change = draw(st.sampled_from(["insert", "delete", "replace"]))
        if change == "delete":
            raw = raw[:at] + raw[at + draw(st.integers(1, 3)):]
        else:
            raw = raw[:at] + draw(st.sampled_from(EDIT_BYTES)) + raw[at + (change == "replace"):]
    return raw


LEADING_SPACE = st.sampled_from(["", " ", "\n", "\t", "\r\n"])


@st.composite
def documents(draw) -> bytes:
    text = draw(LEADING_SPACE) + written(draw(DOCUMENTS), draw(STYLES))
    encoding = draw(st.sampled_from(["utf-8"] * 12 + ["utf-8-sig", "utf-16", "utf-16-be", "utf-32-le"]))
    return draw(edited(text.encode(encoding, "surrogatepass")))


@fuzz
@given(documents())
def test_orjson_reads_what_json_loads_reads_or_is_not_used(raw):
    parsed = saved._parsed_by_orjson(raw)
    event("read by orjson" if parsed is not None else "left to json.loads")
    if parsed is not None:
        assert same(parsed, by_json(raw))


HOLE = Raw("HOLE")
SHORT_NUMBERS = st.one_of(st.integers(-10 ** 17, 10 ** 17), st.floats(allow_nan=False, allow_infinity=False))
# The bytes right before a number, by each byte a number can follow, and what closes the container it opens
PLACES = [("", ""), (" ", ""), ("\t", ""), ("\n", ""), ("\r", ""), ("\r\n ", ""), ("[", "]"), ("[0,", "]"), ("[0, ", "]"),
          ("[\n", "\n]"), ("[\r", "\r]"), ("[\t", "]"), ('{"a":', "}"), ('{"a": ', "}"), ('{"a":\t', "}"), ("[0,\r\n", "]")]


@fuzz
@given(nested(st.one_of(st.just(HOLE), SHORT_NUMBERS)), STYLES, st.from_regex(r"[1-9][0-9]{21}", fullmatch=True))
def test_an_integer_orjson_could_misread_is_left_to_json_loads_wherever_it_stands(document, style, digits):
    """An integer of 18 to 22 digits, of either sign, after each byte a number can follow, in the document's first hole
    (or as the document, where it has none); the document's other numbers too short to be told from."""
    text = written(document, style)
    for opening, closing in PLACES:
        for number in (sign + digits[:width] for sign in ("", "-") for width in (18, 19, 20, 22)):
            placed = opening + number + closing
            raw = (text.replace(HOLE, placed, 1).replace(HOLE, "0") if HOLE in text else placed).encode()
            parsed = saved._parsed_by_orjson(raw)
            if parsed is not None:
                assert same(parsed, by_json(raw)), raw


@fuzz
@given(st.data())
def test_load_data_gives_what_json_loads_alone_gives(tmp_path_factory, data):
    value = written(data.draw(DOCUMENTS), data.draw(STYLES), 3)
    raw = data.draw(edited(value.encode("utf-8", "surrogatepass")))  # mostly the value edited: the report stays one
    path = report_holding(tmp_path_factory.mktemp("parse"), raw)
    if data.draw(st.integers(0, 4)) == 0:  # now and then the whole file, its start and its end
        path.write_bytes(data.draw(edited(path.read_bytes())))
    parser = "orjson" if saved._parsed_by_orjson(path.read_bytes()) is not None else "json.loads"
    event(f"{assert_as_json_alone(path)[0]}, parsed by {parser}")


# -- each way orjson reads otherwise than json.loads, in a report ---------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("18446744073709551616", 2 ** 64),  # orjson: 1.8446744073709552e+19
    ("-9223372036854775809", -2 ** 63 - 1),
    ("99999999999999999999", 10 ** 20 - 1),
    ("[1, 18446744073709551616]", [1, 2 ** 64]),
    ('{"n":\t-99999999999999999999}', {"n": -10 ** 20 + 1}),
    ("18446744073709551615", 2 ** 64 - 1),  # orjson's own range: both read the int
    ("-9223372036854775808", -2 ** 63),
    ("1e400", float("inf")),  # orjson refuses it
    ("-1e400", float("-inf")),
    ("1" + "0" * 400, 10 ** 400),
    ("1.7976931348623159e308", float("inf")),
    ("1.7976931348623158e308", 1.7976931348623157e308),
    ("1e-400", 0.0), ("-1e-400", -0.0), ("-0", 0), ("-0.0", -0.0), ("0e0", 0.0), ("1E5", 100000.0), ("1e-7", 1e-7),
    ("1e0000000000000000000000005", 100000.0),
    ("0.1000000000000000055511151231257827021181583404541015625", 0.1),
    ("9007199254740993.0", 9007199254740992.0),
    ('{"a": 1, "b": 2, "a": 3}', {"a": 3, "b": 2}),  # the last of a key kept, at the first one's place
    ('"\\ud83d\\ude00 \\u00e9 \\/"', "\U0001f600 \u00e9 /"),
    ('"\U0001f600\u2028\ufeff\x7f"', "\U0001f600\u2028\ufeff\x7f"),
    ('"\\u0000"', "\x00"),
    ('"' + "0" * 64 + '"', "0" * 64),
])
def test_a_value_orjson_could_misread_is_read_as_json_loads_reads_it(tmp_path, value, expected):
    kind, data = assert_as_json_alone(report_holding(tmp_path, value))
    assert kind == "data" and same(data["run"]["x"], expected)


@pytest.mark.parametrize("value, message", [
    ("NaN", "not valid JSON (NaN is not a JSON value)"),
    ("Infinity", "not valid JSON (Infinity is not a JSON value)"),
    ("-Infinity", "not valid JSON (-Infinity is not a JSON value)"),
    ("1" * 4400, "not valid JSON (Exceeds the limit (4300 digits) for integer string conversion"),
    ('"\\ud800"', "holds a lone surrogate"),
    ('"\\udc00\\ud83d"', "holds a lone surrogate"),
    ('{"\\ud800": 1}', "holds a lone surrogate"),
    (b'"\xed\xa0\x80"', "holds a lone surrogate"),  # its three bytes written raw
    (b'"\xed\xa0\xbd\xed\xb8\x80"', "holds a lone surrogate"),  # a pair, each half written raw (CESU-8)
    (b'"\xff"', "not valid JSON ('utf-8' codec can't decode byte 0xff"),
    (b'"\xc0\x80"', "not valid JSON ('utf-8' codec can't decode byte 0xc0"),
    (b'"\x01"', "not valid JSON (Invalid control character at"),
    ("[1,]", "not valid JSON (Expecting value"),
    ("01", "not valid JSON (Expecting ',' delimiter"),
    ("[" * 1100 + "]" * 1100, "nested more than 64 levels deep"),  # past orjson's limit (1,024)
    ("[" * 1000 + "]" * 1000, "nested more than 64 levels deep"),  # orjson reads it; json.loads may run out of stack
    ("[" * 100 + "]" * 100, "nested more than 64 levels deep"),
])
def test_what_json_loads_refuses_is_refused_in_its_words(tmp_path, value, message):
    kind, text = assert_as_json_alone(report_holding(tmp_path, value))
    assert kind == "refused" and message in text


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-32", "utf-32-be"])
def test_a_report_with_a_byte_order_mark_or_in_utf_16_or_32_reads_as_json_loads_reads_it(tmp_path, encoding):
    plain = load_data(str(report_holding(tmp_path, "1")))
    path = tmp_path / "encoded.json"
    path.write_bytes(report_holding(tmp_path, "1").read_text().encode(encoding))
    kind, data = assert_as_json_alone(path)
    assert kind == "data" and data == plain
    assert saved._parsed_by_orjson(path.read_bytes()) is None  # orjson refuses it: json.loads reads it


@pytest.mark.parametrize("document", [
    "[" * 1000 + "]" * 1000, "[" * 1100 + "]" * 1100, '{"a": ' * 995 + "1" + "}" * 995, "[1, 2]", "null", '"x"'])
def test_a_document_not_a_report_is_refused_as_json_loads_alone_refuses_it(tmp_path, document):
    path = tmp_path / "document.json"
    path.write_text(document)
    assert assert_as_json_alone(path)[0] == "refused"


@pytest.mark.parametrize("text", [
    LONG, "-" + LONG, "[" + LONG + "]", "[1," + LONG + "]", '{"a":' + LONG + "}", '{"a": -' + LONG + "}",
    " " + LONG, "\t" + LONG, "\n" + LONG, "\r" + LONG, "[\n  " + LONG + "\n]", LONG + ".5", "-" + LONG + "e-5"])
def test_a_number_of_19_digits_or_more_wherever_it_can_stand_is_left_to_json_loads(text):
    assert saved._parsed_by_orjson(text.encode()) is None


@pytest.mark.parametrize("text", [
    '{"sha256": "' + "0" * 64 + '"}', '["abc' + LONG + '"]', '{"' + LONG + '": 123456789012345678}',
    "[-123456789012345678, 0." + LONG + "1, 1e+" + "0" * 20 + "5]"])
def test_digits_in_strings_and_numbers_orjson_reads_exactly_leave_orjson_the_report(text):
    raw = text.encode()
    assert saved._parsed_by_orjson(raw) is not None and same(saved._parsed_by_orjson(raw), by_json(raw))


def test_reading_no_report_imports_no_orjson():
    code = "import sys, auditor.report.saved; print('orjson' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
