"""Keep secrets out of every output: credentials in URLs, secret query values and settings, and tokens.

Reports quote what scanned files say: a requirement URL, a script line that also sets AWS_CA_BUNDLE, a
boto3.client(...) call with verify=False and its keys. Whatever the value, these are masked:

- URL credentials, up to the last @ of the authority, as urllib reads a password with an unencoded @, and a
  password holding an unencoded / (http://u:p/ss@proxy:3128, as curl reads it);
- user:password@ without a scheme, in a proxy setting (HTTPS_PROXY=user:pass@proxy:3128, as curl accepts) or any
  word or quoted string ({"https": "user:pass@proxy:3128"});
- the value of any setting, query parameter or keyword whose name says it is secret (aws_secret_access_key,
  AWS_SESSION_TOKEN, MYSQL_PWD, trustStorePassword, X-Amz-Signature, token, _auth, X-Api-Key,
  "SecretAccessKey": …), after =, := or :, quoted, prefixed (b"…") or parenthesised ("…" "…");
- an Authorization header's credentials (Bearer …, Basic …), and a bearer token wherever it is;
- the value after a secret command-line option (--storepass VALUE, --sse-c-key VALUE, aws configure set
  aws_secret_access_key VALUE, npm config set //host/:_authToken VALUE), a password given with a user
  (curl -u user:pass, --user, --proxy-user), and -p of sshpass, mysql, mariadb and `… login`;
- tokens recognisable on their own: AWS access key ids, GitHub, GitLab, PyPI, npm and Slack tokens, and the
  secret path of a Slack or Discord webhook URL.
"""

from __future__ import annotations

import re

MASK = "***"
_SECRET_WORD = (r"(?:secret|passw(?:or)?d|_pwd|token|credential|signature|storepass|keypass|access[_-]?key|api[_-]?key"
                r"|private_?key|_auth(?=[\"']?[ \t]*:?=))")
# A quoted value may carry a string prefix (b"…", r'…') or be parenthesised, as Python joins ("…" "…").
_VALUE = r"""(?:[bruf]{0,2}"[^"\n]*"?|[bruf]{0,2}'[^'\n]*'?|\((?=[ \t]*["'])[^)\n]*\)?|[^\s&#'"<>,;)}\]]+)"""
# Lower-case patterns, matched on the lower-cased text: case-insensitive matching would cost several times as
# much, and every text of every report passes here. Each starts at a fixed text (://, _proxy, the secret word,
# -, configure), not at the start of the word around it; the part of a name before its secret word (AWS_ in
# AWS_SECRET_ACCESS_KEY) is kept as it is. The last group that took part in a match is what is masked.
# A password may hold a "/" that urllib would take for the path's start, but a port followed by a path may not.
_USERINFO = r"://(?:([^/?#\s]*)@|([^\s/?#@:]*:(?!\d*/)[^\s@]{0,256})@)"
_PROXY = r"""_proxy[ \t]*[=:][ \t]*["']?([^\s/@"']+)@"""
# user:password@host without a scheme, starting a word or a quoted string; the host is a name or an IPv4
# address, not a version (python-package:boto@2.9.0 is a component's id, and so is
# python-package:botocore@0.21.0.0:<12 hex digits>, whose four-part version reads like an address).
# Bounded: linear in a long word.
_BARE = (r"""(?:^|(?<=[\s"'=,(\[{]))[^\s:@/"'=,(\[{]{1,64}:([^\s@"'/]{1,256})@"""
         r"""(?=[a-z\[]|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])(?!:[0-9a-f]{12}(?![0-9a-z])))""")
# After a colon the name may not go on with a dash, which only prose does ("password-protected: give its …").
_NAMED = (rf"""(?:(?<=[?&;])(?:sig|key|auth|pass)|{_SECRET_WORD}[\w.-]*)["']?[ \t]*:?=[ \t]*({_VALUE})"""
          rf"""|{_SECRET_WORD}[\w.]*["']?[ \t]*:[ \t]*({_VALUE})"""
          rf"""|(?<![\w-])authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:bearer|basic|token|digest|negotiate)[ \t]+)?({_VALUE})""")
_BEARER = r"(?<![\w-])bearer[ \t]+([\w.~+/=-]{8,})"
# An option's value does not start with "(": "--storepass (Java's default is changeit)" is a hint, not a password.
_OPTION = (rf"(?<![\w-])(?:--?[\w-]*(?:pass(?:word|wd)?|secret|token|key)"
           rf"|configure\s+set\s+(?:[\w.-]+\.)?aws_\w*(?:secret|token|key_id)\w*"
           rf"|config\s+set\s+[^\s=]{{0,200}}?(?:_auth|token|_password)[\w-]*)(?![\w-])[ \t]+(?!\()({_VALUE})")
# The password of user:password given to curl, wget and others (docker run -u 1000:1000 loses its group).
_USER = rf"""(?<![\w-])(?:-u|--user|--proxy-user|--http-user)(?:[ \t]+|=)?["']?[^\s:"'@/]{{0,200}}:({_VALUE})"""
# -p takes the password of sshpass and mysql (-pSECRET), and of `docker login` and its kin.
_DASH_P = rf"""\b(?:sshpass|mysql\w*|mariadb\w*|login)\b[^;&|\n]{{0,200}}?(?<![\w-])-p[ \t]*({_VALUE})"""
_BARE_HOST = r"@(?=[a-z\[]|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})"  # the start of _BARE's host, after its "@"
_WEBHOOK = r"(?:hooks\.slack\.com/(?:services|workflows|triggers)|discord(?:app)?\.com/api/webhooks)/([\w/-]+)"
_SOURCES = {"userinfo": _USERINFO, "proxy": _PROXY, "bare": _BARE, "bare_host": _BARE_HOST, "named": _NAMED,
            "bearer": _BEARER, "option": _OPTION, "user": _USER, "dash_p": _DASH_P, "webhook": _WEBHOOK}
# Tokens known by their form, wherever they are.
_SOURCES["token"] = (r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_\w{30,}|\bglpat-[\w-]{20,}"
                     r"|\bpypi-AgE[\w-]{30,}|\bnpm_[A-Za-z0-9]{36}\b|\bxox[abposr]-[\w-]{10,}")
# Compiled when first needed: compiling all of them took about a tenth of a short command's run (auditor
# truststore), and most texts need none.
_PATTERNS: dict[tuple[str, bool], re.Pattern] = {}
# What a match of `named` must hold (lower-cased): one of its secret words, or a short secret query parameter
# ("?sig=", "&key=": see _query_secret). "auth" alone is not one: "Certification Authority" is prose.
_NAMED_WORDS = ("secret", "pass", "_pwd", "token", "credential", "signature", "access", "api", "private", "_auth",
                "authorization")
# What a match of `option` must hold (lower-cased), besides a blank before its value.
_OPTION_WORDS = ("pass", "secret", "token", "key", "config")
_QUOTED = ("named", "option", "user", "dash_p")  # patterns whose value may be quoted: the quotes are kept


def _masked(name: str, text: str) -> str:
    lower = text.lower()
    # A few characters (İ) grow when lower-cased; then positions in `lower` are not those of `text`.
    matches = _pattern(name, False).finditer(lower) if len(lower) == len(text) else _pattern(name, True).finditer(text)
    parts, last = [], 0
    for match in matches:
        # Every alternative of these patterns ends in a group; were none to take part, the whole match is masked.
        start, end = match.span(match.lastindex or 0)
        value = text[start:end]
        quote = value[:1] if value[:1] in ("'", '"') and name in _QUOTED else ""  # a quoted value
        parts += [text[last:start], quote + MASK + (quote if len(value) > 1 and value[-1] == quote else "")]
        last = end
    return "".join(parts) + text[last:] if parts else text


def _pattern(name: str, any_case: bool) -> re.Pattern:
    pattern = _PATTERNS.get((name, any_case))
    if pattern is None:
        pattern = _PATTERNS[name, any_case] = re.compile(_SOURCES[name], re.IGNORECASE if any_case else 0)
    return pattern


def _may_be_bare(text: str) -> bool:
    """Whether an "@" is followed by what the bare pattern's host must start with (its lookahead), matched as _masked
    matches: without it there is no match. A component's id (python-package:botocore@0.21.0:…) has none, and every
    id passes here; the check is a tenth of the pattern's cost."""
    lower = text.lower()
    if len(lower) == len(text):
        return _pattern("bare_host", False).search(lower) is not None
    return _pattern("bare_host", True).search(text) is not None


def _holds(lower: str, words: tuple[str, ...]) -> bool:
    for word in words:  # a loop, not any(): a generator per text costs more than the searches
        if word in lower:
            return True
    return False


def _query_secret(lower: str) -> bool:
    """Whether a short secret query parameter may be there: sig, key, auth or pass after ?, & or ;."""
    if "?" not in lower and "&" not in lower and ";" not in lower:
        return False
    for name in ("?sig", "&sig", ";sig", "?key", "&key", ";key", "?auth", "&auth", ";auth", "?pass", "&pass", ";pass"):
        if name in lower:
            return True
    return False


def redact(text: str) -> str:
    """'https://user:tok@host/x?token=abc' -> 'https://***@host/x?token=***'.

    Each pattern runs only on a text that holds what its matches must hold (_could_match): most texts of a report
    hold none.
    """
    for name in _could_match(text):
        text = _pattern("token", False).sub(MASK, text) if name == "token" else _masked(name, text)
    return text


def may_change(text: str) -> bool:
    """Whether redact() could change `text` (False: redact(text) is `text`, by construction). Every test of
    _could_match looks for a character that is neither a lower-case hexadecimal digit nor ":" (the bare pattern's host,
    after an "@", stops at a ":"), so a text ending in ":" and hexadecimal digits (an id) gets the same answer whatever
    the digits are (tests/test_no_secrets.py)."""
    return bool(_could_match(text))


def _could_match(text: str) -> list[str]:
    """The patterns whose matches `text` could hold, in the order redact() runs them. Judged on the text as given:
    a mask ("***") takes characters out and adds none that a test looks for, so a pattern left out here could not
    match after an earlier one masked its part either."""
    lower = text.lower()
    names = []
    if "@" in text:
        if "://" in text:
            names.append("userinfo")
        if "_proxy" in lower:
            names.append("proxy")
        if ":" in text and _may_be_bare(text):
            names.append("bare")
    if ("=" in text or ":" in text) and (_holds(lower, _NAMED_WORDS) or _query_secret(lower)):
        names.append("named")
    if (" " in text or "\t" in text) and ("-" in text or "config" in lower) and _holds(lower, _OPTION_WORDS):
        names.append("option")
    if "bearer" in lower:
        names.append("bearer")
    if "-" in text:
        if "-u" in lower:  # -u, --user, --proxy-user, --http-user
            names.append("user")
        if "-p" in lower and ("sshpass" in lower or "mysql" in lower or "mariadb" in lower or "login" in lower):
            names.append("dash_p")
    if "hooks.slack" in lower or "/api/webhooks/" in lower:
        names.append("webhook")
    if ("AKIA" in text or "ASIA" in text or "pypi-" in text or "glpat-" in text or ("_" in text and "gh" in text)
            or "npm_" in text or "xox" in text):
        names.append("token")
    return names


def redact_tree(value):
    """Redact every string inside a JSON-like structure."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    return value
