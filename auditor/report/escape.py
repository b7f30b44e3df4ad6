"""Scanned text made inert for the reader of each output family: a terminal (table, diff, CSV), Markdown,
HTML. A file name or a value read from a target may hold a terminal's control sequences (ESC [2K erases a
line, ESC ] 0 ; … BEL sets the window title), a carriage return that lets what follows overwrite what came
before, or a Unicode bidi control that shows "exe.txt" as "txt.exe". Each such character is written as its
Python escape (\\x1b, \\r, \\u202e), the way a name that is not UTF-8 already shows its bytes (\\xff).
"""

from __future__ import annotations

import re

from auditor.redact import redact

# Beside the C0 controls: DEL, the C1 controls (U+0085 ends a line, U+009B starts a CSI in 8-bit
# terminals), the bidi marks, embeddings, overrides and isolates, the line and paragraph separators, and lone
# surrogates (a saved report's text decoded with surrogatepass: no encoder writes them).
_UNSEEN = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_CONTROL = re.compile(f"[\x00-\x1f{_UNSEEN}]")
_CONTROL_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_UNSEEN}]")


def _shown(match: re.Match[str]) -> str:
    character: str = match.group()
    return character.encode("unicode_escape").decode("ascii")


def visible(text: str, newlines: bool = False) -> str:
    """Every control and bidi character as its escape; with `newlines`, a line feed stays (the tool's own
    multi-line table cells and documents)."""
    return (_CONTROL_BUT_NEWLINE if newlines else _CONTROL).sub(_shown, text)


def terminal(value: object) -> str:
    """A value for a plain-text line (table, diff, CSV, a message on stderr): redacted, then visible()."""
    return visible(redact(str(value)))


# -- Markdown -------------------------------------------------------------------------------------------

# The characters that format inline text or end a table cell; no scanned value starts a line, so the
# line-start ones (#, -, +, 1.) cannot start a heading or a list.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")
_MENTION = re.compile(r"@(?=\w)")


def markdown(value: object) -> str:
    """Scanned text as inert Markdown inline text: no HTML, no formatting, no table break, no line break,
    no control or bidi character (each shown as U+FFFD), no @mention."""
    text = _escape(redact(str(value)), quote=False)
    text = _CONTROL.sub("\ufffd", " ".join(text.split()))
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    return _MENTION.sub("@\u2060", text)


# -- HTML -----------------------------------------------------------------------------------------------

def html_text(value: object) -> str:
    """Text or an attribute value for HTML: redacted (before escaping: `&amp;` would hide `&token=` from
    the patterns), controls and bidi characters visible, then HTML-escaped."""
    return _escape(visible(redact(str(value)), newlines=True), quote=True)


def _escape(text: str, quote: bool) -> str:
    """html.escape, whose module (and html.entities with it) would cost a few milliseconds of every command's
    start-up for the table's terminal() alone."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("'", "&#x27;") if quote else text
