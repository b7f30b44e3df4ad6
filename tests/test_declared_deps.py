"""Declared dependencies: pyproject.toml, setup.cfg, setup.py, Pipfile and conda environment files, judged as the
ranges of a lockfile are, each pin at its file and line (fixtures/declared/PROVENANCE.md)."""

import os
import shutil
import textwrap
from importlib import metadata

import pytest
from packaging.specifiers import SpecifierSet
from poetry.core.constraints.version import Version as PoetryVersion
from poetry.core.constraints.version import parse_constraint

from auditor.collect.python.lockfiles import lockfile_format
from auditor.collect.python.lockfiles.declared.conda import Unconvertible as CondaUnconvertible
from auditor.collect.python.lockfiles.declared.conda import version_and_build
from auditor.collect.python.lockfiles.declared.poetry import Unconvertible, python_marker, to_pep440
from auditor.checks.rules import ReleaseDates
from conftest import FIXTURES, LOCKS, findings_for, run, scan_json

DECLARED = FIXTURES / "declared"
POETRY_FOLLOWS_PEP440 = tuple(map(int, metadata.version("poetry-core").split(".")[:2])) >= (2, 5)
BEFORE, UNPINNED = "ats-python-sdk-before-cutoff", "ats-python-sdk-unpinned"


def judged(report: dict) -> set[tuple]:
    """(name, version, specifier, line, source, rules that flag it) of every package the report holds."""
    return {(c["name"], c["version"], c["details"]["specifier"], c["line"], c["source"],
             tuple(sorted(f["rule"] for f in findings_for(report, c))))
            for c in report["components"] if c["kind"] == "python-package"}


def lines_name_their_package(report: dict) -> None:
    for component in report["components"]:
        text = open(component["location"], encoding="utf-8").read().splitlines()
        line = text[component["line"] - 1]
        if "(constraint " in component["source"]:  # Poetry's list of constraints: each {…} on its own line
            assert component["details"]["written"] in line, component
        else:
            assert component["name"] in line.lower().replace("_", "-"), component


def write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# -- the fixtures, file by file --------------------------------------------------------------------------------

EXPECTED = {
    "awscli-1.2.1/setup.py": {
        # a range that admits only pre-cutoff releases: flagged, and not pinned
        ("botocore", None, "<0.22.0,>=0.21.0", 9, "setup.py install_requires", (BEFORE, UNPINNED)),
    },
    "setuptools-2013/setup.py": {
        ("boto", "2.9.0", "==2.9.0", 19, "setup.py install_requires", (BEFORE,)),
        ("botocore", None, "<0.22", 44, "setup.py extras_require dynamodb", (BEFORE, UNPINNED)),
        ("awscli", None, ">=1.0.0", 45, "setup.py extras_require cli", (UNPINNED,)),
    },
    "setup-cfg/setup.cfg": {
        ("boto", "2.9.0", "==2.9.0", 16, "setup.cfg [options] install_requires", (BEFORE,)),
        ("awscli", None, ">=1.11.0", 18, "setup.cfg [options] install_requires", (UNPINNED,)),
        ("botocore", None, "<0.22", 26, "setup.cfg [options.extras_require] dynamodb", (BEFORE, UNPINNED)),
        ("boto3", None, ">=1.4.4", 27, "setup.cfg [options.extras_require] glacier", (UNPINNED,)),
    },
    "pep621/pyproject.toml": {
        ("boto3", None, ">=1.26.0", 14, "pyproject.toml [project] dependencies", (UNPINNED,)),
        ("botocore", None, "<0.22", 16, "pyproject.toml [project] dependencies", (BEFORE, UNPINNED)),
        ("awscli", "1.34.0", "==1.34.0", 21, "pyproject.toml [project.optional-dependencies] cli", ()),  # safe
        ("boto", "2.9.0", "==2.9.0", 24, "pyproject.toml [project.optional-dependencies] legacy", (BEFORE,)),
        ("awscli", None, "<1.2.2,>=1.0.0", 33, "pyproject.toml [dependency-groups] test", (BEFORE, UNPINNED)),
    },
    "poetry/pyproject.toml": {
        ("boto3", None, ">=1.26,<2.0", 11, "pyproject.toml [tool.poetry.dependencies]", (UNPINNED,)),
        ("awscli", "1.34.0", "==1.34.0", 12, "pyproject.toml [tool.poetry.dependencies]", ()),
        ("botocore", None, ">=0.21,<0.22", 14, "pyproject.toml [tool.poetry.dependencies] (constraint 1 of 2)",
         (BEFORE, UNPINNED)),
        ("botocore", None, ">=1.35,<2.0", 15, "pyproject.toml [tool.poetry.dependencies] (constraint 2 of 2)",
         (UNPINNED,)),
        ("boto", "2.9.0", "==2.9.0", 25, "pyproject.toml [tool.poetry.group.dev.dependencies]", (BEFORE,)),
        ("s3transfer", None, "@ https://github.com/boto/s3transfer.git", 31,
         "pyproject.toml [tool.poetry.group.legacy.dependencies]", (UNPINNED,)),
    },
    "pipenv/Pipfile": {
        ("boto", "2.9.0", "==2.9.0", 7, "Pipfile [packages]", (BEFORE,)),
        ("boto3", None, "", 8, "Pipfile [packages]", (UNPINNED,)),
        ("awscli", None, "<1.2.2,>=1.1.0", 10, "Pipfile [packages]", (BEFORE, UNPINNED)),
        ("botocore", "1.35.0", "==1.35.0", 14, "Pipfile [dev-packages]", ()),
        ("s3transfer", None, "@ https://github.com/boto/s3transfer.git", 15, "Pipfile [dev-packages]", (UNPINNED,)),
    },
    "conda/environment.yml": {
        ("boto", "2.9.0", "==2.9.0", 7, "environment.yml dependencies", (BEFORE,)),  # boto=2.9.0=py27_0
        ("boto3", None, "==1.26.*", 9, "environment.yml dependencies", (UNPINNED,)),  # conda-forge::boto3=1.26
        ("awscli", "1.2.1", "==1.2.1", 16, "environment.yml pip section", (BEFORE,)),
        ("botocore", None, ">=1.35.0", 17, "environment.yml pip section", (UNPINNED,)),
    },
}


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_each_declaration_file_is_judged_at_its_lines(relative):
    path = DECLARED / relative
    report = scan_json(path)
    assert judged(report) == EXPECTED[relative]
    assert report["errors"] == []
    assert [t["details"]["format"] for t in report["targets"]] == [lockfile_format(path.name)]
    lines_name_their_package(report)


def test_a_range_finding_says_which_releases_it_admits():
    report = scan_json(DECLARED / "awscli-1.2.1/setup.py")
    (finding,) = [f for f in report["findings"] if f["rule"] == BEFORE]
    assert finding["severity"] == "high"
    assert any("newest it admits is 0.21.0" in e["summary"] for e in finding["evidence"])
    assert any(e.get("source", "").endswith("setup.py") and e.get("line") == 9 for e in finding["evidence"])


def test_details_keep_markers_extras_groups_and_what_was_written():
    components = {(c["name"], c["line"]): c["details"] for c in scan_json(DECLARED / "poetry/pyproject.toml")["components"]}
    assert components[("botocore", 14)]["marker"] == 'python_version < "3.10"'
    assert components[("botocore", 14)]["written"] == "~0.21"
    assert components[("awscli", 12)]["optional"] is True
    assert components[("s3transfer", 31)] | {} == {"group": "legacy", "git": "https://github.com/boto/s3transfer.git",
                                                   "tag": "0.1.13", "specifier": "@ https://github.com/boto/s3transfer.git",
                                                   "pinned": False}
    pep621 = {c["line"]: c["details"] for c in scan_json(DECLARED / "pep621/pyproject.toml")["components"]}
    assert pep621[16]["marker"] == 'python_version < "3"'
    assert (pep621[33]["group"], pep621[33]["included_by"]) == ("test", ["dev"])
    assert pep621[24]["extra"] == "legacy"
    conda = {c["line"]: c["details"] for c in scan_json(DECLARED / "conda/environment.yml")["components"]}
    assert (conda[7]["build"], conda[9]["channel"]) == ("py27_0", "conda-forge")


def test_the_inputs_the_locking_tools_read_are_judged_too():
    """The pyproject.toml and Pipfile the locking tools were run on (fixtures/lockfiles/PROVENANCE.md)."""
    for relative, source in [("legacy/uv/pyproject.toml", "pyproject.toml [project] dependencies"),
                             ("legacy/pipenv/Pipfile", "Pipfile [packages]")]:
        report = scan_json(LOCKS / relative)
        assert judged(report) == {("awscli", "1.2.1", "==1.2.1", 7, source, (BEFORE,)),
                                  ("boto", "2.49.0", "==2.49.0", 8, source, ())}


def test_pyproject_named_on_the_command_line_is_not_read_as_a_requirements_file(tmp_path):
    # Read as a requirements file, no line of it starts with a package name: it passed with nothing found.
    path = write(tmp_path / "pyproject.toml", """\
        [project]
        name = "nightly-backup"
        version = "0.1.0"
        dependencies = [
            "boto==2.9.0",
        ]
        """)
    result = run("scan", "--format", "json", "-q", path)
    assert result.code == 1
    report = result.json
    assert report["targets"] == [{"kind": "lockfile", "location": str(path), "details": {
        "format": "pyproject.toml", "searched": ["the file, read as pyproject.toml"], "not_scanned": 0}}]
    assert judged(report) == {("boto", "2.9.0", "==2.9.0", 5, "pyproject.toml [project] dependencies", (BEFORE,))}


def test_a_tree_walk_finds_every_declaration_file(tmp_path):
    shutil.copytree(DECLARED, tmp_path / "repo")
    report = scan_json(tmp_path / "repo")
    formats = sorted((os.path.relpath(t["location"], tmp_path / "repo"), t["details"]["format"])
                     for t in report["targets"] if t["kind"] == "lockfile")
    assert formats == sorted([(relative, lockfile_format(relative)) for relative in EXPECTED]
                             + [("computed/setup.py", "setup.py")])
    found = {(os.path.relpath(c["location"], tmp_path / "repo"), c["name"], c["line"]) for c in report["components"]}
    assert found == {(relative, row[0], row[3]) for relative, rows in EXPECTED.items() for row in rows} | {
        ("computed/setup.py", "boto3", 19)}
    assert {os.path.relpath(e["location"], tmp_path / "repo") for e in report["errors"]} == {"computed/setup.py"}


# -- setup.py: read, never run ------------------------------------------------------------------------------------

def test_a_computed_setup_py_value_is_an_error_entry_at_its_line():
    report = scan_json(DECLARED / "computed/setup.py")
    how = ("it cannot be judged without running setup.py: write it as a literal list in setup.py, or declare the "
           "requirements in setup.cfg [options] or pyproject.toml [project], to make it judgeable")
    assert sorted((e["location"], e["message"]) for e in report["errors"]) == [
        (str(DECLARED / "computed/setup.py"),
         f"line 17: install_requires is computed at run time (a call to read_requirements()); {how}"),
        (str(DECLARED / "computed/setup.py"),
         f"line 20: extras_require 'dev' is computed at run time (a comprehension); {how}"),
    ]
    # the literal extra beside them is still read
    assert judged(report) == {("boto3", None, ">=1.4.0", 19, "setup.py extras_require aws", (UNPINNED,))}


def test_setup_py_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    path = write(tmp_path / "project" / "setup.py", f"""\
        import pathlib
        pathlib.Path({str(marker)!r}).write_text("setup.py ran")
        from setuptools import setup
        setup(name="x", install_requires=[pathlib.Path({str(marker)!r}).read_text(), "boto==2.9.0"])
        """)
    report = scan_json(path)
    assert not marker.exists()
    assert [(c["name"], c["line"]) for c in report["components"]] == [("boto", 4)]
    assert [e["message"].split(";")[0] for e in report["errors"]] == [
        "line 4: install_requires is computed at run time (a call to pathlib.Path().read_text())"]


def test_setup_py_forms_of_literals_and_names(tmp_path):
    path = write(tmp_path / "setup.py", """\
        import setuptools as st
        from distutils.core import setup as du_setup

        base = ['boto3>=1.4']
        aws = base + ['botocore<0.22']
        aws += ('awscli==1.2.1',)
        aws.insert(0, 's3transfer==0.1.13')
        extras = dict(s3=['boto3>=1.4'])
        extras['legacy:python_version < "3"'] = ['boto==2.9.0']
        options = {'install_requires': aws, 'extras_require': extras}
        st.setup(name='a', **options)
        du_setup(name='b', setup_requires='boto>=2.0\\n# not this: boto==1.0\\n')
        """)
    report = scan_json(path)
    rows = {(c["name"], c["details"]["specifier"], c["line"], c["source"]) for c in report["components"]}
    assert rows == {
        ("boto3", ">=1.4", 4, "setup.py install_requires"),
        ("botocore", "<0.22", 5, "setup.py install_requires"),
        ("awscli", "==1.2.1", 6, "setup.py install_requires"),
        ("s3transfer", "==0.1.13", 7, "setup.py install_requires"),
        ("boto3", ">=1.4", 8, "setup.py extras_require s3"),
        ("boto", "==2.9.0", 9, 'setup.py extras_require legacy:python_version < "3"'),
        ("boto", ">=2.0", 12, "setup.py setup_requires"),
    }
    legacy = next(c for c in report["components"] if c["name"] == "boto" and c["line"] == 9)
    assert (legacy["details"]["extra"], legacy["details"]["marker"]) == ("legacy", 'python_version < "3"')
    assert report["errors"] == []


def test_setup_py_names_changed_by_code_it_cannot_follow_are_error_entries(tmp_path):
    path = write(tmp_path / "setup.py", """\
        from setuptools import setup
        from requirements import extra_requires
        requires = ['boto==2.9.0']
        for name in ['botocore']:
            requires.remove(name)
        setup(name='x', install_requires=requires, tests_require=extra_requires,
              extras_require={k: ['boto3'] for k in 'ab'})
        """)
    report = scan_json(path)
    assert [(c["name"], c["line"]) for c in report["components"]] == [("boto", 3)]
    assert sorted(e["message"].split(";")[0] for e in report["errors"]) == [
        "line 5: install_requires is computed at run time (requires is also changed by a statement this reader does "
        "not follow)",
        "line 6: tests_require is computed at run time (the name extra_requires, which is not bound to a literal here)",
        "line 7: extras_require is computed at run time (a comprehension)",
    ]


def test_python_2_setup_py_is_read_statement_by_statement(tmp_path):
    path = write(tmp_path / "setup.py", """\
        import sys
        from setuptools import setup

        print "installing"
        requires = ['boto==2.9.0']
        if sys.version_info < (2, 7):
            print >>sys.stderr, "old Python"
            requires.append('argparse')
        try:
            import json
        except ImportError, e:
            requires.append('simplejson')
        exec "requires.append('botocore==0.20.0')"

        setup(name='legacy', install_requires=requires)
        """)
    report = scan_json(path)
    assert [(c["name"], c["version"], c["line"]) for c in report["components"]] == [("boto", "2.9.0", 5)]
    # the statements that do not parse: the prints say nothing about requirements; the exec names `requires`
    (error,) = report["errors"]
    assert error["message"].startswith("line 13: does not parse as Python 3 (line 13: ")  # the reason, as this Python says it
    assert error["message"].endswith(") and may change the requirements; not read")


def test_setup_py_without_a_setup_call_that_can_be_followed(tmp_path):
    quiet = write(tmp_path / "a" / "setup.py", "from setuptools import setup\nsetup(name='x', version='1')\n")
    assert scan_json(quiet)["errors"] == []
    hidden = write(tmp_path / "b" / "setup.py", "import setuptools\nrun = setuptools.setup\n"
                                                "run(name='x', install_requires=['boto==2.9.0'])\n")
    (error,) = scan_json(hidden.parent)["errors"]
    assert error["message"].startswith("names install_requires or another requirements keyword, but not in a setup()")


# -- pyproject.toml ---------------------------------------------------------------------------------------------

def test_setuptools_dynamic_dependencies_are_read_from_their_files(tmp_path):
    write(tmp_path / "requirements" / "base.txt", "boto==2.9.0\nrequests>=2\n")
    write(tmp_path / "requirements" / "aws.txt", "awscli>=1.34\n")
    path = write(tmp_path / "pyproject.toml", """\
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "cron-jobs"
        version = "1.0"
        dynamic = ["dependencies", "optional-dependencies"]

        [tool.setuptools.dynamic]
        dependencies = {file = ["requirements/base.txt"]}
        optional-dependencies.aws = {file = "requirements/aws.txt"}
        optional-dependencies.outside = {file = ["../elsewhere.txt"]}
        """)
    report = scan_json(path)
    rows = {(os.path.relpath(c["location"], tmp_path), c["line"], c["source"], c["details"]["declared_by"])
            for c in report["components"]}
    assert rows == {
        ("requirements/base.txt", 1, "requirements file", "pyproject.toml [tool.setuptools.dynamic] dependencies"),
        ("requirements/aws.txt", 1, "requirements file",
         "pyproject.toml [tool.setuptools.dynamic] optional-dependencies.aws"),
    }
    assert [e["message"] for e in report["errors"]] == [
        "[tool.setuptools.dynamic] optional-dependencies.outside names '../elsewhere.txt', outside the scanned target; "
        "not read"]


def test_dynamic_dependencies_come_from_setup_files_beside_or_are_an_error(tmp_path):
    pyproject = '[project]\nname = "x"\nversion = "1"\ndynamic = ["dependencies"]\n'
    with_setup = write(tmp_path / "a" / "pyproject.toml", pyproject)
    write(tmp_path / "a" / "setup.cfg", "[options]\ninstall_requires =\n    botocore<0.22\n")
    report = scan_json(with_setup)
    assert judged(report) == {("botocore", None, "<0.22", 3, "setup.cfg [options] install_requires", (BEFORE, UNPINNED))}
    alone = write(tmp_path / "b" / "pyproject.toml", pyproject)
    assert [e["message"] for e in scan_json(alone.parent)["errors"]] == [
        "[project] dynamic lists dependencies, but neither [tool.setuptools.dynamic] nor a setup.cfg or setup.py "
        "beside it says what they are; not judged"]
    hatch = write(tmp_path / "c" / "pyproject.toml", pyproject + '[build-system]\nbuild-backend = "hatchling.build"\n')
    assert [e["message"] for e in scan_json(hatch.parent)["errors"]] == [
        "[project] dynamic lists dependencies: the build backend 'hatchling.build' computes them when it builds, so "
        "they cannot be judged here; write them in [project] to make them judgeable"]


def test_dependency_group_includes_that_do_not_resolve_are_errors(tmp_path):
    path = write(tmp_path / "pyproject.toml", """\
        [dependency-groups]
        a = [{include-group = "b"}, "boto==2.9.0"]
        b = [{include-group = "a"}]
        c = [{include-group = "missing"}, {path = "."}, 3]
        """)
    report = scan_json(path)
    assert [(c["name"], c["details"]["included_by"]) for c in report["components"]] == [("boto", ["b"])]
    assert sorted(e["message"] for e in report["errors"]) == [
        "line 1: [dependency-groups] a includes itself through include-group (a cycle)",
        "line 1: [dependency-groups] b includes itself through include-group (a cycle)",
        "line 1: [dependency-groups] c includes group 'missing', which is not defined",
        "line 1: [dependency-groups] c: 3 is not a requirement string; not read",
        "line 1: [dependency-groups] c: {'path': '.'} is neither a requirement nor {include-group = \"…\"}; not read",
    ]


def test_pdm_and_uv_development_dependencies(tmp_path):
    path = write(tmp_path / "pyproject.toml", """\
        [project]
        name = "x"
        version = "1"

        [tool.pdm.dev-dependencies]
        test = ["moto>=4", "botocore==0.21.0"]
        local = ["-e file:///${PROJECT_ROOT}/vendor/boto3#egg=boto3"]

        [tool.uv]
        dev-dependencies = ["awscli<1.2.2"]
        """)
    rows = {(c["name"], c["details"]["specifier"], c["line"], c["source"]) for c in scan_json(path)["components"]}
    assert rows == {
        ("botocore", "==0.21.0", 6, "pyproject.toml [tool.pdm.dev-dependencies] test"),
        ("boto3", "@ file:///${PROJECT_ROOT}/vendor/boto3#egg=boto3", 7,
         "pyproject.toml [tool.pdm.dev-dependencies] local (editable)"),
        ("awscli", "<1.2.2", 10, "pyproject.toml [tool.uv] dev-dependencies"),
    }


def test_wrong_shapes_and_broken_toml_are_error_entries(tmp_path):
    broken = write(tmp_path / "a" / "pyproject.toml", '[project]\ndependencies = ["boto==2.9.0"\n')
    assert scan_json(broken.parent)["errors"][0]["message"].startswith("invalid TOML")
    shapes = write(tmp_path / "b" / "pyproject.toml", """\
        [project]
        dependencies = "boto==2.9.0"
        optional-dependencies = ["x"]

        [tool.poetry.dependencies]
        boto = 2
        botocore = "^0.21 || ^1.35"
        awscli = "==1.2.1,"
        """)
    report = scan_json(shapes)
    assert sorted(e["message"] for e in report["errors"]) == [
        "[project.optional-dependencies] is a list, not a table; not read",
        "line 1: [project] dependencies is a str, not a list of requirements; not read",
        "line 6: boto = 2 is neither a constraint nor a table; not judged",
        "line 7: botocore '^0.21 || ^1.35': alternatives (||) have no PEP 440 form; not judged",
    ]
    # Poetry tolerates a trailing comma, as here
    assert judged(report) == {("awscli", "1.2.1", "==1.2.1", 8, "pyproject.toml [tool.poetry.dependencies]", (BEFORE,))}


# -- Poetry's constraints, as poetry-core reads them ---------------------------------------------------------------

@pytest.mark.parametrize("constraint, specifier", [
    ("^1.2", ">=1.2,<2.0"), ("^1.2.3", ">=1.2.3,<2.0.0"), ("^0.2.3", ">=0.2.3,<0.3.0"), ("^0.0.3", ">=0.0.3,<0.0.4"),
    ("^0.0", ">=0.0,<0.1"), ("^0", ">=0,<1"), ("~1.2.3", ">=1.2.3,<1.3.0"), ("~1.2", ">=1.2,<1.3"), ("~1", ">=1,<2"),
    ("~0.21", ">=0.21,<0.22"), ("1.2.*", "==1.2.*"), ("!=1.2.*", "!=1.2.*"), ("2.9.0", "==2.9.0"), ("=2.9.0", "==2.9.0"),
    ("==2.9.0", "==2.9.0"), (">=1,<2", ">=1,<2"), (">= 1.0, < 2.0", ">=1.0,<2.0"), (">=1 <2", ">=1,<2"),
    ("~=1.4.5", "~=1.4.5"), ("~=1", ">=1,<2"), ("*", ""), ("", ""), ("<>1.0", "==1.0"), ("^1.2.3b1", ">=1.2.3b1,<2.0.0"),
    ("^1!2.0", ">=1!2.0,<1!3.0"), ("v1.2", "==1.2"),
])
def test_poetry_constraints_convert_to_the_releases_poetry_allows(constraint, specifier):
    assert to_pep440(constraint) == specifier
    if constraint == "~=1" or not POETRY_FOLLOWS_PEP440:
        return  # ~=1 has no PEP 440 meaning; poetry-core before 2.5 (2.2 is the last for Python 3.9) departs from PEP 440
    converted = SpecifierSet(to_pep440(constraint))
    theirs = parse_constraint(constraint or "*")
    releases = [v for name in ("boto", "botocore", "awscli") for v in ReleaseDates.load().packages[name]]
    samples = releases + ["1.2", "1.2.3", "1.2.3b1", "1.3.0a1", "2.0.0rc1", "2.0", "0.0.3", "0.0.4", "0.1.0", "1!2.5"]
    for version in samples:
        try:
            poetry_version = PoetryVersion.parse(version)
        except ValueError:  # boto's 0.8d: not PEP 440, and Poetry cannot read it either
            continue
        assert converted.contains(version, prereleases=True) == theirs.allows(poetry_version), (constraint, version)


def test_poetry_alternatives_are_refused_not_guessed():
    with pytest.raises(Unconvertible, match="alternatives"):
        to_pep440("^2.9 || ^2.49")
    assert python_marker("~2.7 || ^3.5") == ('(python_version >= "2.7" and python_version < "2.8") or '
                                             '(python_version >= "3.5" and python_version < "4.0")')
    assert python_marker(">=3.8.1") == 'python_full_version >= "3.8.1"'
    assert python_marker("*") is None


# -- conda match specs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rest, specifier, build", [
    ("=2.9.0", "==2.9.0.*", None), ("=2.9.0=py27_0", "==2.9.0", "py27_0"), ("==2.9.0", "==2.9.0", None),
    (" 2.9.0", "==2.9.0", None), (" 2.9.0 py27_0", "==2.9.0", "py27_0"), (">=1.0,<2", ">=1.0,<2", None),
    (" >=1.0 , < 2.0 py34_0", ">=1.0,<2.0", "py34_0"), ("=1.26", "==1.26.*", None), ("=2.9.*", "==2.9.*", None),
    (" 2.9*", "==2.9.*", None), ("", "", None), (" *", "", None), ("=2.9.0=*", "==2.9.0", "*"),
    (">=2.9=py27_0", ">=2.9", "py27_0"),
])
def test_conda_match_specs_convert_as_conda_reads_them(rest, specifier, build):
    assert version_and_build(rest.strip()) == (specifier, build)


def test_conda_alternatives_and_non_environments(tmp_path):
    with pytest.raises(CondaUnconvertible, match="alternatives"):
        version_and_build(">=1.0|<0.5")
    path = write(tmp_path / "environment.yml", """\
        dependencies:
          - https://conda.example.com/t/tk-0123456789abcdef/private::boto=2.9.0
          - botocore 0.21.0|0.20.0
          - {not: a spec}
          - pip:
              - -r requirements-aws.txt
              - --index-url https://pypi.org/simple
              - -e git+https://github.com/boto/boto3.git#egg=boto3
        """)
    write(tmp_path / "requirements-aws.txt", "awscli==1.2.1\n")
    result = run("scan", "--format", "json", "-q", path)
    report = result.json
    rows = {(os.path.basename(c["location"]), c["name"], c["line"], c["source"]) for c in report["components"]}
    assert rows == {("environment.yml", "boto", 2, "environment.yml dependencies"),
                    ("requirements-aws.txt", "awscli", 1, "requirements file"),
                    ("environment.yml", "boto3", 8, "environment.yml pip section (editable)")}
    assert "tk-0123456789abcdef" not in result.out
    assert sorted(e["message"] for e in report["errors"]) == [
        "line 3: botocore '0.21.0|0.20.0': alternatives (|) have no PEP 440 form; not judged",
        "line 4: a dependencies entry that is neither a match spec nor a pip: list; not read"]
    for text in ("services:\n  web:\n    image: nginx\n", "name: x\ndependencies: none\n", "- boto=2.9.0\n", ""):
        other = write(tmp_path / "other" / "environment-dev.yml", text)
        report = scan_json(other)
        assert (report["components"], report["errors"]) == ([], []), text


# -- Pipfile --------------------------------------------------------------------------------------------------

def test_pipfile_categories_bare_versions_and_sources(tmp_path):
    path = write(tmp_path / "Pipfile", """\
        [[source]]
        url = "https://pypi.org/simple"
        verify_ssl = true
        name = "pypi"

        [packages]
        "boto" = "2.9.0"
        botocore = {version = ">=0.20,<0.22", index = "pypi", os_name = "== 'posix'"}

        [docs]
        awscli = {path = "./vendor/aws-cli", editable = true}

        [requires]
        python_version = "2.7"
        """)
    report = scan_json(path)
    rows = {(c["name"], c["version"], c["details"]["specifier"], c["line"], c["source"]) for c in report["components"]}
    assert rows == {("boto", "2.9.0", "==2.9.0", 7, "Pipfile [packages]"),
                    ("botocore", None, "<0.22,>=0.20", 8, "Pipfile [packages]"),
                    ("awscli", None, "@ ./vendor/aws-cli", 11, "Pipfile [docs]")}
    details = {c["name"]: c["details"] for c in report["components"]}
    assert details["boto"]["written"] == "2.9.0"
    assert details["botocore"]["marker"] == 'os_name == "posix"'
    assert report["summary"]["findings"]["high"] == 2


def test_credentials_in_declared_sources_stay_out_of_the_report(tmp_path):
    write(tmp_path / "pyproject.toml", """\
        [project]
        dependencies = ["boto @ https://ci:pyproject-s3cr3t@files.example.com/boto-2.9.0.tar.gz"]

        [tool.poetry.dependencies]
        boto3 = {git = "https://poetry-t0ken@github.com/boto/boto3.git", tag = "1.35.0"}
        botocore = ["https://ci:list-s3cr3t@files.example.com/botocore.tar.gz"]
        """)
    write(tmp_path / "Pipfile", '[packages]\nawscli = {file = "https://pipenv:pipfile-s3cr3t@files.example.com/awscli-1.2.1.tar.gz"}\n')
    for output in ("json", "table", "sarif"):
        result = run("scan", "--format", output, "-q", tmp_path)
        assert result.code == 1, result.err
        for secret in ("pyproject-s3cr3t", "poetry-t0ken", "list-s3cr3t", "pipfile-s3cr3t"):
            assert secret not in result.out
