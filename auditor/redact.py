"""Keep secrets out of every output: credentials in URLs, secret query values and settings, and tokens.

Reports quote what scanned files say: a requirement URL, a script line that also sets AWS_CA_BUNDLE, a
boto3.client(...) call with verify=False and its keys. Whatever the value, these are masked:

- URL credentials, up to the last @ of the authority, as urllib reads a password with an unencoded @;
- a proxy setting's user:password@ without a scheme (HTTPS_PROXY=user:pass@proxy:3128, as curl accepts);
- the value of any setting, query parameter or keyword whose name says it is secret (aws_secret_access_key,
  AWS_SESSION_TOKEN, trustStorePassword, X-Amz-Signature, token, "SecretAccessKey": …), after =, := or :;
- the value after a secret command-line option (--storepass VALUE, aws configure set aws_secret_access_key VALUE);
- tokens recognisable on their own: AWS access key ids, GitHub, GitLab and PyPI tokens.
"""

from __future__ import annotations

import re

MASK = "***"
_SECRET_WORD = r"(?:secret|passw(?:or)?d|token|credential|signature|storepass|keypass|access_?key|api_?key|private_?key)"
_VALUE = r"""(?:"[^"\n]*"?|'[^'\n]*'?|[^\s&#'"<>,;)}\]]+)"""
# Lower-case patterns, matched on the lower-cased text: case-insensitive matching would cost several times as
# much, and every text of every report passes here. Each starts at a fixed text (://, _proxy, the secret word,
# -, configure), not at the start of the word around it; the part of a name before its secret word (AWS_ in
# AWS_SECRET_ACCESS_KEY) is kept as it is. The last group that took part in a match is what is masked.
_USERINFO = r"://([^/?#\s]*)@"
_PROXY = r"""_proxy[ \t]*[=:][ \t]*["']?([^\s/@"']+)@"""
# After a colon the name may not go on with a dash, which only prose does ("password-protected: give its …").
_NAMED = (rf"""(?:(?<=[?&;])(?:sig|key|auth|pass)|{_SECRET_WORD}[\w.-]*)["']?[ \t]*:?=[ \t]*({_VALUE})"""
          rf"""|{_SECRET_WORD}[\w.]*["']?[ \t]*:[ \t]*({_VALUE})""")
# An option's value does not start with "(": "--storepass (Java's default is changeit)" is a hint, not a password.
_OPTION = (rf"(?<![\w-])(?:--?[\w-]*(?:pass(?:word|wd)?|secret|token)"
           rf"|configure\s+set\s+(?:[\w.-]+\.)?aws_\w*(?:secret|token|key_id)\w*)(?![\w-])[ \t]+(?!\()({_VALUE})")
_PATTERNS = {name: (re.compile(pattern), re.compile(pattern, re.IGNORECASE))
             for name, pattern in (("userinfo", _USERINFO), ("proxy", _PROXY), ("named", _NAMED), ("option", _OPTION))}
# Tokens known by their form, wherever they are.
_TOKEN = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_\w{30,}|\bglpat-[\w-]{20,}"
                    r"|\bpypi-AgE[\w-]{30,}")
# Every secret name, option and short query parameter holds one of these (lower-cased).
_STEMS = ("pass", "secret", "token", "credential", "sig", "key", "auth")


def _masked(name: str, text: str) -> str:
    lower = text.lower()
    exact, any_case = _PATTERNS[name]
    # A few characters (İ) grow when lower-cased; then positions in `lower` are not those of `text`.
    matches = exact.finditer(lower) if len(lower) == len(text) else any_case.finditer(text)
    parts, last = [], 0
    for match in matches:
        start, end = match.span(match.lastindex)
        value = text[start:end]
        quote = value[:1] if value[:1] in ("'", '"') and name in ("named", "option") else ""  # a quoted value
        parts += [text[last:start], quote + MASK + (quote if len(value) > 1 and value[-1] == quote else "")]
        last = end
    return "".join(parts) + text[last:] if parts else text


def redact(text: str) -> str:
    """'https://user:tok@host/x?token=abc' -> 'https://***@host/x?token=***'.

    Each pattern runs only on a text that holds what its matches must hold: most texts of a report hold none.
    """
    lower = text.lower()
    if "@" in text and "://" in text:
        text = _masked("userinfo", text)
    if "@" in text and "_proxy" in lower:
        text = _masked("proxy", text)
    for stem in _STEMS:  # a loop, not any(): a generator per text costs more than the searches
        if stem in lower:
            if "=" in text or ":" in text:
                text = _masked("named", text)
            if "-" in text or "configure" in lower:
                text = _masked("option", text)
            break
    if "AKIA" in text or "ASIA" in text or "pypi-" in text or "glpat-" in text or ("_" in text and "gh" in text):
        text = _TOKEN.sub(MASK, text)
    return text


def redact_tree(value):
    """Redact every string inside a JSON-like structure."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    return value
