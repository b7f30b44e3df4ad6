"""Saved JSON reports: rendered again exactly, merged across hosts, compared, signed and verified."""

import json
import os
import platform
import stat
from functools import lru_cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ENVS, FIXTURES, Result, run
from fuzzing import containers, fuzz
from auditor import model
from auditor.report.saved import SavedReportError, load_data

OLD = ENVS / "py3-old-botocore"
MODERN = ENVS / "py3-venv"


def saved_scan(tmp_path, name, *targets, host=None, monkeypatch=None, codes=(0, 1)):
    if host:
        monkeypatch.setattr(platform, "node", lambda: host)
        monkeypatch.setattr(model, "host_name", lambda: host)
    path = tmp_path / name
    result = run("scan", "-q", "--format", "json", "-o", path, *targets)
    assert result.code in codes, result.err
    return path


def test_render_json_gives_back_the_saved_bytes_and_table_matches_a_scan(tmp_path):
    saved = saved_scan(tmp_path, "scan.json", OLD)
    rendered = run("report", "render", saved, "--format", "json")
    assert rendered.code == 1  # the saved fail_on (high) still applies
    assert rendered.out == saved.read_text()  # run, generated_at and ids kept: nothing re-derived
    assert run("report", "render", saved).out == run("scan", "-q", OLD).out
    assert run("report", "render", saved, "--fail-on", "critical").code == 0


def test_render_writes_other_formats_to_a_file(tmp_path):
    saved = saved_scan(tmp_path, "scan.json", OLD)
    out = tmp_path / "scan.txt"
    result = run("report", "render", saved, "-o", out, "--width", "200")
    assert result.code == 1 and "report written to" in result.err
    assert "botocore 0.21.0 was released before 2013-10-29" in out.read_text()


def edited(tmp_path, saved, change):
    data = json.loads(saved.read_text())
    change(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data, indent=2))
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(schema_version="2.0"), "schema_version '2.0'; this auditor reads schema_version '1.0', '1.1', '1.2' and '1.3' only"),
    (lambda d: d.pop("schema_version"), "no schema_version: not an auditor JSON report"),
    (lambda d: d["findings"][0].update(severity="severe"), "does not follow the report schema 1.3: at findings/0/severity"),
    (lambda d: d["components"][0].update(version="9.9.9"), "does not match its fields (edited after the scan?)"),
    (lambda d: d["components"][0].pop("version"), "has no version; null where it has none)"),
    (lambda d: d["findings"][0].update(id=d["findings"][0]["rule"] + ":0123456789ab"),
     "does not match its rule and component (edited after the scan?)"),
    (lambda d: d["findings"][0].update(component=d["components"][0]["id"] + "0"),
     "does not match its rule and component (edited after the scan?)"),
])
def test_reports_of_another_version_or_edited_are_refused_with_the_file_named(tmp_path, change, message):
    path = edited(tmp_path, saved_scan(tmp_path, "scan.json", OLD), change)
    for args in (("render", path), ("merge", path), ("diff", path, path)):
        result = run("report", *args)
        assert result.code == 2, args
        assert f"auditor: error: {path}: " in result.err and message in result.err and "Traceback" not in result.err


def test_unreadable_inputs_are_clear_errors(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": "1.0", ')
    assert "not valid JSON" in run("report", "render", broken).err
    assert "No such file" in run("report", "render", tmp_path / "nope.json").err
    assert "not a regular file" in run("report", "render", tmp_path).err
    fifo = tmp_path / "scan.json.fifo"
    os.mkfifo(fifo)  # no writer: a plain open() would wait forever
    assert f"{fifo}: not a regular file" in run("report", "render", fifo).err
    with pytest.raises(SavedReportError, match="larger than"):
        load_data(str(saved_scan(tmp_path, "scan.json", OLD)), limit=1024)


def test_merge_keeps_each_hosts_identity(tmp_path, monkeypatch):
    web = saved_scan(tmp_path, "web-1.json", OLD, tmp_path / "missing-dir", host="web-1", monkeypatch=monkeypatch,
                     codes=(2,))  # a target that could not be read: the report is written, and the exit code says so
    batch = saved_scan(tmp_path, "batch-7.json", OLD, MODERN, host="batch-7", monkeypatch=monkeypatch)
    again = saved_scan(tmp_path, "web-1-later.json", MODERN, host="web-1", monkeypatch=monkeypatch)
    merged_path = tmp_path / "fleet.json"
    result = run("report", "merge", web, batch, again, "--format", "json", "-o", merged_path)
    assert result.code == 1 and "merged 3 reports" in result.err
    merged = Result(0, merged_path.read_text(), "").json  # schema-valid, every finding's component present
    inputs = [json.loads(p.read_text()) for p in (web, batch, again)]

    assert [(s["host"], s["file"]) for s in merged["run"]["merged"]] == [
        ("web-1", str(web)), ("batch-7", str(batch)), ("web-1#2", str(again))]
    assert {c["host"] for c in merged["components"]} == {"web-1", "batch-7", "web-1#2"}
    assert all("host" in t for t in merged["targets"]) and merged["errors"][0]["host"] == "web-1"
    ids = [c["id"] for c in merged["components"]]
    assert len(ids) == len(set(ids)) == sum(len(r["components"]) for r in inputs)
    # The same botocore install scanned on two hosts: two components, two findings, each on its host.
    botocore = [c for c in merged["components"] if c["name"] == "botocore" and c["version"] == "0.21.0"]
    assert sorted(c["host"] for c in botocore) == ["batch-7", "web-1"]
    assert len({c["location"] for c in botocore}) == 1
    for severity in ("critical", "high", "medium", "low", "info"):
        assert merged["summary"]["findings"][severity] == sum(r["summary"]["findings"][severity] for r in inputs)
    assert merged["summary"]["failing"] == sum(r["summary"]["failing"] for r in inputs)
    assert merged["summary"]["not_scanned"] == sum(r["summary"]["not_scanned"] for r in inputs) == 1
    assert {"kind": "unreadable", "location": str(tmp_path / "missing-dir"), "host": "web-1",
            "details": {"reason": "no such file or directory"}} in merged["targets"]
    severities = [f["severity"] for f in merged["findings"]]
    assert severities == sorted(severities, key=["critical", "high", "medium", "low", "info"].index)

    # The merged report is a saved report like any other: it renders back to the same bytes.
    assert run("report", "render", merged_path, "--format", "json").out == merged_path.read_text()
    table = run("report", "merge", web, batch, again)
    assert table.code == 1 and "batch-7: " in table.out and "web-1: " in table.out


def test_merge_applies_waivers_per_host(tmp_path, monkeypatch):
    web = saved_scan(tmp_path, "web-1.json", OLD, host="web-1", monkeypatch=monkeypatch)
    batch = saved_scan(tmp_path, "batch-7.json", OLD, host="batch-7", monkeypatch=monkeypatch)
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waivers]]\nrule = "ats-python-sdk-before-cutoff"\ncomponent = "*"\nhost = "batch-*"\n'
                       'reason = "batch fleet upgrade in OPS-7"\nowner = "ops@example.com"\nexpires = 2027-01-31\n')
    result = run("report", "merge", web, batch, "--format", "json", "--waivers", waivers, "--as-of", "2026-11-28")
    assert result.code == 1  # web-1's findings are not waived
    assert result.json["summary"]["failing"] == 2
    components = {c["id"]: c for c in result.json["components"]}
    sdk = [(components[f["component"]]["host"], f["waived"]) for f in result.json["findings"]
           if f["rule"] == "ats-python-sdk-before-cutoff"]
    assert sorted(sdk) == [("batch-7", True), ("batch-7", True), ("web-1", False), ("web-1", False)]


def test_host_name_labels_reports_made_on_one_machine_about_others(tmp_path):
    """Two OS images scanned on one machine, as a fleet's controller scans hosts it reaches only through their
    files: without --host-name both would carry the scanning machine's name, and merge as NAME and NAME#2."""
    roots = FIXTURES / "os-roots"
    web = saved_scan(tmp_path, "a.json", "--root", roots / "debian-12", "--host-name", "web-3.example.com")
    db = saved_scan(tmp_path, "b.json", "--root", roots / "rhel-4", "--host-name", "db-1")
    assert json.loads(web.read_text())["run"]["host"] == "web-3.example.com"
    merged = run("report", "merge", web, db, "--format", "json")
    assert [s["host"] for s in merged.json["run"]["merged"]] == ["web-3.example.com", "db-1"]
    assert {t["location"]: t["host"] for t in merged.json["targets"]} == {str(roots / "debian-12"): "web-3.example.com",
                                                                         str(roots / "rhel-4"): "db-1"}
    (rhel,) = [c for c in merged.json["components"] if c["kind"] == "os" and c["host"] == "db-1"]
    assert rhel["name"] == "rhel"
    for bad in ("", " ", "web\x1b[31m-3"):
        result = run("scan", "--root", roots / "debian-12", "--host-name", bad)
        assert result.code == 2 and "--host-name" in result.err and "\x1b" not in result.err


def requirements(tmp_path, name, text):
    path = tmp_path / name / "requirements.txt"
    path.parent.mkdir()
    path.write_text(text)
    return path


def test_diff_new_resolved_unchanged(tmp_path, monkeypatch):
    before_lock = requirements(tmp_path, "before", "boto==2.9.0\nbotocore==0.21.0\n")
    # The same file later: botocore upgraded, awscli added, and boto's pin moved down two lines.
    after_lock = requirements(tmp_path, "after", "# pinned by ops\nawscli==1.2.1\nboto==2.9.0\nbotocore==1.35.0\n")
    after_lock.parent.rename(tmp_path / "moved")
    before_lock.parent.rename(tmp_path / "app")
    before = saved_scan(tmp_path, "before.json", tmp_path / "app/requirements.txt")
    (tmp_path / "app").rename(tmp_path / "old-app")
    (tmp_path / "moved").rename(tmp_path / "app")
    after = saved_scan(tmp_path, "after.json", tmp_path / "app/requirements.txt")

    result = run("report", "diff", before, after, "--format", "json")
    assert result.code == 1  # awscli 1.2.1 is new and high
    diff = json.loads(result.out)
    assert diff["failing"] == 1 and diff["fail_on"] == "high"
    assert [f["title"].split(" was")[0] for f in diff["new"]] == ["awscli 1.2.1"]
    assert [f["title"].split(" was")[0] for f in diff["resolved"]] == ["botocore 0.21.0"]
    assert [(f["title"].split(" was")[0], f["where"]) for f in diff["unchanged"]] == [
        ("boto 2.9.0", f"{tmp_path}/app/requirements.txt:3")]
    assert run("report", "diff", before, after, "--fail-on", "critical").code == 0
    assert run("report", "diff", after, before).code == 1  # botocore 0.21.0 is new that way round
    markdown = run("report", "diff", before, after, "--format", "markdown").out
    assert "## New (1)" in markdown and "## Resolved (1)" in markdown and "| HIGH " in markdown
    assert "1 new, 1 resolved, 1 unchanged" in run("report", "diff", before, after).out


def test_keygen_sign_verify_and_tampering(tmp_path, monkeypatch):
    saved = saved_scan(tmp_path, "scan.json", OLD)
    key, pub = tmp_path / "audit.key", tmp_path / "audit.pub"
    monkeypatch.setenv("AUDIT_KEY_PASS", "correct horse battery staple")
    made = run("report", "keygen", "--private", key, "--public", pub, "--passphrase-env", "AUDIT_KEY_PASS")
    assert made.code == 0
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert run("report", "keygen", "--private", key, "--public", pub).code == 2  # never overwrites a key

    assert run("report", "sign", saved, "--key", key).code == 2  # encrypted: needs the passphrase
    signed = run("report", "sign", saved, "--key", key, "--passphrase-env", "AUDIT_KEY_PASS")
    assert signed.code == 0
    signature = tmp_path / "scan.json.sig"
    assert len(signature.read_bytes()) == 64
    for output in (made, signed):
        assert "correct horse" not in output.out + output.err

    good = run("report", "verify", saved, "--signature", signature, "--public-key", pub)
    assert good.code == 0 and good.out.startswith("OK: ")

    tampered = tmp_path / "tampered.json"
    data = bytearray(saved.read_bytes())
    data[data.index(b'"high"') + 1] = ord("H")  # one byte: "high" -> "High"
    tampered.write_bytes(bytes(data))
    bad = run("report", "verify", tampered, "--signature", signature, "--public-key", pub)
    assert bad.code == 1 and bad.out.startswith("FAIL: ")

    other_key, other_pub = tmp_path / "other.key", tmp_path / "other.pub"
    assert run("report", "keygen", "--private", other_key, "--public", other_pub).code == 0
    wrong = run("report", "verify", saved, "--signature", signature, "--public-key", other_pub)
    assert wrong.code == 1 and wrong.out.startswith("FAIL: ")

    monkeypatch.setenv("AUDIT_KEY_PASS", "wrong")
    assert "passphrase is wrong" in run("report", "sign", saved, "--key", key, "--passphrase-env", "AUDIT_KEY_PASS").err
    assert "not a PEM public key" in run("report", "verify", saved, "--signature", signature, "--public-key", saved).err
    assert "64 bytes" in run("report", "verify", saved, "--signature", pub, "--public-key", pub).err


def test_report_help_explains_each_subcommand():
    top = run("report", "--help").out
    for action in ("render", "merge", "diff", "keygen", "sign", "verify"):
        assert action in top
        assert "example" in run("report", action, "--help").out
    assert run("report").code == 2


def nested(tmp_path, depth: int):
    """A saved report whose first component's details (any object, in the schema) hold `depth` nested objects,
    written as text: Python's own encoder would recurse as deep."""
    path = edited(tmp_path, saved_scan(tmp_path, "scan.json", OLD),
                  lambda data: data["components"][0]["details"].update(x="NESTED"))
    path.write_text(path.read_text().replace('"NESTED"', '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)))
    return path


@pytest.mark.parametrize("depth", [500, 700, 980])
def test_a_report_nested_hundreds_of_levels_deep_is_refused_on_load(tmp_path, depth):
    path = nested(tmp_path, depth)
    for args in (("render", path, "--format", "json"), ("render", path, "--format", "sarif"), ("merge", path, path),
                 ("merge", path, "--format", "markdown"), ("diff", path, path)):
        result = run("report", *args)
        assert result.code == 2, (args, result.err[-300:])
        assert result.err == f"auditor: error: {path}: objects and arrays nested more than 64 levels deep: " \
                             f"not a report the auditor wrote\n"


def test_a_report_as_deep_as_the_bound_still_renders(tmp_path):
    path = nested(tmp_path, 64 - 4)  # report, components, [0], details: four levels above
    for output_format in ("json", "sarif", "html", "markdown", "csv", "junit", "table"):
        assert run("report", "render", path, "--format", output_format).code == 1, output_format
    merged = tmp_path / "merged.json"
    assert run("report", "merge", path, path, "--format", "json", "-o", merged).code == 1
    assert run("report", "render", merged, "--format", "json").code == 1  # a merged report reads back
    assert run("report", "render", nested(tmp_path, 64 - 3)).code == 2  # one more level: refused


# -- the compiled schema check: the same verdict as jsonschema, far faster ---------------------------------------------

@st.composite
def edited_reports(draw):
    """A real report (a scan, or a merge of two, which has every optional field), with values replaced, removed or
    added anywhere in it: some still follow the schema, most do not."""
    data = json.loads(draw(st.sampled_from(_real_reports())))
    for _ in range(draw(st.integers(1, 3))):
        node = draw(st.sampled_from(containers(data)))
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        change = draw(st.sampled_from(["replace", "remove", "add"]))
        if change == "add" or not keys:
            key = draw(st.sampled_from(["host", "line", "details", "x", "waiver", "1", "critical"])) \
                if isinstance(node, dict) else len(node)
            if isinstance(node, dict):
                node[key] = draw(SCHEMA_VALUES)
            else:
                node.append(draw(SCHEMA_VALUES))
        elif change == "remove":
            del node[draw(st.sampled_from(keys))]
        else:
            node[draw(st.sampled_from(keys))] = draw(SCHEMA_VALUES)
    return data


# Values near the schema's edges: 1.0 is an integer and true is not, an empty object, a date-shaped string.
SCHEMA_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([1.0, 0.5, 2.0, -1.0]),
              st.sampled_from(["high", "yes", "at risk", "pem", "2026-11-28", "2026-11-28T10:00:00Z", "0" * 64, "", "x"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(
        ["kind", "text", "name", "sha256", "id", "version", "status", "a"]), inner, max_size=3)),
    max_leaves=6)


@lru_cache(maxsize=1)
def _real_reports() -> tuple[str, ...]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        old, modern, fleet = Path(folder) / "old.json", Path(folder) / "modern.json", Path(folder) / "fleet.json"
        assert run("scan", "-q", "--format", "json", "-o", old, OLD).code == 1
        assert run("scan", "-q", "--format", "json", "-o", modern, MODERN).code in (0, 1)
        assert run("report", "merge", "-q", old, modern, "--format", "json", "-o", fleet).code == 1
        return old.read_text(), fleet.read_text()


@fuzz
@given(edited_reports())
def test_the_compiled_schema_check_agrees_with_jsonschema(data):
    from jsonschema import Draft202012Validator

    from auditor.report.json_report import schema
    from auditor.report.saved import _check

    assert _check()(data) == Draft202012Validator(schema()).is_valid(data)


@fuzz
@given(edited_reports())
def test_a_checked_item_is_passed_on_as_the_model_would_write_it(data):
    """saved_record (what a merge writes of each item, without making the model) gives to_dict's item: keys in the
    model's order, an empty details left out, a component's null version kept."""
    import copy

    from auditor.model import Report, saved_record
    from auditor.report.saved import _check

    if not _check()(data):
        return
    try:
        written = Report.from_dict(copy.deepcopy(data)).to_dict()
    except (TypeError, KeyError):  # a field the model needs that the schema leaves out: refused on load
        return
    for section in ("verdicts", "targets", "components", "findings", "errors"):
        items = [saved_record(section, item) for item in data[section]]
        assert items == written[section], section
        assert [list(item) for item in items] == [list(item) for item in written[section]], section


def test_items_not_as_the_model_writes_them_are_rewritten():
    """The edits a person may make that still follow the schema: an empty details, keys out of order, a null version;
    each item comes out as the model writes it."""
    from auditor.model import Report, saved_record
    from auditor.report.saved import _check

    data = json.loads(_real_reports()[1])  # a merge: every optional field
    component, target = data["components"][0], data["targets"][0]
    component["details"], target["details"] = {}, {}
    data["components"][1] = dict(reversed(data["components"][1].items()))
    data["components"][2]["version"] = None
    assert _check()(data)
    written = Report.from_dict(json.loads(json.dumps(data))).to_dict()
    for section in ("targets", "components", "findings"):
        items = [saved_record(section, item) for item in data[section]]
        assert items == written[section]
        assert [list(item) for item in items] == [list(item) for item in written[section]]  # the order of the keys
    assert "details" not in saved_record("components", component) and "details" not in saved_record("targets", target)
    assert saved_record("components", data["components"][2])["version"] is None


def test_the_schema_compiler_refuses_what_it_does_not_implement():
    from auditor.report.schema_check import SchemaNotSupported, compile_schema

    check = compile_schema({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}},
                            "additionalProperties": False})
    assert check({"n": 1}) and check({"n": 2.0}) and not check({"n": True}) and not check({"n": 0}) and not check({"m": 1})
    for keyword in ({"format": "date"}, {"maxLength": 3}, {"anyOf": [{}]}, {"$ref": "https://example.com/s"},
                    {"type": "text"}, {"$ref": "#/$defs/missing"}):
        with pytest.raises(SchemaNotSupported):
            compile_schema({"type": "object", "properties": {"n": keyword}})


# Small schemas of the keywords schema_check implements, over a few names, so that values often meet their members.
NAMES = list("abcdefghijk")  # more than _LOOKED_UP optional properties: the table of checks is reached too
PATTERNS = ["^a", "b$", "^[0-9]+$", "."]
SMALL_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-1, 3), st.sampled_from([1.0, 0.5, -1.0]),
              st.sampled_from(["a", "b", "ab", "12", "", "x"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(NAMES[:6] + ["1", "ab"]), inner, max_size=5)),
    max_leaves=12)
TYPE_NAMES = ["object", "array", "string", "integer", "number", "boolean", "null"]
LEAVES = st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.sampled_from(TYPE_NAMES), st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=3)),
    "enum": st.lists(SMALL_VALUES, min_size=1, max_size=3), "const": SMALL_VALUES,
    "minimum": st.sampled_from([-1, 0, 1, 0.5]), "pattern": st.sampled_from(PATTERNS)})


@st.composite
def object_schemas(draw, member):
    schema = {}
    kind = draw(st.sampled_from(["object", "object", "object", None, "string"]))
    if kind:
        schema["type"] = kind
    if draw(st.booleans()):
        schema["required"] = draw(st.lists(st.sampled_from(NAMES[:6]), max_size=4))
    wide = draw(st.sampled_from([False, False, True]))  # more optional properties than _LOOKED_UP
    schema["properties"] = draw(st.dictionaries(st.sampled_from(NAMES), member, min_size=9 if wide else 0,
                                                max_size=11 if wide else 5))
    if draw(st.sampled_from([False, False, False, True])):
        schema["patternProperties"] = draw(st.dictionaries(st.sampled_from(PATTERNS), member, min_size=1, max_size=2))
    additional = draw(st.sampled_from(["absent", "false", "false", "schema"]))
    if additional != "absent":
        schema["additionalProperties"] = False if additional == "false" else draw(member)
    if draw(st.sampled_from([False, False, False, True])):
        schema["enum"] = draw(st.lists(SMALL_VALUES, min_size=1, max_size=2))
    return schema


def small_schemas(member_extra, root=False):
    """Schemas nested a few levels; `member_extra` adds what may stand for a member's or an item's schema; a `root`
    is most often an object's."""
    def nested(inner):
        member = st.one_of(inner, member_extra)
        arrays = st.fixed_dictionaries({}, optional={
            "type": st.sampled_from(["array", "array", "object"]), "items": member, "minItems": st.integers(0, 3)})
        choices = st.fixed_dictionaries({"oneOf": st.lists(inner, min_size=1, max_size=3)})
        return st.one_of(object_schemas(member), arrays, choices)

    schemas = st.recursive(st.one_of(LEAVES, st.booleans(), st.just({})), nested, max_leaves=10)
    return object_schemas(st.one_of(schemas, member_extra)) if root else schemas


# Values that meet the small schemas' members: objects of their names, most of all.
SMALL_OBJECTS = st.dictionaries(st.sampled_from(NAMES[:6] + ["1", "ab"]), SMALL_VALUES, max_size=6)


@st.composite
def schemas_and_values(draw):
    # References: to a definition (itself without references) anywhere, and to the whole schema only as a member's or
    # an item's schema, where each use goes one level down into the value (else neither checker would end).
    definition = draw(small_schemas(st.nothing()))
    schema = draw(small_schemas(st.sampled_from([{"$ref": "#"}, {"$ref": "#/$defs/d"}]), root=True))
    schema = {**schema, "$defs": {"d": definition}}
    if draw(st.booleans()):
        schema = {**schema, "$ref": "#/$defs/d"}
    values = st.one_of(SMALL_OBJECTS, st.lists(SMALL_OBJECTS, max_size=3), SMALL_VALUES)
    return schema, draw(st.lists(values, min_size=1, max_size=12))


@fuzz
@given(schemas_and_values())
def test_a_compiled_small_schema_agrees_with_jsonschema(schema_and_values):
    from jsonschema import Draft202012Validator

    from auditor.report.schema_check import compile_schema

    schema, values = schema_and_values
    check, validator = compile_schema(schema), Draft202012Validator(schema)
    for value in values + values:  # twice: a text a pattern matched is remembered the first time
        assert check(value) == validator.is_valid(value), value


def test_schemas_nested_deeper_than_the_checks_written_out_compile_and_agree():
    from jsonschema import Draft202012Validator

    from auditor.report.schema_check import compile_schema

    schema: dict = {"type": "integer", "minimum": 1}
    value: object = 1
    for level in range(40):  # an object in an array in an object …, far deeper than Python lets blocks nest
        if level % 2:
            schema, value = {"type": "array", "items": schema, "minItems": 1}, [value]
        else:
            schema = {"type": "object", "required": ["n"], "properties": {"n": schema}, "additionalProperties": False}
            value = {"n": value}
    check, validator = compile_schema(schema), Draft202012Validator(schema)
    assert check(value) and validator.is_valid(value)
    broken = json.loads(json.dumps(value).replace("1", "0"))
    assert not check(broken) and not validator.is_valid(broken)


def test_a_pattern_remembers_only_texts_it_matched_and_only_so_many(monkeypatch):
    from auditor.report import schema_check

    monkeypatch.setattr(schema_check, "_REMEMBERED", 3)
    check = schema_check.compile_schema({"type": "array", "items": {"type": "string", "pattern": "^[0-9]+$"}})
    for _ in range(2):
        assert check(["1", "22", "333", "4444", "55555"]) and not check(["1", "x"]) and not check(["a1"])
    _, namespace, _ = schema_check.generate({"type": "string", "pattern": "^a"})
    remembered = [value for value in namespace.values() if isinstance(value, set)]
    assert len(remembered) == 1


def test_no_text_of_a_checked_value_becomes_code(monkeypatch):
    """The check's source is made from the schema alone, when it is compiled: its only texts are the schema's property
    names, and checking a report, whatever it holds, compiles nothing."""
    import ast
    import builtins

    from auditor.report import schema_check
    from auditor.report.json_report import schema
    from auditor.report.schema_check import compile_schema, generate

    def names(node, found):
        if isinstance(node, dict):
            found.update(node.get("properties", {}), node.get("required", []))
            for value in node.values():
                names(value, found)
        elif isinstance(node, list):
            for value in node:
                names(value, found)
        return found

    source, _, _ = generate(schema())
    texts = {node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant)
             and isinstance(node.value, str)}
    assert texts and texts <= names(schema(), set())

    check = compile_schema(schema())
    data = json.loads(_real_reports()[1])  # made (by a merge, which compiles the schema) before compiling is refused

    def refused(*args, **kwargs):
        raise AssertionError("code made while checking")

    # Neither the module nor the generated functions can reach compile, exec or eval while a value is checked.
    no_code = {name: value for name, value in vars(builtins).items() if name not in ("compile", "exec", "eval")}
    monkeypatch.setitem(check.__globals__, "__builtins__", no_code)
    for name in ("compile", "exec", "eval"):
        monkeypatch.setattr(schema_check, name, refused, raising=False)
    marker = "__import__('os').system('false')"
    data["components"][0]["details"][marker] = marker
    data["components"][0]["name"] = marker
    assert check(data)
    data["components"][0][marker] = marker
    assert not check(data)


def test_the_depth_walk_covers_every_part_the_schema_leaves_open():
    """Saved reports are walked for depth only where the schema lets a value hold anything (open_parts): every such
    place in the schema must be one of them, or a report could nest deeper there unchecked."""
    from auditor.report.json_report import schema

    whole = schema()
    open_places = set()

    def visit(node, path):
        if "$ref" in node:
            node = whole["$defs"][node["$ref"].split("/")[-1]]
        kind = node.get("type")
        if kind == "object" or "properties" in node:
            if node.get("additionalProperties", True) is not False and not node.get("patternProperties"):
                extra = node.get("additionalProperties", True)
                if extra is True or (isinstance(extra, dict) and extra.get("type") in (None, "object", "array")):
                    open_places.add(path)
                    return
            for name, sub in node.get("properties", {}).items():
                visit(sub, f"{path}/{name}")
        elif kind == "array" or "items" in node:
            visit(node.get("items", {}), f"{path}/*")
        elif not kind and not node.get("enum") and not node.get("const") and not node.get("oneOf"):
            open_places.add(path)

    visit(whole, "")
    # What open_parts walks: run, and each target's details, component's details and finding's waiver.
    assert open_places == {"/run", "/targets/*/details", "/components/*/details", "/findings/*/waiver"}


def test_json_written_in_parts_is_what_json_dumps_writes():
    import io

    from auditor.report.json_text import Stream, dumps, write

    for text in _real_reports():
        data = json.loads(text)
        expected = json.dumps(data, indent=2, ensure_ascii=False)
        assert dumps(data) == expected
        streamed = io.StringIO()
        write(streamed, dict(data, findings=Stream(lambda data=data: iter(data["findings"])), errors=Stream(lambda: [])))
        assert streamed.getvalue() == json.dumps(dict(data, errors=[]), indent=2, ensure_ascii=False)
    odd = {"n": [1.5, -0.0, 10**30, True, None, {}, [], "tab\there \u2028 é \x1b"], "": {"k": [[]]}}
    assert dumps(odd) == json.dumps(odd, indent=2, ensure_ascii=False)


def test_an_arrays_items_written_already_are_written_as_they_are(tmp_path):
    """A merge writes each section's items as it reads each report (items_text) and the JSON report copies that text
    (Written), in pieces that may end within a character, to a file (its bytes) or any text stream (decoded)."""
    import io

    from auditor.report.json_text import Written, items_text, write

    items = [{"a": "é 😀", "b": [1, {"c": None, "d": 1e-07}], "e": 10**30}, {"f": "x"}, [], "s", 2]
    expected = json.dumps({"s": items, "t": []}, indent=2, ensure_ascii=False)
    text = items_text(json.loads(json.dumps(items)), "\n    ").encode("utf-8")
    for cut in range(len(text) + 1):
        streamed = io.StringIO()
        write(streamed, {"s": Written(lambda cut=cut: [text[:cut], b"", text[cut:]], "\n    "), "t": Written(lambda: [b""], "\n    ")})
        assert streamed.getvalue() == expected
    with open(tmp_path / "out.json", "w", encoding="utf-8") as handle:
        write(handle, {"s": Written(lambda: [text[:7], text[7:]], "\n    "), "t": Written(lambda: [], "\n    ")})
    assert (tmp_path / "out.json").read_text(encoding="utf-8") == expected
    with pytest.raises(ValueError, match="another depth"):
        write(io.StringIO(), {"s": {"deeper": Written(lambda: [text], "\n    ")}})


def test_a_reports_sections_are_written_as_json_dumps_writes_them_their_texts_redacted():
    """A final Stream's items go through orjson where it writes what json writes, and through json_text's own writer
    where it would not: numbers with a fraction or an exponent, an infinity, an integer past 64 bits, a lone surrogate,
    nesting past orjson's limit."""
    import copy
    import io

    from auditor.redact import redact, redact_tree
    from auditor.report.json_text import Stream, write

    secret = "https://user:hunter2@proxy.example:3128/"
    deep: object = "bottom"
    for _ in range(300):
        deep = [deep]
    items = [json.loads(text)["components"] for text in _real_reports()][0][:3] + [
        {"details": {"ratio": 1e-7, "big": 1e16, "whole": 2.0, "inf": json.loads("1e400"), "url": secret}},
        {"details": {"n": 2**64, "m": -2**63, "list": [1, 2.5, None, "x"]}},
        {"text": "lone \ud800 surrogate", "url": secret},
        {"deep": deep},
        {"plain": [secret, {"k": "v", "empty": {}, "none": None, "t": True}], "n": 2**63 - 1},
    ]
    streamed = io.StringIO()
    write(streamed, {"items": Stream(lambda: copy.deepcopy(items), final=True, texts=redact)})
    assert streamed.getvalue() == json.dumps({"items": redact_tree(items)}, indent=2, ensure_ascii=False)
    assert "hunter2" not in streamed.getvalue()


def test_a_sections_items_written_by_orjson_in_batches_at_any_depth_are_what_json_dumps_writes():
    """orjson writes a final Stream's items many at a time, nested as deep as the stream is; a batch it refuses (an
    integer past 64 bits, nesting past its limit) is written item by item, and an item with a float breaks a batch."""
    import copy
    import io

    from auditor.redact import redact, redact_tree
    from auditor.report.json_text import BATCH, Stream, write

    components = json.loads(next(iter(_real_reports())))["components"]
    deep: object = "bottom"
    for _ in range(250):
        deep = [deep]
    items: list = [copy.deepcopy(components[n % len(components)]) for n in range(3 * BATCH + 5)]
    items[BATCH - 1] = {"n": 2**64, "url": "https://user:hunter2@proxy.example:3128/"}
    items[BATCH + 3] = {"deep": deep}
    items[2 * BATCH] = {"ratio": 1e-7}
    items[2 * BATCH + 1] = "a text, not an object: token=hunter2"
    for wrap in (lambda stream: {"items": stream}, lambda stream: {"a": {"b": [1, {"c": stream}]}}):
        streamed = io.StringIO()
        write(streamed, wrap(Stream(lambda: copy.deepcopy(items), final=True, texts=redact)))
        assert streamed.getvalue() == json.dumps(wrap(redact_tree(items)), indent=2, ensure_ascii=False)
        assert "hunter2" not in streamed.getvalue()


def test_a_merges_component_ids_are_those_component_id_makes():
    """component_ids hashes the fields once for the id checked and the id with the merge's host."""
    from auditor.model import component_id, component_ids

    for fields in (("python-package", "botocore", "0.21.0", "/srv/app/.venv/lib/site-packages/x", None, "dist-info METADATA"),
                   ("java", "OpenJDK", None, "C:\\Program Files\\Java\\é", 7, "release"),
                   ("os", "debian", "12", "https://user:hunter2@example.com/x", 0, "os-release")):
        assert component_ids(*fields, None, "web-1") == (component_id(*fields, None), component_id(*fields, "web-1"))
        assert component_ids(*fields, "db-2", "web-1") == (component_id(*fields, "db-2"),) * 2
        assert component_ids(*fields, "", "web-1") == (component_id(*fields, ""), component_id(*fields, "web-1"))
