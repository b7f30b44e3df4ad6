"""The README and docs/ hold together: links resolve, every docs file is reachable from the README, the README
starts with the commands CI runs, and the rule packs' references to the documentation point at a real heading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))


def _prose(path: Path) -> str:
    """The text outside fenced code blocks, where links are links."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def _anchors(path: Path) -> set[str]:
    """GitHub's heading slugs: lower case, punctuation other than '-' dropped, spaces as '-'."""
    headings = re.findall(r"^#{1,6} (.+)$", _prose(path), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def _broken(source: Path, target: str) -> str | None:
    path, _, fragment = target.partition("#")
    destination = (source.parent / path).resolve() if path else source
    if not destination.exists():
        return f"{source.name}: {target} does not exist"
    if fragment and destination.suffix == ".md" and fragment not in _anchors(destination):
        return f"{source.name}: {target} names no heading of {destination.name}"
    return None


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda page: page.name)
def test_every_relative_link_reaches_a_file_and_heading(page):
    targets = [t for t in re.findall(r"\]\(([^)\s]+)\)", _prose(page)) if not re.match(r"[a-z]+:", t)]
    assert targets or page != README
    assert [problem for t in targets if (problem := _broken(page, t))] == []


def test_the_readme_links_every_docs_page():
    linked = set(re.findall(r"\]\(docs/([^)#]+)\)", _prose(README)))
    assert DOCS and sorted(page.name for page in DOCS if page.name not in linked) == []


def test_the_readme_starts_with_the_install_and_test_commands_ci_runs():
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert [block.strip() for block in blocks[:2]] == ["pip install . && auditor scan",
                                                      "pip install '.[test]' && pytest"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install --quiet '.[test]'" in ci and re.search(r"^pytest\b", ci, flags=re.M)


def test_rule_pack_references_to_the_documentation_name_a_heading():
    packs = sorted((REPO / "rules").rglob("*.toml")) + [REPO / "auditor" / "checks" / "waivers_pack.toml"]
    references = [ref for pack in packs
                  for ref in re.findall(r'"((?:README\.md|docs/[\w.-]+\.md)(?:#[\w-]+)?)"', pack.read_text("utf-8"))]
    assert references, "the waivers pack cites the README"
    assert [problem for ref in references if (problem := _broken(README, ref))] == []
