"""A Python package's typed facts (auditor/facts/package.py): every python-package component is made with its
`PackageFacts` complete, its JSON details are produced from them (its trust, set by the trust stage, follows), and
a saved report's details read back into the same facts."""

import json
import zipfile
from pathlib import Path

import pytest

from auditor.facts.client_trust import CLIENT_TRUST_KEYS
from auditor.facts.package import OnPath, PackageFacts, Requirement
from auditor.model import Component, Report
from conftest import ENVS
from test_facts import _scan_components

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
AS_OF = "2026-12-01"
EGG = ENVS / "py27-easy-install/lib/python2.7/site-packages/boto-2.9.0-py2.7.egg"  # as easy_install zipped it
VENV = ENVS / "py3-venv/lib/python3.11/site-packages"  # boto 2.49.0 among others


def _packages(components: list[Component]) -> list[Component]:
    return [c for c in components if c.kind == "python-package"]


def _split(details: dict) -> tuple[dict, dict]:
    """A package's details as (its own keys, its trust's keys)."""
    return ({k: v for k, v in details.items() if k not in CLIENT_TRUST_KEYS},
            {k: v for k, v in details.items() if k in CLIENT_TRUST_KEYS})


def _assert_made_from_facts(packages: list[Component], data: dict) -> None:
    """Each package was made with its facts, and its details, key for key and in order, are its facts' followed by
    its trust's, both after every stage ran and in the JSON report."""
    assert packages
    shown = {c["id"]: c["details"] for c in data["components"]}
    for package in packages:
        assert isinstance(package.facts, PackageFacts), package.id
        own, trust = _split(package.details)
        expected = {**package.facts.to_details(), **(package.trust.to_details() if package.trust else {})}
        assert json.dumps(package.details) == json.dumps(expected), package.id
        assert own == package.facts.to_details() and (trust == {}) == (package.trust is None)
        assert json.dumps(shown[package.id]) == json.dumps(package.details)
        assert PackageFacts.from_details(package.details) == package.facts


def _scan(monkeypatch, *targets) -> tuple[list[Component], dict]:
    return _scan_components(monkeypatch, "scan", "--format", "json", "-q", "--as-of", AS_OF, *targets)


def test_installs_on_a_sys_path_are_judged_before_their_components_are_made(monkeypatch):
    # Two boto installs in one site directory (metadata of 2.9.0 without its package, an egg-info of another), an
    # easy-install egg moved to the front by its .pth, the AWS CLI v2 installer, and the botocore awscli carries.
    components, data = _scan(monkeypatch, ENVS / "duplicate-installs", ENVS / "py27-easy-install", ENVS / "aws-cli-v2",
                             FIXTURES / "vendored")
    packages = _packages(components)
    _assert_made_from_facts(packages, data)
    facts = {c.id: c.facts for c in packages}
    installs = [c for c in packages if c.facts.on_path is not None]
    assert all(f.requirement is None for f in facts.values())
    # Exactly one install of each name on each path is active, and each other names it as the one that shadows it.
    shadowed = [c for c in installs if c.facts.shadowed_by]
    assert shadowed and all(c.facts.active is False for c in shadowed)
    for install in shadowed:
        winner = next(c for c in packages if c.id == install.facts.shadowed_by)
        assert winner.name == install.name and winner.facts.active is True and winner.target == install.target
    assert any(f.module_version for f in facts.values())
    assert any(f.on_path and "moved to the front" in f.on_path.origin for f in facts.values())
    cli_v2 = [c.facts for c in packages if c.facts.distribution]
    assert cli_v2 and all(f.on_path is None and f.active is not None for f in cli_v2)
    [carried] = [c for c in packages if c.facts.carried_by]
    awscli = next(c for c in installs if c.name == "awscli" and c.target == carried.target)
    assert carried.facts.on_path == awscli.facts.on_path and carried.facts.active == awscli.facts.active


def test_requirements_of_lockfiles_and_declarations_keep_the_file_s_words_in_order(monkeypatch):
    components, data = _scan(monkeypatch, FIXTURES / "lockfiles", FIXTURES / "declared")
    packages = _packages(components)
    _assert_made_from_facts(packages, data)
    requirements = [c.facts.requirement for c in packages]
    assert all(r is not None for r in requirements)
    assert {r.pinned for r in requirements} == {True, False}
    stated = {name for r in requirements for name in r.stated}
    assert {"marker", "section", "group", "written", "extra", "source", "included_by"} <= stated
    # The file's words come before the range, in the order its reader met them.
    poetry = next(c for c in packages if "constraint 1 of 2" in c.source)
    assert list(poetry.details)[:3] == ["python", "marker", "written"] == list(poetry.facts.requirement.stated)


def _egg_with_a_layer_copy(path: Path) -> None:
    """boto 2.9.0's zipped egg as easy_install wrote it, with boto 2.49.0's package in a Lambda layer's python/
    folder beside it: the egg's own boto is imported first and shadows the other."""
    with zipfile.ZipFile(EGG) as egg, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name in ("EGG-INFO/PKG-INFO", "boto/__init__.py"):
            out.writestr(name, egg.read(name))
        out.writestr("python/boto/__init__.py", (VENV / "boto/__init__.py").read_bytes())


def test_an_archive_s_packages_are_made_with_their_facts_and_name_the_zipped_egg_that_shadows_them(monkeypatch, tmp_path):
    egg = tmp_path / "boto-2.9.0-py2.7.egg"
    _egg_with_a_layer_copy(egg)
    components, data = _scan(monkeypatch, egg, ENVS / "py3-old-botocore")
    packages = _packages(components)
    _assert_made_from_facts(packages, data)
    own = next(c for c in packages if c.source == "zipped egg EGG-INFO/PKG-INFO")
    assert (own.name, own.version, own.facts.active) == ("boto", "2.9.0", True)
    layer = next(c for c in packages if c.location.endswith("!/python/boto/__init__.py"))
    assert (layer.version, layer.facts.active, layer.facts.shadowed_by) == ("2.49.0", False, own.id)
    assert layer.facts.on_path == OnPath(f"{egg}!/python", "a Lambda layer's python folder (/opt/python)")


def test_a_saved_report_s_packages_read_back_into_the_same_facts(monkeypatch):
    components, data = _scan(monkeypatch, ENVS / "duplicate-installs", FIXTURES / "lockfiles/modern/poetry")
    saved = {c.id: c for c in Report.from_dict(data).components}
    for live in _packages(components):
        assert saved[live.id].facts is None
        assert saved[live.id].facts_as(PackageFacts) == live.facts


def test_a_requirement_states_only_its_fields():
    with pytest.raises(TypeError):
        Requirement.of("==1.0", True, {"colour": "blue"})
    with pytest.raises(TypeError):
        Requirement("==1.0", True, ("colour",))
    assert Requirement.of("", False, {"vcs_ref": None}).to_details() == {"vcs_ref": None, "specifier": "", "pinned": False}


WITH_PACKAGES = sorted(p for p in (TESTS / "golden").glob("*.json")
                       if '"kind": "python-package"' in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", WITH_PACKAGES, ids=lambda p: p.stem)
def test_every_recorded_package_round_trips_key_for_key(path):
    """from_details then to_details, followed by the trust's keys, gives the same JSON in the same key order for
    every package of every golden report: the typed facts hold everything a report says about a package."""
    report = json.loads(path.read_text(encoding="utf-8"))["report"]
    packages = [c["details"] for c in report["components"] if c["kind"] == "python-package"]
    assert packages
    for details in packages:
        facts = PackageFacts.from_details(details)
        assert json.dumps({**facts.to_details(), **_split(details)[1]}) == json.dumps(details)
        assert PackageFacts.from_details(facts.to_details()) == facts
