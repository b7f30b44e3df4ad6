"""Typed facts of a component kind: what the stage that found a thing knows about it, complete when that stage
hands it on. A later stage that links the thing to others sets explicit fields through its owner's one method
(for a trust store and a client's trust, `StoreBook.use`), never by editing another stage's dict.

A component's JSON `details` are produced from its facts (`to_details`), key for key and in the order reports have
always had; `from_details` reads them back from a saved report, so readers can use the typed fields either way.
One module per kind; this one holds what they share."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:  # for annotations only: a Protocol needs typing at run time
    from typing import Any, Protocol, TypeVar

    class Facts(Protocol):
        """What every typed fact of a component kind provides: its JSON details, and itself read back from them."""

        def to_details(self) -> dict[str, Any]: ...

        @classmethod
        def from_details(cls, details: dict[str, Any]) -> Facts: ...

    F = TypeVar("F", bound=Facts)


# The details keys of a client's trust (auditor.facts.client_trust.ClientTrust.to_details): here, so that whether a
# component is a client is known without defining the records of client trust (auditor truststore has none).
CLIENT_TRUST_KEYS = ("trust_reasons", "certificate_validation", "trust_store", "trust_store_id", "trust_fallbacks",
                     "also_runs_in", "trust_store_anchors", "proxy_ca_missing")


def json_copy(value: Any) -> Any:
    """A fact's value as JSON data of its own: tuples as lists, containers copied."""
    if isinstance(value, (list, tuple)):
        return [json_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    return value
