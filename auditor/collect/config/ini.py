"""A line-numbered reader for the INI files AWS and boto use (~/.aws/config, ~/.boto, /etc/boto.cfg).

configparser gives values but not lines, and a report must point at the line that
sets a bundle. Indented lines continue the previous value (the AWS config's
nested `s3 =` blocks), as in configparser.
"""

from __future__ import annotations

import re

from auditor.records import record


_SECTION = re.compile(r"^\[\s*([^\]]*?)\s*\]")
_OPTION = re.compile(r"^([^=:\s][^=:]*?)\s*[=:]\s*(.*)$")
# The line ends of Python's universal newlines, as botocore's configparser reads the file; str.splitlines would
# also split at \f, \x1c-\x1e, \x85 and U+2028 and shift every line number after them.
_LINE_END = re.compile(r"\r\n|\r|\n")


@record
class Setting:
    section: str
    key: str
    value: str
    line: int


def settings(text: str) -> list[Setting]:
    found: list[Setting] = []
    section = ""
    for number, line in enumerate(_LINE_END.split(text), 1):
        if not line.strip() or line.lstrip().startswith(("#", ";")) or line[:1] in " \t":
            continue
        header = _SECTION.match(line)
        if header:
            section = header.group(1)
            continue
        option = _OPTION.match(line.strip())
        if option:
            found.append(Setting(section, option.group(1).strip().lower(), option.group(2).strip(), number))
    return found

