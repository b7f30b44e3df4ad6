"""One trust setting found in code or a script."""

from __future__ import annotations

from typing import NamedTuple, Optional

STATEMENT_CHARS = 200


class Setting(NamedTuple):
    line: int
    name: str  # "verify", "--no-verify-ssl", "--ca-bundle", "ca_bundle", "AWS_CA_BUNDLE"
    effect: str  # disabled | custom-bundle | unknown
    value: Optional[str]
    statement: str  # the setting and its value with the call or command that makes it, on one line; not the rest
    call: Optional[str] = None  # code: the SDK call or os.environ that takes the setting
    service: Optional[str] = None  # code: the service the client is made for, when written as a literal


def one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= STATEMENT_CHARS else text[:STATEMENT_CHARS - 1] + "…"
