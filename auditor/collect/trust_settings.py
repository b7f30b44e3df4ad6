"""Trust settings outside the SDKs' code: AWS and boto config files, Java options, CA variables.

Each setting keeps where it came from (a variable of the environment in use, or
a file and line), so a report can say why a client uses the store it uses.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field

from auditor.collect.ini import settings
from auditor.environ import Environ
from auditor.fs import FsError, View
from auditor.model import ScanError

CONFIG_CAP = 1024 * 1024
# Later entries win: the JVM reads JAVA_TOOL_OPTIONS before the command line (where the
# launcher puts JDK_JAVA_OPTIONS), and _JAVA_OPTIONS after it.
JAVA_OPTION_VARIABLES = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")


@dataclass(frozen=True)
class Origin:
    """A value and the place that set it: `variable` of the environment, or `path` and `line`."""

    value: str
    variable: str = ""
    path: str = ""
    line: int | None = None
    note: str = ""

    def describe(self, environ: Environ) -> str:
        if self.variable:
            return f"{self.note or f'{self.variable}={self.value}'} (from {environ.origin})"
        return f"{self.path}:{self.line}: {self.note or self.value}"


@dataclass
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

    def variable(self, name: str) -> Origin | None:
        value = self.environ.get(name)
        return Origin(value, variable=name) if value else None

    def aws_ca_bundle(self) -> Origin | None:
        return self.aws_ca_bundles.get(self.aws_profile)


def read_trust_settings(view: View, environ: Environ) -> TrustSettings:
    found = TrustSettings(environ)
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


def _read_aws_config(view: View, found: TrustSettings) -> None:
    environ = found.environ
    path = environ.get("AWS_CONFIG_FILE") or os.path.join(environ.home(), ".aws", "config")
    path = os.path.expanduser(path)
    for variable in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):  # botocore's order
        if environ.get(variable):
            found.aws_profile, found.aws_profile_origin = environ.get(variable), variable
            break
    text = _read_text(view, view.locate(view.top, path), found)
    if text is None:
        return
    found.aws_config = path
    for setting in settings(text):
        profile = "default" if setting.section == "default" else setting.section.partition("profile ")[2].strip()
        if profile and setting.key == "ca_bundle" and setting.value:
            found.aws_ca_bundles[profile] = Origin(setting.value, path=path, line=setting.line,
                                                   note=f"ca_bundle = {setting.value} in profile {profile}")


def _read_boto_config(view: View, found: TrustSettings) -> None:
    """boto 2 reads BOTO_CONFIG alone when it is set, else BOTO_PATH, else /etc/boto.cfg then ~/.boto."""
    environ = found.environ
    if environ.get("BOTO_CONFIG"):
        paths = [environ.get("BOTO_CONFIG")]
    elif environ.get("BOTO_PATH"):
        paths = environ.get("BOTO_PATH").split(os.pathsep)
    else:
        paths = ["/etc/boto.cfg", os.path.join(environ.home(), ".boto")]
    for path in (os.path.expanduser(p) for p in paths):
        text = _read_text(view, view.locate(view.top, path), found)
        if text is None:
            continue
        found.boto_configs.append(path)
        for setting in settings(text):
            if setting.section != "Boto":
                continue
            if setting.key == "ca_certificates_file":
                found.boto_ca_file = Origin(setting.value, path=path, line=setting.line,
                                            note=f"ca_certificates_file = {setting.value}")
            elif setting.key == "https_validate_certificates":
                # boto's getbool: anything but "true" (any case) is false.
                off = setting.value.lower() != "true"
                found.boto_validation_off = Origin(setting.value, path=path, line=setting.line,
                                                   note=f"https_validate_certificates = {setting.value}") if off else None


def _read_java_options(found: TrustSettings) -> None:
    for variable in JAVA_OPTION_VARIABLES:
        text = found.environ.get(variable)
        if not text:
            continue
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        for word in words:
            name, equals, value = word[2:].partition("=")
            if word.startswith("-D") and equals and name.startswith("javax.net.ssl.trustStore"):
                shown = "***" if name.endswith("Password") else value
                found.java_options[name] = Origin(value, variable=variable, note=f"-D{name}={shown} in {variable}")
