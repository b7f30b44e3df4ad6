"""Release hygiene: the sdist and wheel that `python -m build` makes from this checkout (the wheel built from the
unpacked sdist, as build does by default), checked by `twine check --strict`; the wheel holds every file the package
reads at run time, the sdist what a packager needs to run the tests; the version has one source."""

import email.parser
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import tomli

from auditor.version import __version__
from conftest import SDIST_LEFT_OUT_LINKS, run

ROOT = Path(__file__).resolve().parent.parent
SDIST_FOLDERS = ("auditor", "rules", "tests", "bench", "fuzz", "docs", "contrib")
SDIST_FILES = ("README.md", "CHANGELOG.md", "pyproject.toml")


def _tool(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("AUDITOR_REQUIRE_BUILD"):  # CI installs the test extra, which has it
            raise
        pytest.skip(f"{module} is not installed (the test extra has it)")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    for module in ("build", "twine", "hatchling"):
        _tool(module)
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend of this environment (the test extra's hatchling), no network.
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    sdist = out / f"auditor-{__version__}.tar.gz"
    wheel = out / f"auditor-{__version__}-py3-none-any.whl"
    assert sdist.is_file() and wheel.is_file(), sorted(p.name for p in out.iterdir())
    return sdist, wheel


def test_twine_check_passes(dist):
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


def _package_data() -> set[str]:
    """What the package reads at run time besides its modules: its own data files (the schema, the CSS, the waiver
    pack, py.typed when there is one) and the rules folder, which the wheel holds as auditor/_rules."""
    wanted = {str(path.relative_to(ROOT)) for path in (ROOT / "auditor").rglob("*")
              if path.is_file() and "__pycache__" not in path.parts}
    wanted |= {"auditor/_rules/" + str(path.relative_to(ROOT / "rules")) for path in (ROOT / "rules").rglob("*")
               if path.is_file()}
    return wanted


def test_the_wheel_holds_every_module_and_data_file(dist):
    names = set(zipfile.ZipFile(dist[1]).namelist())
    wanted = _package_data()
    assert {"auditor/report/report.schema.json", "auditor/report/html_report.css", "auditor/_rules/packs/dynamodb-ats.toml",
            "auditor/_rules/anchors/amazon-root-ca-1.pem", "auditor/checks/waivers_pack.toml"} <= wanted
    assert wanted - names == set()
    assert not [name for name in names if not name.startswith(("auditor/", f"auditor-{__version__}.dist-info/"))]


def test_the_version_has_one_source(dist):
    project = tomli.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]  # taken from auditor/version.py
    with zipfile.ZipFile(dist[1]) as wheel:
        metadata = email.parser.Parser().parsestr(wheel.read(f"auditor-{__version__}.dist-info/METADATA").decode())
    assert metadata["Version"] == __version__
    assert run("--version").out == f"auditor {__version__}\n"
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def _tracked(folders: tuple[str, ...]) -> set[str] | None:
    if not (ROOT / ".git").exists():
        return None
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--", *folders], capture_output=True, timeout=60)
    if listed.returncode != 0:
        return None
    return {name for name in listed.stdout.decode().split("\0") if name}


def test_the_sdist_holds_the_tests_docs_and_changelog_and_unpacks_safely(dist, tmp_path):
    prefix = f"auditor-{__version__}/"
    with tarfile.open(dist[0]) as sdist:
        members = sdist.getmembers()
        if hasattr(tarfile, "data_filter"):  # Python 3.12, and 3.9-3.11 since their 2023 security releases
            for member in members:
                tarfile.data_filter(member, str(tmp_path))  # raises for an absolute or escaping link
    names = {member.name[len(prefix):] for member in members if member.isfile() or member.issym()}
    assert set(SDIST_FILES) <= names
    assert {"tests/test_config.py", "tests/conftest.py", "tests/golden/update.py", "docs/configuration.md"} <= names
    tracked = _tracked(SDIST_FOLDERS)
    if tracked is not None:  # a git checkout: every tracked file of those folders, but the links conftest makes
        assert tracked - names == {f"tests/fixtures/{name}" for name in SDIST_LEFT_OUT_LINKS}
