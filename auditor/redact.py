"""Keep secrets out of every output: credentials in URLs and token-like query values."""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|access_token|auth|password|passwd|secret|sig|signature|key|x-amz-signature|x-amz-credential|x-amz-security-token)=)[^&#\s]+")


def redact(text: str) -> str:
    """'https://user:tok@host/x?token=abc' -> 'https://***@host/x?token=***'."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    return _SECRET_QUERY.sub(r"\1***", text)


def redact_tree(value):
    """Redact every string inside a JSON-like structure."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    return value
