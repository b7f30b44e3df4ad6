"""Trust of the clients packaged in an archive (a Lambda package or layer, a wheel, an egg): each active client is
linked to the store it would use as packaged, by the reasoning of auditor.trust.client_store (certifi is preferred
when importable from the same import path), and that store is checked for the ATS anchors by the store book, as a
store in a folder is. Settings of the runtime (AWS_CA_BUNDLE, the AWS config file, a boto config) are not in the
archive, and the reasons say so; stores outside the archive are named, not read."""

from __future__ import annotations


from auditor import records
from auditor.collect.python.python_env import PathEntry
from auditor.facts.package import PackageFacts
from auditor.model import Component, ScanError
from auditor.trust.anchors import load_anchors
from auditor.trust.client_store import STORE_OWNER, StoreChoice, packaged_store
from auditor.trust.distrust import Distrust
from auditor.trust.stores import StoreBook

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from auditor.fs import StoreView

AS_PACKAGED = ("as packaged: the runtime environment may override it (AWS_CA_BUNDLE, the AWS config file's "
               "ca_bundle or REQUESTS_CA_BUNDLE for botocore; a boto config for boto), which the archive does not show")


def packaged_trust(view: StoreView, clients: list[tuple[list[PathEntry], list[Component]]], target: str,
                   as_of: str) -> tuple[list[Component], list[ScanError]]:
    """The stores the archive's active clients would use as packaged, checked, as components; their error entries."""
    if not any(STORE_OWNER.get(c.name) for _, found in clients for c in found):
        return [], []
    book = StoreBook(target, load_anchors(), as_of, Distrust(), view)
    main = [e.host for e in clients[0][0]] if clients else []
    for entries, found in clients:
        hosts = [e.host for e in entries] + [h for h in main if h not in {e.host for e in entries}]
        choices: dict[str, StoreChoice | None] = {}
        for component in found:
            owner, package = STORE_OWNER.get(component.name), component.facts_as(PackageFacts)
            if owner is None or not package.loaded:
                continue
            if owner not in choices:
                choices[owner] = _confined(view, packaged_store(view, hosts, owner))
            choice = choices[owner]
            if choice is None:
                book.unlinked(component, f"{owner} is not in the archive beside it: at run time it comes from elsewhere "
                                         f"(on Lambda, the runtime's own copy), which a scan of the archive does not see")
                continue
            where = package.on_path.entry if package.on_path else component.location
            book.use(view, records.replace(choice, reasons=[*choice.reasons, AS_PACKAGED]),
                     f"{component.name} {component.version or '(version unknown)'} in {where}", component)
    return book.components(), book.errors


def _confined(view: StoreView, choice: StoreChoice | None) -> StoreChoice | None:
    """A store choice with the stores outside the archive (a distribution's patch naming the OS bundle) not
    checked: they are files of the system the code runs on, which this scan does not read."""
    if choice is None:
        return None
    outside = [p for p in [choice.path, *(f for f, _ in choice.fallbacks)] if p is not None and not view.inside(p)]
    if not outside:
        return choice
    reasons = choice.reasons + [f"{p} is a file of the system the code runs on, not of the archive: not checked"
                                for p in outside]
    return records.replace(choice, path=choice.path if choice.path not in outside else None, reasons=reasons,
                           fallbacks=[(f, when) for f, when in choice.fallbacks if f not in outside])
