"""Database client settings that name the CA file a connection verifies with (rules/db-ca-settings.toml): libpq's
sslrootcert and PGSSLROOTCERT, MySQL's ssl-ca, Connector/J's trustCertificateKeyStoreUrl, read line by line from a
tree's config files and scripts.

Read only when a selected pack judges them (the rds-ca-rotation pack): a default scan reads no more files than it did.
A setting is reported as the setting and the file it names, never the rest of its line: a connection string
carries the user name and often the password beside sslrootcert.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from typing import NamedTuple

from auditor.collect.config.trust_config.setting import Setting
from auditor.rule_data import data_file

SETTINGS_DATA = "db-ca-settings.toml"
EFFECT = "db-ca-file"  # the effect of each setting found: it names the CA file of database connections
CONFIG_LABEL = "config file"
_CONFIG_NAMES = (".env", ".env.*", "*.env", "*.properties", "*.cnf", "*.ini", "*.conf", "*.cfg", "*.yml", "*.yaml",
                 "*.toml", "*.json", "*.xml")
_VALUE_CHARS = 1024


class _Kind(NamedTuple):
    name: str
    pattern: re.Pattern[str]
    marker: bytes  # the setting's name, searched in the bytes before a file is read line by line


@lru_cache(maxsize=1)
def _kinds() -> tuple[_Kind, ...]:
    kinds = []
    for entry in data_file(SETTINGS_DATA)["settings"]:
        marker = entry["name"].lower().replace("-", "").replace("_", "")
        kinds.append(_Kind(entry["name"], re.compile(entry["pattern"], re.IGNORECASE), marker.encode()))
    return tuple(kinds)


def config_format(name: str) -> str | None:
    """'config file' for a file whose database settings are read (.env, *.properties, my.cnf, YAML …), else None."""
    return CONFIG_LABEL if any(fnmatch.fnmatchcase(name, pattern) for pattern in _CONFIG_NAMES) else None


def db_ca_settings(data: bytes) -> list[Setting]:
    """Each database CA setting the text writes, at its line: the setting's name and the file it names."""
    folded = data.lower().replace(b"-", b"").replace(b"_", b"")
    kinds = [kind for kind in _kinds() if kind.marker in folded]
    if not kinds:
        return []
    found = []
    for number, line in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        for kind in kinds:
            for match in kind.pattern.finditer(line):
                value = match.group(1)[:_VALUE_CHARS]
                found.append(Setting(number, kind.name, EFFECT, value, f"{kind.name}={value}"))
    return found
