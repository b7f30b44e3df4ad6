"""Property tests of the declared-dependency readers: pyproject.toml, setup.cfg, setup.py, Pipfile, environment.yml.

As in test_fuzz_python.py: whatever the bytes, a reader gives components from inside the target and one-line
error entries, never an exception or a hang; documents built the way the tools write them are read exactly
(each watched requirement, its range and marker, at its line); Poetry's constraints convert to PEP 440 ranges that
admit what poetry-core admits; the last property runs the whole `auditor scan` on them.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from importlib import metadata

import pytest
from hypothesis import assume, example, given, settings, strategies as st
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from poetry.core.constraints.version import Version as PoetryVersion
from poetry.core.constraints.version import parse_constraint

from auditor import names
from auditor.collect.python.lockfiles import collect_lockfile, lockfile_format
from auditor.collect.python.lockfiles.declared.poetry import Unconvertible, to_pep440
from conftest import FIXTURES, run
from fuzzing import EXAMPLES, fuzz
from test_fuzz_python import WATCHED, check_collected, files_in, markers, mutated, project_names, specifiers

DECLARED = FIXTURES / "declared"
POETRY_FOLLOWS_PEP440 = tuple(map(int, metadata.version("poetry-core").split(".")[:2])) >= (2, 5)
NAMES = ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "environment.yml")
SEEDS = {name: [p.read_bytes() for p in sorted([*DECLARED.glob(f"*/{name}"), *(FIXTURES / "lockfiles").glob(f"*/*/{name}")])]
         for name in NAMES}


def read(files: dict, main: str):
    """collect_lockfile on `main` among `files`, called as `auditor scan DIR` calls it; checked as every collector is."""
    with tempfile.TemporaryDirectory() as top:
        view = files_in(top, files)
        result = collect_lockfile(view, os.path.join(view.top, main), top, WATCHED, lockfile_format(main))
        # as a text-mode file counts them (a lone CR ends a line for the setup.cfg reader): at least the "\n" count
        lines_of = {os.path.join(top, name): data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 1
                    for name, data in files.items()}
        check_collected(result, top, lines_of)
        for component in result.components:
            assert component.details["pinned"] is (component.version is not None)
            if not component.details["specifier"].startswith("@"):
                SpecifierSet(component.details["specifier"])  # the rules can read every range reported
        return result


def rows(result) -> list[tuple]:
    """(name, range in packaging's order, marker, line, source) of each component."""
    def ordered(specifier: str) -> str:
        return specifier if specifier.startswith("@") else str(SpecifierSet(specifier))

    return [(c.name, ordered(c.details["specifier"]), c.details.get("marker"), c.line, c.source) for c in result.components]


# -- any bytes, deep nesting ----------------------------------------------------------------------------------

DEEP = [
    ("pyproject.toml", b"[project]\ndependencies = " + b"[" * 5000 + b"]" * 5000 + b"\n"),
    ("pyproject.toml", b'[tool.poetry.dependencies]\nboto = ' + b"{a = " * 3000 + b"1" + b"}" * 3000 + b"\n"),
    ("Pipfile", b"[packages]\nboto = " + b"[" * 100000),
    ("setup.py", b"from setuptools import setup\nsetup(install_requires=" + b"[" * 5000 + b"]" * 5000 + b")\n"),
    ("setup.py", b"from setuptools import setup\nr = " + b"'boto==2.9.0' + " * 50000 + b"'x'\nsetup(install_requires=r)\n"),
    ("setup.py", b"from setuptools import setup\n" + b"".join(b"a%d = a%d\n" % (i, i + 1) for i in range(2000))
     + b"a2000 = ['boto==2.9.0']\nsetup(install_requires=a0)\n"),
    ("setup.py", b"print 'x'\n" + b"".join(b" " * i + b"if x:\n" for i in range(200)) + b" " * 200 + b"print 'y'\n"),
    ("setup.cfg", b"[options]\ninstall_requires =\n" + b"    boto==2.9.0 \\\n" * 20000),
    ("environment.yml", b"dependencies:\n  - " + b"[" * 100000),
    ("environment.yml", b"dependencies:\n" + b"".join(b" " * i + b"- \n" for i in range(0, 4000, 2))),
    ("environment.yml", b"a: &a [boto]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
                        b"dependencies: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"),
]


@fuzz
@given(st.sampled_from(NAMES).flatmap(lambda name: st.tuples(
    st.just(name), st.one_of(st.binary(), st.sampled_from(SEEDS[name]).flatmap(mutated)))))
@example(DEEP[0])
def test_declaration_files_of_any_bytes(case):
    name, data = case
    read({name: data}, name)


def test_deeply_nested_declarations_are_error_entries_or_read():
    for name, data in DEEP:
        result = read({name: data}, name)
        if b"boto" in data and not result.components:
            assert result.errors, f"{name}: {data[:80]!r}"


# -- pyproject.toml: PEP 621, PEP 735, PDM -----------------------------------------------------------------------

@st.composite
def requirements(draw):
    """(text, Requirement) of one PEP 508 requirement as people write them in a pyproject.toml or setup.cfg."""
    name, extras = draw(project_names), draw(st.sampled_from(["", "[crt]", "[s3, crt]"]))
    specifier, marker = draw(specifiers), draw(st.none() | markers)
    if specifier.startswith("===") or (specifier.startswith("~=") and "." not in specifier):
        specifier = ""
    try:
        Requirement(f"{name}{specifier}")
    except InvalidRequirement:
        specifier = ""
    text = f"{name}{extras}{draw(st.sampled_from(['', ' ']))}{specifier}" + (f"; {marker}" if marker else "")
    return text, Requirement(text)


def toml_string(draw, text: str) -> str:
    if "'" not in text and draw(st.booleans()):
        return f"'{text}'"
    return json.dumps(text)


@st.composite
def pyproject_documents(draw):
    """(bytes, expected rows) of a pyproject.toml with PEP 621 lists, PEP 735 groups and PDM's dev-dependencies."""
    lines = ["[build-system]", 'requires = ["hatchling"]', 'build-backend = "hatchling.build"', "", "[project]",
             'name = "service"', 'version = "1.0"']
    expected = []

    def array(key: str, source: str, details_ok=True):
        items = draw(st.lists(requirements(), max_size=4))
        quoted = [toml_string(draw, text) for text, _ in items]
        if draw(st.booleans()):
            lines.append(f"{key} = [{', '.join(quoted)}]")
            numbers = [len(lines)] * len(items)
        else:
            lines.append(f"{key} = [")
            numbers = []
            for value in quoted:
                if draw(st.integers(0, 3)) == 0:
                    lines.append("    # a comment naming boto3==1.0")
                lines.append(f"    {value},")
                numbers.append(len(lines))
            lines.append("]")
        for (_, requirement), number in zip(items, numbers):
            if names.normalize(requirement.name) in WATCHED:
                expected.append((names.normalize(requirement.name), str(requirement.specifier),
                                 str(requirement.marker) if requirement.marker else None, number, source))

    array("dependencies", "pyproject.toml [project] dependencies")
    lines += ["", "[project.optional-dependencies]"]
    for extra in draw(st.lists(st.sampled_from(["aws", "test", "docs"]), unique=True, max_size=2)):
        array(extra, f"pyproject.toml [project.optional-dependencies] {extra}")
    if draw(st.booleans()):
        lines += ["", "[dependency-groups]"]
        array("dev", "pyproject.toml [dependency-groups] dev")
    if draw(st.booleans()):
        lines += ["", "[tool.pdm.dev-dependencies]"]
        array("lint", "pyproject.toml [tool.pdm.dev-dependencies] lint")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return (newline.join(lines) + newline).encode("utf-8"), expected


@fuzz
@given(pyproject_documents())
def test_pyproject_gives_each_watched_requirement_at_its_line(document):
    data, expected = document
    result = read({"pyproject.toml": data}, "pyproject.toml")
    assert result.errors == []
    assert rows(result) == expected


# -- Poetry's constraints against poetry-core's own parser ---------------------------------------------------------

release = st.lists(st.integers(0, 12), min_size=1, max_size=4).map(lambda parts: ".".join(map(str, parts)))
poetry_versions = st.tuples(release, st.sampled_from(["", "a1", "b2", "rc1", ".dev0", ".post1"])).map("".join)


@st.composite
def poetry_constraints(draw):
    clauses = []
    for _ in range(draw(st.integers(1, 3))):
        operator = draw(st.sampled_from(["^", "~", "~=", ">=", "<=", ">", "<", "==", "=", "!=", "", "<>"]))
        if operator in ("", "==", "!=") and draw(st.integers(0, 3)) == 0:
            clauses.append(f"{operator}{draw(release)}.*")
        else:
            space = draw(st.sampled_from(["", " "])) if operator else ""
            clauses.append(f"{operator}{space}{draw(poetry_versions)}")
    return draw(st.sampled_from([", ", ",", " "])).join(clauses)


def _near(version: str) -> list[str]:
    """Releases around a version: itself, its pre- and post-releases, the next patch, minor and major."""
    parts = [int(p) for p in version.split(".")[:3] if p.isdigit()] or [0]
    parts += [0] * (3 - len(parts))
    near = [version, f"{'.'.join(map(str, parts))}a1", f"{'.'.join(map(str, parts))}.post1"]
    for index in range(3):
        bumped = parts[:index] + [parts[index] + 1] + [0] * (2 - index)
        near += [".".join(map(str, bumped)), ".".join(map(str, bumped)) + "rc1"]
        if parts[index]:
            near.append(".".join(map(str, parts[:index] + [parts[index] - 1] + [9] * (2 - index))))
    return near


@fuzz
@given(poetry_constraints())
@example("^0.0")
@example("~0.21, !=0.21.0")
@example(">=1 <2")
def test_poetry_constraints_admit_what_poetry_admits(constraint):
    if not POETRY_FOLLOWS_PEP440:
        pytest.skip("poetry-core before 2.5 (2.2 is the last for Python 3.9) departs from PEP 440 at the edges: "
                    "its !=0 refused 0.0.0a1, its ~=0.0.0.0 was <0.1.0.0")
    # ~= of a one-part version has no PEP 440 meaning: the conversion reads ~=1 as poetry-core 2.5 does (>=1,<2)
    assume(not re.search(r"~=\s*\d+(?:[a-z]|\.dev|\.post|$|[ ,])", constraint))
    try:
        theirs = parse_constraint(constraint)
    except ValueError:
        theirs = None
    try:
        ours = SpecifierSet(to_pep440(constraint))
    except (Unconvertible, InvalidSpecifier):
        assert theirs is None, f"Poetry reads {constraint!r} as {theirs}, the conversion refused it"
        return
    assert theirs is not None, f"Poetry refuses {constraint!r}, the conversion read it as {ours}"
    versions = [v for clause in constraint.replace(",", " ").split() for v in _near(clause.lstrip("^~=<>!").rstrip(".*"))]
    for version in versions:
        # Post-releases are left out: Poetry's range arithmetic drops them at the edges (its ~0.21,!=0.21.0 admits
        # no 0.21.0.post1, PEP 440's does), and no AWS SDK release is one.
        try:
            poetry_version = PoetryVersion.parse(version)
        except ValueError:
            continue
        if poetry_version.is_postrelease():
            continue
        assert ours.contains(version, prereleases=True) == theirs.allows(poetry_version), (constraint, str(ours), version)


# -- setup.py and setup.cfg ---------------------------------------------------------------------------------------

@st.composite
def setup_py_documents(draw):
    """(bytes, expected rows) of a setup.py whose requirements are literals in the forms real ones use."""
    lines = ["#!/usr/bin/env python", "from setuptools import setup", ""]
    if draw(st.booleans()):
        lines.append('print "building"')  # Python 2: read statement by statement
    expected = []
    install = draw(st.lists(requirements(), max_size=4))
    form = draw(st.sampled_from(["inline", "name", "append", "concat"]))
    numbers: list[int] = []
    keyword = ""
    if form == "name":
        lines.append("requires = [")
        for text, _ in install:
            lines.append(f"    {text!r},")
            numbers.append(len(lines))
        lines.append("]")
        keyword = "requires"
    elif form == "append":
        lines.append("requires = []")
        for text, _ in install:
            lines.append(f"requires.append({text!r})")
            numbers.append(len(lines))
        keyword = "requires"
    elif form == "concat":
        lines.append("requires = " + " + ".join(f"[{text!r}]" for text, _ in install) if install else "requires = []")
        numbers = [len(lines)] * len(install)
        keyword = "requires"
    extras = draw(st.lists(requirements(), max_size=3))
    lines.append("setup(")
    lines.append("    name='service',")
    if form == "inline":
        lines.append("    install_requires=[")
        for text, _ in install:
            lines.append(f"        {text!r},")
            numbers.append(len(lines))
        lines.append("    ],")
    else:
        lines.append(f"    install_requires={keyword},")
    lines.append(f"    extras_require={{'aws': [{', '.join(repr(text) for text, _ in extras)}]}},")
    extras_line = len(lines)
    lines.append(")")
    for (_, requirement), number in zip(install, numbers):
        if names.normalize(requirement.name) in WATCHED:
            expected.append((names.normalize(requirement.name), str(requirement.specifier),
                             str(requirement.marker) if requirement.marker else None, number, "setup.py install_requires"))
    for _, requirement in extras:
        if names.normalize(requirement.name) in WATCHED:
            expected.append((names.normalize(requirement.name), str(requirement.specifier),
                             str(requirement.marker) if requirement.marker else None, extras_line,
                             "setup.py extras_require aws"))
    return ("\n".join(lines) + "\n").encode("utf-8"), expected


@fuzz
@given(setup_py_documents())
def test_setup_py_gives_each_literal_requirement_at_its_line(document):
    data, expected = document
    result = read({"setup.py": data}, "setup.py")
    assert result.errors == []
    assert rows(result) == expected


@st.composite
def setup_cfg_documents(draw):
    lines = ["[metadata]", "name = service", "", "[options]", "packages = find:", "install_requires ="]
    expected = []
    for text, requirement in draw(st.lists(requirements(), max_size=5)):
        noise = draw(st.sampled_from(["", "    # pinned for the vendor appliance", "    ; old comment", "   "]))
        if noise:
            lines.append(noise)
        lines.append(f"    {text}")
        if names.normalize(requirement.name) in WATCHED:
            expected.append((names.normalize(requirement.name), str(requirement.specifier),
                             str(requirement.marker) if requirement.marker else None, len(lines),
                             "setup.cfg [options] install_requires"))
    lines += ["", "[options.extras_require]"]
    text, requirement = draw(requirements().filter(lambda r: ";" not in r[0]))
    lines.append(f"aws = {text}")  # one line: setuptools splits it at ';', so no marker here
    if names.normalize(requirement.name) in WATCHED:
        expected.append((names.normalize(requirement.name), str(requirement.specifier), None, len(lines),
                         "setup.cfg [options.extras_require] aws"))
    return ("\n".join(lines) + "\n").encode("utf-8"), expected


@fuzz
@given(setup_cfg_documents())
def test_setup_cfg_gives_each_requirement_line(document):
    data, expected = document
    result = read({"setup.cfg": data}, "setup.cfg")
    assert result.errors == []
    assert rows(result) == expected


def test_setup_cfg_with_old_mac_line_ends_gives_the_line_a_text_mode_reader_counts():
    """A lone CR ends a line for setuptools (configparser reads the file in text mode): the pin is on line 3, not
    on the file's only line by its "\n" count. Found by the fuzz smoke run (a CR-filled setup.cfg)."""
    data = b"[options]\rinstall_requires =\r    boto==2.9.0\r"
    assert rows(read({"setup.cfg": data}, "setup.cfg")) == [
        ("boto", "==2.9.0", None, 3, "setup.cfg [options] install_requires")]


# -- Pipfile and conda environments -----------------------------------------------------------------------------

@st.composite
def pipfile_documents(draw):
    lines = ['[[source]]', 'url = "https://pypi.org/simple"', 'verify_ssl = true', 'name = "pypi"', "", "[packages]"]
    expected, seen = [], set()
    for _ in range(draw(st.integers(0, 5))):
        name = draw(project_names)
        if names.normalize(name) in seen or name.lower() in {n.lower() for n in seen}:
            continue
        seen.add(name)
        specifier = draw(st.sampled_from(["*", "==2.9.0", ">=1.0,<2", "<0.22", "2.9.0"]))
        marker = draw(st.none() | st.just("python_version < '3'"))
        if marker:
            lines.append(f'{name} = {{version = "{specifier}", markers = "{marker}"}}')
        else:
            lines.append(f'{name} = "{specifier}"')
        if names.normalize(name) in WATCHED:
            pep440 = "" if specifier == "*" else ("==" + specifier if specifier[0].isdigit() else specifier)
            expected.append((names.normalize(name), str(SpecifierSet(pep440)), 'python_version < "3"' if marker else None,
                             len(lines), "Pipfile [packages]"))
    lines += ["", "[requires]", 'python_version = "3.11"']
    return ("\n".join(lines) + "\n").encode("utf-8"), expected


@fuzz
@given(pipfile_documents())
def test_pipfile_gives_each_watched_package_at_its_line(document):
    data, expected = document
    if len({n for n, *_ in expected}) < len(expected):
        return  # two spellings of one name are one TOML key only when written alike
    result = read({"Pipfile": data}, "Pipfile")
    assert result.errors == []
    assert rows(result) == expected


CONDA_FORMS = [("={v}", "=={v}.*"), ("={v}=py27_0", "=={v}"), ("=={v}", "=={v}"), (" {v}", "=={v}"),
               (" {v} py_0", "=={v}"), (">={v},<99", ">={v},<99"), (" >={v}", ">={v}"), ("", "")]


@st.composite
def environment_documents(draw):
    lines = ["name: etl", "channels:", "  - conda-forge", "dependencies:"]
    expected = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(sorted(WATCHED) + ["python", "openssl", "pip"]))
        written, specifier = draw(st.sampled_from(CONDA_FORMS))
        version = draw(st.sampled_from(["2.9.0", "0.21.0", "1.26", "1"]))
        channel = draw(st.sampled_from(["", "conda-forge::", "defaults::"]))
        lines.append(f"  - {channel}{name}{written.format(v=version)}")
        if name in WATCHED:
            expected.append((name, str(SpecifierSet(specifier.format(v=version))), None, len(lines),
                             "environment.yml dependencies"))
    if draw(st.booleans()):
        lines.append("  - pip:")
        for text, requirement in draw(st.lists(requirements(), max_size=3)):
            lines.append(f"      - {json.dumps(text)}")
            if names.normalize(requirement.name) in WATCHED:
                expected.append((names.normalize(requirement.name), str(requirement.specifier),
                                 str(requirement.marker) if requirement.marker else None, len(lines),
                                 "environment.yml pip section"))
    lines.append("prefix: /opt/conda/envs/etl")
    return ("\n".join(lines) + "\n").encode("utf-8"), expected


@fuzz
@given(environment_documents())
def test_environment_gives_each_match_spec_and_pip_requirement_at_its_line(document):
    data, expected = document
    result = read({"environment.yml": data}, "environment.yml")
    assert result.errors == []
    assert rows(result) == expected


# -- the whole scan ----------------------------------------------------------------------------------------------

any_declaration = st.one_of(
    st.tuples(st.just("pyproject.toml"), pyproject_documents().map(lambda d: d[0])),
    st.tuples(st.just("setup.py"), setup_py_documents().map(lambda d: d[0])),
    st.tuples(st.just("setup.cfg"), setup_cfg_documents().map(lambda d: d[0])),
    st.tuples(st.just("Pipfile"), pipfile_documents().map(lambda d: d[0])),
    st.tuples(st.just("environment.yml"), environment_documents().map(lambda d: d[0])),
    st.sampled_from(NAMES).flatmap(lambda n: st.tuples(st.just(n), st.sampled_from(SEEDS[n]).flatmap(mutated))),
)


@settings(fuzz, max_examples=max(20, EXAMPLES // 4))  # a whole scan and report per example
@given(any_declaration, st.sampled_from(["json", "table", "html", "markdown", "sarif", "junit", "csv"]),
       st.booleans())
def test_auditor_scan_reports_any_declaration(case, output, as_tree):
    name, data = case
    with tempfile.TemporaryDirectory() as top:
        files_in(top, {name: data})
        result = run("scan", "--format", output, "-q", top if as_tree else os.path.join(top, name))
        assert result.code in (0, 1, 2), result.err
        if result.code == 2:
            assert result.err.count("\n") == 1, result.err
        elif output == "json":
            assert result.json  # valid against the published schema


# -- regressions found by these properties, as plain examples -----------------------------------------------

def test_an_escaped_surrogate_in_a_marker_or_string_is_reported_escaped():
    """packaging reads the escape "\\ud800" in a marker's string as a lone surrogate, which no UTF-8 report holds."""
    cases = {"requirements.txt": b'boto3; python_version < "\\ud800"\n',
             "Pipfile": b'[packages]\nboto3 = {version = "*", markers = "python_version < \'\\\\ud800\'"}\n',
             "setup.py": b'from setuptools import setup\nsetup(install_requires=["boto3; python_version < \'\\ud800\'"])\n'}
    for name, data in cases.items():
        (component,) = read({name: data}, name).components
        assert component.details["marker"] == "python_version < \"\\ud800\"", name


def test_values_that_double_at_each_name_are_read_once():
    """b = a + a; c = b + b; …: each literal is reached 2**40 times, and read once."""
    lines = ["from setuptools import setup", "a0 = ['boto==2.9.0']"]
    lines += [f"a{i} = a{i - 1} + a{i - 1}" for i in range(1, 41)]
    lines += ["options = {'install_requires': a40}"] + ["options = dict(**options, **options)" for _ in range(8)]
    lines += ["setup(**options)"]
    result = read({"setup.py": "\n".join(lines).encode()}, "setup.py")
    assert [(c.name, c.line) for c in result.components] == [("boto", 2)]


def test_aliases_repeat_a_declaration_and_are_read_once():
    """*a repeats its anchor's node: 140,000 of them, between anchors 400 KB apart (the file under its 1 MB cap),
    are two declarations."""
    text = ("a: &a boto=2.9.0\nx: " + "y" * 400_000 + "\nb: &b boto3=1.26\ndependencies: [" + "*a, *b, " * 70_000
            + "]\n")
    started = time.process_time()
    result = read({"environment.yml": text.encode()}, "environment.yml")
    assert time.process_time() - started < 5
    assert [(c.name, c.line) for c in result.components] == [("boto", 1), ("boto3", 3)]
