"""Fuzz targets of the Python packaging parsers: core metadata (METADATA, PKG-INFO), .pth files, zipped eggs,
a package's __version__, requirements files, the lockfiles (poetry.lock, Pipfile.lock, uv.lock, pdm.lock,
pylock.toml), the files that declare dependencies (pyproject.toml, setup.cfg, setup.py, Pipfile,
environment.yml) and SBOMs (CycloneDX and SPDX JSON).

Each target writes the bytes where a scan finds such a file (a site-packages directory, a project folder),
runs the collector on it through a View as a scan does, judges the components with the shipped rule packs
and release dates, and renders the JSON report. It raises AssertionError on an outcome no input may have:
a component from outside the target, an error entry of more than one line, a line number past the end of
the file, a value the UTF-8 report cannot hold; any other exception propagates and is a finding as well.
Files are written only below one temporary directory, removed when the process exits. Importable without
pytest: TARGETS maps a name to a callable taking bytes.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Callable

from auditor import records
from auditor.collect import Collected
from auditor.collect.python.lockfiles import collect_lockfile, lockfile_format
from auditor.collect.python.python_env import collect_environment, environment_path
from auditor.collect.sbom import collect_sbom
from auditor.fs import View
from auditor.model import Report, ScanError
from auditor.report.json_report import render
from auditor.checks.rules import ReleaseDates, evaluate, select_packs
from workdirs import workdir  # fuzz/workdirs.py: run.py puts fuzz/ on sys.path

SITE = "lib/python2.7/site-packages"
LOCKFILES = ("poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "pylock.toml")
DECLARED = ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "environment.yml")
# Where the bytes go in a site directory, and the files around them that make the collector read them.
EGG_PTH = b"import sys; sys.__plen = len(sys.path)\n./boto-2.9.0-py2.7.egg\n./botocore-0.21.0-py2.7.egg\n"


def _egg(pkg_info: bytes, init: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("EGG-INFO/PKG-INFO", pkg_info)
        archive.writestr("boto/__init__.py", init)
    return buffer.getvalue()


SITE_LAYOUTS = {
    "metadata": lambda data: {"boto-2.9.0.dist-info/METADATA": data, "boto/__init__.py": b"__version__ = '2.9.0'\n"},
    "pkg-info": lambda data: {"botocore-0.21.0-py2.7.egg-info": data,
                              "botocore-0.21.0-py2.7.egg/EGG-INFO/PKG-INFO": data, "easy-install.pth": EGG_PTH},
    "pth": lambda data: {"easy-install.pth": data, "boto-2.9.0-py2.7.egg": _egg(b"Name: boto\nVersion: 2.9.0\n", b""),
                         "botocore-0.21.0-py2.7.egg/EGG-INFO/PKG-INFO": b"Name: botocore\nVersion: 0.21.0\n"},
    "zipped-egg": lambda data: {"boto-2.9.0-py2.7.egg": data, "easy-install.pth": EGG_PTH},
    "module-version": lambda data: {"boto/__init__.py": data, "boto-2.9.0.dist-info/METADATA": b"Name: boto\nVersion: 2.9.0\n"},
}

_judging: list = []  # (packs, release dates), loaded once
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SITE_27 = "envs/py27-easy-install/lib/python2.7/site-packages"
DUPLICATES_27 = "envs/duplicate-installs/lib/python2.7/site-packages"
# The real files of each kind the tests keep (written by pip, easy_install, the lockers), for the first corpus;
# the small ones: a seed of 100 kB slows every execution down. A zipped egg is made of the real PKG-INFO and
# __init__.py instead (the real one is 66 kB, compressed, which mutations mostly just break).
SEED_FILES = {
    "metadata": (f"{DUPLICATES_27}/boto-2.9.0.dist-info/METADATA",
                 f"{DUPLICATES_27}/botocore-1.20.112.dist-info/METADATA"),
    "pkg-info": (f"{SITE_27}/botocore-0.21.0-py2.7.egg/EGG-INFO/PKG-INFO",),
    "pth": (f"{SITE_27}/easy-install.pth", f"{DUPLICATES_27}/easy-install.pth"),
    "module-version": (f"{DUPLICATES_27}/botocore-0.21.0-py2.7.egg/botocore/__init__.py",),
    "requirements.txt": ("lockfiles/legacy/pip-tools/requirements.txt", "lockfiles/legacy/uv/requirements.txt"),
    "poetry.lock": ("lockfiles/legacy/poetry/poetry.lock",),
    "Pipfile.lock": ("lockfiles/legacy/pipenv/Pipfile.lock",),
    "uv.lock": ("lockfiles/legacy/uv/uv.lock",),
    "pdm.lock": ("lockfiles/legacy/pdm/pdm.lock",),
    "pylock.toml": ("lockfiles/legacy/pip/pylock.toml",),
    "pyproject.toml": ("declared/pep621/pyproject.toml", "declared/poetry/pyproject.toml"),
    "setup.cfg": ("declared/setup-cfg/setup.cfg",),
    "setup.py": ("declared/setuptools-2013/setup.py", "declared/computed/setup.py"),
    "Pipfile": ("declared/pipenv/Pipfile",),
    "environment.yml": ("declared/conda/environment.yml",),
    "sbom": ("sbom/image.cdx.json", "sbom/sbom.spdx.json"),
}




def write(root: str, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = os.path.join(root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(data)


def _line_count(data: bytes) -> int:
    """The lines of a file as a text-mode file reads them (a lone CR ends a line too, as for setup.cfg's reader):
    at least the "\n" count, so a bound for every reader."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 1


def check(collected: Collected, root: str, line_counts: dict[str, int]) -> None:
    """What every collector owes its caller, then the rules and the JSON report on it."""
    for error in collected.errors:
        assert isinstance(error, ScanError) and error.message and "\n" not in error.message, error
        assert error.location == root or error.location.startswith(root + os.sep), error
    for component in collected.components:
        assert component.kind == "python-package" and component.name, component
        assert component.location.startswith(root + os.sep), f"a component from outside the target: {component}"
        assert component.version is None or isinstance(component.version, str), component
        if component.line is not None:
            assert 1 <= component.line <= line_counts.get(component.location, 0), component
    if not _judging:
        _judging.append((select_packs([]), ReleaseDates.load()))
    packs, dates = _judging[0]
    components = [records.replace(c, released=dates.released(c.name, c.version)) if c.version else c
                  for c in collected.components]
    report = Report.start(packs, "high", "2026-11-28")
    report.components, report.errors = components, collected.errors
    report.findings = list(evaluate(packs, components, dates))
    json.loads(render(report).encode("utf-8"))  # encodable: no lone surrogate reached the report


def site_target(layout: str) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        root = workdir("site", empty=True)
        write(os.path.join(root, SITE), SITE_LAYOUTS[layout](data))
        view = View(root)
        sys_path = environment_path(view, [os.path.join(view.top, SITE)])
        entries = sys_path.entries
        assert all(view.inside(entry.host) for entry in entries), "a .pth line led out of the target"
        collected = collect_environment(view, entries, root, {"boto", "botocore", "awscli", "boto3", "s3transfer"})
        collected.errors += sys_path.errors
        check(collected, view.top, {})
    return target


def lockfile_target(name: str) -> Callable[[bytes], None]:
    # A requirements file is also written where it includes itself or a sibling (-r base.txt, -c sub/dev.txt).
    others = ("base.txt", "sub/dev.txt") if name == "requirements.txt" else ()

    def target(data: bytes) -> None:
        root = workdir("lockfile", empty=True)
        files = {name: data, **{other: data for other in others}}
        write(root, files)
        view = View(root)
        watched = _judging[0][1].tracked() if _judging else ReleaseDates.load().tracked()
        collected = collect_lockfile(view, os.path.join(view.top, name), root, watched, lockfile_format(name) or "requirements")
        check(collected, view.top, {os.path.join(view.top, f): _line_count(d) for f, d in files.items()})
    return target


def sbom_target(data: bytes) -> None:
    """An SBOM's Python packages are judged as a lockfile's pins; its other languages' SDKs must be of their kind and
    point into it too."""
    root = workdir("sbom", empty=True)
    write(root, {"bom.json": data})
    view = View(root)
    watched = _judging[0][1].tracked() if _judging else ReleaseDates.load().tracked()
    sbom = collect_sbom(view, os.path.join(view.top, "bom.json"), root, watched)
    for component in sbom.components:
        assert component.kind in ("python-package", "sdk-manifest"), component
        assert component.location.startswith(os.path.join(view.top, "bom.json#")), component
    python = Collected([c for c in sbom.components if c.kind == "python-package"], sbom.errors)
    check(python, view.top, {c.location: _line_count(data) for c in python.components})


TARGETS: dict[str, Callable[[bytes], None]] = {
    **{layout: site_target(layout) for layout in SITE_LAYOUTS},
    **{name: lockfile_target(name) for name in ("requirements.txt", *LOCKFILES, *DECLARED)},
    "sbom": sbom_target,
}


def seeds() -> dict[str, list[bytes]]:
    """Real files of each target's kind (tests/fixtures, where the checkout has them), for the first corpus."""
    found = {name: [(FIXTURES / path).read_bytes() for path in paths if (FIXTURES / path).is_file()]
             for name, paths in SEED_FILES.items()}
    found["zipped-egg"] = [_egg(pkg_info, init) for pkg_info, init in zip(found["pkg-info"], found["module-version"])]
    return found
