"""The users of a system, from its /etc/passwd (read through the View), and `~` as a process of theirs
expands it.

A client expands `~` with the home of the process that runs it (os.path.expanduser: $HOME when set, else
the passwd entry of its uid), and `~name` with that user's passwd entry. Inside an image that is the
image's /etc/passwd, never the scanning machine's. Users that only a directory service (LDAP, SSSD) knows
are not in the file: their homes are unknown here, and the caller says so.
"""

from __future__ import annotations

import os

from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import field, mutable_record, record

PASSWD = "/etc/passwd"
HOME_GLOBS = ("/root", "/home/*")
PASSWD_CAP = 4 * 1024 * 1024
NO_LOGIN_SHELLS = ("nologin", "false", "sync", "halt", "shutdown")


@record
class Account:
    name: str
    uid: str
    home: str
    shell: str
    line: int

    @property
    def logs_in(self) -> bool:
        return bool(self.shell) and os.path.basename(self.shell) not in NO_LOGIN_SHELLS


@mutable_record
class Accounts:
    by_name: dict[str, Account] = field(default_factory=dict)
    by_uid: dict[str, Account] = field(default_factory=dict)
    read: bool = False  # whether a passwd file was read at all
    errors: list[ScanError] = field(default_factory=list)  # why the passwd file could not be read

    def find(self, user: str) -> Account | None:
        """A user by name, or by number as systemd's User= and cron accept."""
        return self.by_name.get(user) or (self.by_uid.get(user) if user.isdigit() else None)

    def home_of(self, user: str) -> str | None:
        account = self.find(user)
        return account.home if account and account.home else None

    def expand(self, text: str, home: str | None) -> str | None:
        """`text` with a leading `~` or `~name` replaced as os.path.expanduser would in a process whose home is
        `home`; None when that home, or that user, is unknown. Text without a leading `~` comes back as it is."""
        if not text.startswith("~"):
            return text
        name, slash, rest = text[1:].partition("/")
        base = home if not name else self.home_of(name)
        if not base:
            return None
        return base.rstrip("/") + (slash + rest if slash else "") if base != "/" else "/" + rest


def read_accounts(view: View) -> Accounts:
    """The accounts of the system in `view`; an unreadable passwd file is an error entry."""
    found = Accounts()
    data = view.read_if_present(view.locate(view.top, PASSWD), PASSWD_CAP, found.errors)
    if data is None:
        return found
    found.read = True
    for number, line in enumerate(data.decode("utf-8", "surrogateescape").split("\n"), 1):
        fields = line.rstrip("\r").split(":")
        if len(fields) < 7 or not fields[0] or fields[0].startswith(("+", "-", "#")):
            continue  # NIS compat lines (+user, +@group) and comments name no local account
        account = Account(fields[0], fields[2], fields[5], fields[6], number)
        found.by_name.setdefault(account.name, account)
        found.by_uid.setdefault(account.uid, account)
    return found


@mutable_record
class Homes:
    folders: list[str] = field(default_factory=list)  # as the system names them
    errors: list[ScanError] = field(default_factory=list)


def home_directories(view: View) -> Homes:
    """The home folders of an image's users, as the image names them (/root, /home/*). One that cannot be
    listed is an error entry, once, and is not searched."""
    found = Homes()
    errors, homes = found.errors, found.folders
    for home in [path for pattern in HOME_GLOBS for path in view.glob(pattern, errors=errors)]:
        try:
            view.list_dir(home)
        except FsError as exc:
            if view.kind(home) in ("dir", "other"):  # not a missing /root, nor a file such as /home/README
                errors.append(ScanError(view.display(home), f"cannot list directory: {exc}"))
            continue
        homes.append(view.display(home))
    return found
