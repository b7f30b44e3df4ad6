"""Trust settings outside the SDKs' code: AWS and boto config files, Java options, CA variables.

Each setting keeps where it came from (a variable of the environment in use, or
a file and line), so a report can say why a client uses the store it uses.

One TrustSettings is one context: one environment and one home, as a process of one user would have them
(the scan's own environment, a systemd unit's, a cron job's, a user's login). `~` and $HOME in the paths
the clients expand are that home: botocore's configloader expands AWS_CONFIG_FILE, boto 2 BOTO_CONFIG,
BOTO_PATH and ~/.boto, each with os.path.expanduser in the process that runs them. Inside an image the
home comes from the image (--env-file's HOME, a unit's User= in the image's /etc/passwd), never from the
scanning user. A context that knows the folder its processes start in (a unit's WorkingDirectory=, an image's
WorkingDir) opens a relative path from there; one that does not cannot tell where it leads.
"""

from __future__ import annotations

import os
import posixpath
import shlex

from auditor.collect import Origin
from auditor.collect.platform.accounts import Accounts
from auditor.collect.config.ini import settings
from auditor.collect.config.environ import Environ
from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import field, mutable_record

CONFIG_CAP = 1024 * 1024
# Later entries win: the JVM reads JAVA_TOOL_OPTIONS before the command line (where the
# launcher puts JDK_JAVA_OPTIONS), and _JAVA_OPTIONS after it.
JAVA_OPTION_VARIABLES = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")


@mutable_record
class TrustSettings:
    environ: Environ
    aws_config: str = ""  # host path of the AWS config file read, if any
    aws_profile: str = "default"
    aws_profile_origin: str = ""
    aws_ca_bundles: dict[str, Origin] = field(default_factory=dict)  # profile -> ca_bundle
    boto_ca_file: Origin | None = None
    boto_validation_off: Origin | None = None
    boto_configs: list[str] = field(default_factory=list)
    java_options: dict[str, Origin] = field(default_factory=dict)  # javax.net.ssl.trustStore* -> value
    errors: list[ScanError] = field(default_factory=list)
    home: str = ""  # the home of the context's processes, as the system names it; "" when it is not known
    home_note: str = ""  # where that home comes from, for the reasons a report gives
    accounts: Accounts = field(default_factory=Accounts)
    origins: dict[str, Origin] = field(default_factory=dict)  # variables set in files (a unit, a crontab), by name
    extra: list[Origin] = field(default_factory=list)  # settings written for this context but not in force (overridden)
    label: str = ""  # who runs with these settings, for a report: "systemd unit orders.service"
    # The folder its processes start in, against which a client opens a relative path (a unit's WorkingDirectory=,
    # an image's WorkingDir), as the system names it; "" when not known (this machine's scan, a login, a home).
    working_dir: str = ""
    working_note: str = ""  # what says so, for the reasons a report gives ("the image's WorkingDir /app")

    def variable(self, name: str) -> Origin | None:
        if name in self.origins:
            return self.origins[name] if self.origins[name].value else None
        value = self.environ.get(name)
        return Origin(value, variable=name) if value else None

    def expand_user(self, text: str) -> tuple[str | None, str]:
        """A path with `~` as a process of this context expands it: the path (None when the home or user is not
        known), and a note saying which home it used ("" when there was no ~)."""
        if not text.startswith("~"):
            return text, ""
        expanded = self.accounts.expand(text, self.home)
        user = text[1:].partition("/")[0]
        if expanded is None:
            return None, (f"the home of user {user} is not known here" if user
                          else "the home of the process running it is not known here")
        if user:
            return expanded, f"~{user} is {self.accounts.home_of(user)}, the home of {user} in /etc/passwd"
        return expanded, f"~ is {self.home}" + (f" ({self.home_note})" if self.home_note else "")

    def in_working_dir(self, text: str) -> tuple[str | None, str]:
        """A relative path as a process of this context opens it: the path (None when the working directory is not
        known), and a note saying from which folder."""
        if not self.working_dir:
            return None, ""
        return posixpath.normpath(posixpath.join(self.working_dir, text)), self.working_note or self.working_dir

    def aws_ca_bundle(self) -> Origin | None:
        return self.aws_ca_bundles.get(self.aws_profile)


def read_trust_settings(view: View, environ: Environ, home: str | None = None, **context) -> TrustSettings:
    """The settings of one context. `home`: its home as the system names it (default: the environment's);
    `context`: further TrustSettings fields (accounts, origins, extra, label, home_note)."""
    found = TrustSettings(environ, home=environ.home() if home is None else home, **context)
    _read_aws_config(view, found)
    _read_boto_config(view, found)
    _read_java_options(found)
    return found


def _read_text(view: View, path: str, found: TrustSettings) -> str | None:
    if view.kind(path) is None:
        return None
    try:
        return view.read_text(path, CONFIG_CAP)
    except FsError as exc:
        found.errors.append(ScanError(view.display(path), f"cannot read: {exc}"))
        return None


def _in_home(found: TrustSettings, written: str, variable: str) -> str | None:
    """A config file's path as the client's process opens it: `~` its home, a relative path from its working
    directory; None when it depends on a home or working directory that is not known (the latter an error entry:
    the file `variable` names was not read)."""
    path = found.expand_user(written)[0]
    if path is None or path.startswith("/"):
        return path
    opened = found.in_working_dir(path)[0]
    if opened is None:
        found.errors.append(ScanError(f"environment ({found.environ.origin})",
                                      f"{variable}={written} is a relative path and the working directory of the "
                                      f"clients is not known: the file was not read"))
    return opened


def _read_aws_config(view: View, found: TrustSettings) -> None:
    environ = found.environ
    for variable in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):  # botocore's order
        profile = environ.get(variable)
        if profile:
            found.aws_profile, found.aws_profile_origin = profile, variable
            break
    path = _in_home(found, environ.get("AWS_CONFIG_FILE") or "~/.aws/config", "AWS_CONFIG_FILE")
    if path is None:
        return
    text = _read_text(view, view.locate(view.top, path), found)
    if text is None:
        return
    found.aws_config = path
    for setting in settings(text):
        profile = "default" if setting.section == "default" else setting.section.partition("profile ")[2].strip()
        if profile and setting.key == "ca_bundle" and setting.value:
            found.aws_ca_bundles[profile] = Origin(setting.value, path=path, line=setting.line,
                                                   note=f"ca_bundle = {setting.value} in profile {profile}",
                                                   found_in="config file")


def _read_boto_config(view: View, found: TrustSettings) -> None:
    """boto 2 reads BOTO_CONFIG alone when it is set, else BOTO_PATH, else /etc/boto.cfg then ~/.boto."""
    environ = found.environ
    if boto_config := environ.get("BOTO_CONFIG"):
        paths, variable = [boto_config], "BOTO_CONFIG"
    elif boto_path := environ.get("BOTO_PATH"):
        paths, variable = [p for p in boto_path.split(os.pathsep) if p], "BOTO_PATH"
    else:
        paths, variable = ["/etc/boto.cfg", "~/.boto"], ""
    for path in (_in_home(found, p, variable) for p in paths):
        if path is None:
            continue
        text = _read_text(view, view.locate(view.top, path), found)
        if text is None:
            continue
        found.boto_configs.append(path)
        for setting in settings(text):
            if setting.section != "Boto":
                continue
            if setting.key == "ca_certificates_file":
                found.boto_ca_file = Origin(setting.value, path=path, line=setting.line,
                                            note=f"ca_certificates_file = {setting.value}", found_in="config file")
            elif setting.key == "https_validate_certificates":
                # boto's getbool: anything but "true" (any case) is false.
                off = setting.value.lower() != "true"
                found.boto_validation_off = Origin(setting.value, path=path, line=setting.line,
                                                   note=f"https_validate_certificates = {setting.value}",
                                                   found_in="config file") if off else None


def _read_java_options(found: TrustSettings) -> None:
    for variable in JAVA_OPTION_VARIABLES:
        placed = found.variable(variable)
        text = placed.value if placed else None
        if placed is None or not text:
            continue
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        for word in words:
            name, equals, value = word[2:].partition("=")
            if word.startswith("-D") and equals and name.startswith("javax.net.ssl.trustStore"):
                shown = "***" if name.endswith("Password") else value
                found.java_options[name] = Origin(value, variable=variable, path=placed.path, line=placed.line,
                                                  note=f"-D{name}={shown} in {variable}", found_in=placed.found_in,
                                                  unknown=placed.unknown)
