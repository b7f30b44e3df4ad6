"""Fuzz targets of the service-environment parsers: systemd unit files, Environment= values and EnvironmentFile=
files, crontabs, /etc/environment as pam_env reads it, /etc/profile.d scripts, PAM stacks, and a whole image's
services read through a View.

A target raises AssertionError on an outcome no input may have: an exception, a setting reported from a line
that does not hold it, a variable name systemd, cron or the shell would not take, an error entry of more than
one line. Files are written only below one temporary directory, removed when the process exits. Importable
without pytest: TARGETS maps a name to a callable taking bytes; seeds() gives real files to start from.
"""

from __future__ import annotations

import os
import re
from typing import Callable

from auditor.collect.platform.accounts import read_accounts
from auditor.collect.platform.crontabs import parse_crontab
from auditor.collect.platform.login_env import pam_env_files, pam_environment, profile_exports
from auditor.collect.platform.services import read_services
from auditor.collect.platform.unit_files import (VALID_NAME, command_words, environment_assignments, environment_file,
                                        unit_directives, unit_specifiers)
from auditor.fs import View
from auditor.model import ScanError
from workdirs import workdir  # fuzz/workdirs.py: run.py puts fuzz/ on sys.path

UNIT_LINE_END = re.compile(r"\r\n|\r|\n|\0")
LINE_END = re.compile(r"\r\n|\n|\r")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def unit_file(data: bytes) -> None:
    text = _text(data)
    lines = UNIT_LINE_END.split(text)
    for directive in unit_directives(text):
        assert 1 <= directive.line <= len(lines), directive
        assert directive.key and directive.key == directive.key.strip() and "=" not in directive.key, directive
        following = lines[directive.line - 1:]  # a comment line inside a continuation is skipped, as the parser does
        kept = following[:1] + [line for line in following[1:] if line.strip()[:1] not in ("#", ";")]
        # a continued line loses only its last backslash, as the parser (and systemd) drop it
        logical = "".join(_continued(line.strip()) for line in kept).replace(" ", "")
        assert logical.startswith(directive.key.replace(" ", "")) or lines[directive.line - 1].strip() == "\\", directive
        if directive.key == "Environment":
            for assignment in environment_assignments(directive.value, directive.line, unit_specifiers("a@b.service")) or ():
                assert VALID_NAME.fullmatch(assignment.name) and assignment.line == directive.line, assignment
        elif directive.key == "ExecStart":
            assert all(isinstance(word, str) for word in command_words(directive.value))


def _continued(line: str) -> str:
    return line[:-1] if line.endswith("\\") else line


def env_file(data: bytes) -> None:
    text = _text(data)
    lines = text.split("\n")
    for assignment in environment_file(text):
        assert VALID_NAME.fullmatch(assignment.name), assignment
        assert 1 <= assignment.line <= len(lines) and assignment.name in lines[assignment.line - 1], assignment


def crontab(data: bytes) -> None:
    text = _text(data)
    lines = LINE_END.split(text)
    for system in (True, False):
        settings, entries = parse_crontab(text, system)
        for setting in settings:
            assert 1 <= setting.line <= len(lines) and setting.name in lines[setting.line - 1], setting
            assert setting.name and not any(c.isspace() or c == "=" for c in setting.name), setting
        for entry in entries:
            assert 1 <= entry.line <= len(lines) and entry.command, entry
            assert all(s.line < entry.line for s in entry.settings), entry
            assert system or not entry.user, entry


def pam_env_file(data: bytes) -> None:
    text = _text(data)
    lines = LINE_END.split(text)
    for name, value, line in pam_environment(text):
        assert re.fullmatch(r"[A-Za-z0-9_]+", name) and 1 <= line <= len(lines), (name, line)
        assert "#" not in value, value


def profile_script(data: bytes) -> None:
    text = _text(data)
    lines = LINE_END.split(text)
    for assignment in profile_exports(text):
        assert VALID_NAME.fullmatch(assignment.name), assignment
        assert 1 <= assignment.line <= len(lines) and assignment.name in lines[assignment.line - 1], assignment


def pam_stack(data: bytes) -> None:
    """The bytes as /etc/pam.d/cron, including itself and a missing file: a list of env files, never a loop."""
    text = _text(data) + "\n@include cron\nsession include missing\n"
    files = pam_env_files(lambda path: text if path == "/etc/pam.d/cron" else None, "cron")
    assert all(isinstance(f, str) and f for f in files), files


def image_services(data: bytes) -> None:
    """The bytes as a unit file, its EnvironmentFile=, a crontab, /etc/environment and /etc/passwd of one image:
    every context and error entry as a scan reads them."""
    root = workdir("services-image")
    for path in ("etc/systemd/system/app.service", "etc/default/app", "etc/cron.d/app", "etc/environment", "etc/passwd"):
        os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(root, path), "wb") as file:
            file.write((b"[Service]\nEnvironmentFile=-/etc/default/app\n" if path.endswith(".service") else b"") + data)
    view = View(root, image=True, display_top="/")
    accounts = read_accounts(view)
    found = read_services(view, accounts)
    for error in accounts.errors + found.errors:
        assert isinstance(error, ScanError) and error.message and "\n" not in error.message, error
    for context in found.contexts:
        for origin in context.variables.values():
            assert VALID_NAME.fullmatch(origin.variable) or origin.found_in == "crontab", origin
            assert origin.path.startswith("/etc/") and origin.line >= 1, origin


TARGETS: dict[str, Callable[[bytes], None]] = {
    "unit-file": unit_file,
    "systemd-env-file": env_file,
    "crontab": crontab,
    "pam-env-file": pam_env_file,
    "profile-script": profile_script,
    "pam-stack": pam_stack,
    "image-services": image_services,
}


def seeds() -> dict[str, list[bytes]]:
    unit = (b"[Unit]\nDescription=Orders worker\n\n[Service]\nUser=deploy\n"
            b"Environment=\"AWS_CA_BUNDLE=/etc/orders/ca.pem\" 'HOME=/srv/orders' PATH=/opt/orders/venv/bin:/usr/bin\n"
            b"EnvironmentFile=-/etc/default/orders\nExecStart=/opt/orders/venv/bin/python -m orders \\\n  --workers 4\n")
    return {
        "unit-file": [unit],
        "image-services": [unit],
        "systemd-env-file": [b"# orders\nAWS_CA_BUNDLE=/etc/orders/ca.pem\nexport NO=1\nQUOTED=\"a \\\"b\\\"\" 'c'\n"],
        "crontab": [b"SHELL=/bin/sh\nAWS_CA_BUNDLE = \"/etc/sync/ca.pem\"\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n"
                    b"@reboot deploy /opt/orders/venv/bin/python -m orders.sync %input\n"],
        "pam-env-file": [b"AWS_CA_BUNDLE=\"/etc/ssl/certs/ca-certificates.crt\"\nexport LANG=C.UTF-8 # locale\n"],
        "profile-script": [b"AWS_CA_BUNDLE=/etc/pki/aws.pem; export AWS_CA_BUNDLE\nexport REQUESTS_CA_BUNDLE=\"$HOME/ca.pem\"\n"],
        "pam-stack": [b"@include common-auth\nsession       required   pam_env.so\nsession required pam_env.so envfile=/etc/default/locale\n"],
    }
