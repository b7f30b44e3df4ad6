"""Crontabs, read as cron reads them (crontab(5) of Debian's cron and of cronie): environment settings and
the entries that run with them.

A line whose first non-blank character is `#` is a comment; a comment may not follow a setting or an entry
on its line. `NAME = value` (blanks around `=` optional) sets a variable for the entries *after* it; a value
in matching single or double quotes keeps its blanks, and the quotes go. The value is taken as written: no
`$VAR` substitution and no `~` expansion. Anything else is an entry: five time fields or an `@reboot`-style
keyword, then (in /etc/crontab and /etc/cron.d, `system` files) the user, then the command, which runs
through /bin/sh up to its first unescaped `%`. cron itself sets SHELL=/bin/sh, PATH=/usr/bin:/bin, and
LOGNAME and HOME from the passwd line of the user; a crontab may set HOME, SHELL and PATH itself.
"""

from __future__ import annotations

import re

from auditor.records import field, record


_LINE_END = re.compile(r"\r\n|\n|\r")
_SETTING = re.compile(r"^\s*([^\s=]+)\s*=\s*(.*?)\s*$")
KEYWORDS = ("@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


@record
class CronSetting:
    name: str
    value: str
    line: int


@record
class CronEntry:
    line: int
    user: str  # "" in a user's own crontab: its owner runs it
    command: str
    settings: tuple[CronSetting, ...] = field(default_factory=tuple)  # the settings in force for it, in order


def parse_crontab(text: str, system: bool) -> tuple[list[CronSetting], list[CronEntry]]:
    """Every setting, and every entry with the settings written before it."""
    settings: list[CronSetting] = []
    entries: list[CronEntry] = []
    for number, line in enumerate(_LINE_END.split(text), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        setting = _setting(stripped, number)
        if setting is not None:
            settings.append(setting)
            continue
        entry = _entry(stripped, number, system, tuple(settings))
        if entry is not None:
            entries.append(entry)
    return settings, entries


def _setting(line: str, number: int) -> CronSetting | None:
    match = _SETTING.match(line)
    if not match or match.group(1)[0] in "*@0123456789,-/":
        return None  # an entry's time field: "*/5 * * * * cmd", never a variable's name in practice
    value = match.group(2)
    if value[:1] in ("'", '"'):
        if len(value) < 2 or value[-1] != value[0]:
            return None  # cron takes an unmatched quote as no setting (and then as a broken entry)
        value = value[1:-1]
    return CronSetting(match.group(1), value, number)


def _entry(line: str, number: int, system: bool, settings: tuple[CronSetting, ...]) -> CronEntry | None:
    fields = line.split(None, 1 if line.startswith("@") else 5)
    timing = 1 if line.startswith("@") else 5
    if line.startswith("@") and fields[0] not in KEYWORDS:
        return None
    rest = fields[timing] if len(fields) > timing else ""
    user = ""
    if system:
        parts = rest.split(None, 1)
        user, rest = (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")
    command = _command(rest)
    if not command:
        return None  # nothing before the first %, or only a backslash: the shell is given nothing to run
    return CronEntry(number, user, command, settings)


def _command(text: str) -> str:
    """The command up to its first unescaped %, which cron turns into a newline (the rest is its input)."""
    out, escaped = [], False
    for char in text:
        if escaped:
            out.append(char if char == "%" else "\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            break
        else:
            out.append(char)
    return "".join(out).strip()
