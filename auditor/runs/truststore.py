"""`auditor truststore`: stores named on the command line, checked for the ATS anchors.

Kept apart from scan.py so the command imports no tree walker or resolver."""

from __future__ import annotations

import os

from auditor.trust.anchors import load_anchors
from auditor.trust.distrust import read_distrust
from auditor.facts.trust_store import TrustStoreFacts
from auditor.fs import View
from auditor.model import Report, ScanError, Target
from auditor.checks.rules import Pack, ReleaseDates, evaluate
from auditor.trust.stores import StoreBook


class NothingRead(Exception):
    """No named store could be read."""


def inspect_stores(paths: list[str], packs: list[Pack], fail_on: str, as_of: str = "", password: str | None = None) -> Report:
    """`auditor truststore`: each store's format, size and ATS anchors, judged by the packs."""
    report = Report.start(packs, fail_on, as_of)
    anchors = load_anchors()
    # A store named on the command line is this machine's: its links (hashed directories
    # link into /usr/share/ca-certificates) are followed wherever they go on the machine.
    view = View("/", display_top="/")
    book = StoreBook("command line", anchors, report.as_of, read_distrust(view, anchors), view)
    for path in paths:
        if os.path.lexists(path):
            book.add(view, os.path.abspath(path), "named on the command line", password)
        else:
            report.errors.append(ScanError(path, "no such file or directory"))
    stores = book.components()
    report.errors.extend(book.errors)
    facts = [c.facts_as(TrustStoreFacts) for c in stores]
    report.targets.extend(Target("trust-store", c.location, {"format": f.format}) for c, f in zip(stores, facts))
    # An unreadable store is an error entry, not a store without anchors.
    report.components = [c for c, f in zip(stores, facts) if f.problem is None]
    if not report.components:
        raise NothingRead("; ".join(f"{e.location}: {e.message}" for e in report.errors) or "no store could be read")
    report.findings = list(evaluate(packs, report.components, ReleaseDates({})))  # no package: no release dates
    report.sort()
    return report
