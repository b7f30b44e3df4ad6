"""The HTTPS proxies in force in one context, and whether AWS endpoints bypass them.

Python's AWS clients (botocore, boto3, the AWS CLI v1 and v2) take the proxy of an https URL from `HTTPS_PROXY` /
`https_proxy` (urllib's getproxies, read by botocore.utils.get_environ_proxies; the lower-case name wins where
both are set) and skip it for a host `NO_PROXY` / `no_proxy` matches. botocore ignores `ALL_PROXY`, which curl
and requests read: it is reported, but decides nothing for the AWS clients. A JVM takes its proxy from the
`https.proxyHost` system property (in JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, _JAVA_OPTIONS), not from the
environment. botocore's `proxies` and `proxies_config` (`proxy_ca_bundle`) are set only in code (a
`botocore.config.Config`): the AWS config file has no proxy setting (boto/botocore#2493).
"""

from __future__ import annotations

import shlex

from auditor.collect import Origin
from auditor.collect.config.trust_settings import JAVA_OPTION_VARIABLES, TrustSettings
from auditor.records import record
from auditor.redact import redact

HTTPS_PROXY = ("https_proxy", "HTTPS_PROXY")  # urllib's order: the lower-case name first
ALL_PROXY = ("all_proxy", "ALL_PROXY")
NO_PROXY = ("no_proxy", "NO_PROXY")
JAVA_PROXY = "https.proxyHost"
AWS_DOMAIN = "amazonaws.com"
PYTHON_READERS = "botocore, boto3, the AWS CLI, requests, curl"


@record
class Proxy:
    """One proxy setting in force: what it says (credentials masked), where it is written, and who it reaches."""

    setting: str  # "HTTPS_PROXY=http://proxy.example:3128"
    where: str  # "/etc/environment:2", or "the scanning process's environment"
    context: str  # the context's label ("" for the scan's own)
    reach: str  # "python" (HTTPS_PROXY), "java" (https.proxyHost), "other" (ALL_PROXY: not botocore)
    bypassed: str = ""  # the NO_PROXY setting that exempts AWS endpoints from it ("" when none does)

    def describe(self) -> str:
        text = f"{self.setting} ({self.where}" + (f", {self.context}" if self.context else "") + ")"
        return text + (f"; AWS endpoints bypass it: {self.bypassed}" if self.bypassed else "")


def proxies_of(settings: TrustSettings) -> list[Proxy]:
    """The proxy settings of one context, in force (a login file's, which the context lists as `extra`, count)."""
    found: list[Proxy] = []
    no_proxy = _first(settings, NO_PROXY)
    bypass = _bypass(no_proxy, settings) if no_proxy else ""
    for names, reach in ((HTTPS_PROXY, "python"), (ALL_PROXY, "other")):
        origin = _first(settings, names)
        if origin is not None:
            found.append(Proxy(redact(f"{origin.variable}={origin.value}"), _where(origin, settings), settings.label,
                               reach, bypass))
    java = _java_proxy(settings)
    if java is not None:
        host, origin = java
        found.append(Proxy(redact(f"-D{JAVA_PROXY}={host} in {origin.variable}"), _where(origin, settings), settings.label,
                           "java"))
    return found


def _java_proxy(settings: TrustSettings) -> tuple[str, Origin] | None:
    """-Dhttps.proxyHost in the Java option variables; the last one the JVM reads wins."""
    found = None
    for variable in JAVA_OPTION_VARIABLES:
        origin = _first(settings, (variable,))
        if origin is None:
            continue
        try:
            words = shlex.split(origin.value)
        except ValueError:
            words = origin.value.split()
        for word in words:
            name, equals, value = word[2:].partition("=")
            if word.startswith("-D") and equals and name == JAVA_PROXY and value:
                found = (value, origin)
    return found


def _first(settings: TrustSettings, names: tuple[str, ...]) -> Origin | None:
    for name in names:
        origin = settings.variable(name)
        if origin is not None:
            return origin
    in_force = {o.variable for o in settings.extra if settings.variable(o.variable) is not None}
    for name in names:
        for origin in settings.extra:
            if origin.variable == name and origin.value and name not in in_force:
                return origin
    return None


def _where(origin: Origin, settings: TrustSettings) -> str:
    if origin.path:
        return f"{origin.path}:{origin.line}" if origin.line else origin.path
    return f"{origin.variable} in {settings.environ.origin}" if origin.variable else settings.environ.origin


def _bypass(no_proxy: Origin, settings: TrustSettings) -> str:
    """The NO_PROXY setting when it exempts *.amazonaws.com (urllib: a suffix of the host, with or without a
    leading dot or *, or "*" for every host), else ""."""
    for entry in no_proxy.value.replace(" ", ",").split(","):
        entry = entry.strip().lstrip("*").lstrip(".").lower()
        if no_proxy.value.strip() == "*" or entry == AWS_DOMAIN:
            return f"{no_proxy.variable}={no_proxy.value} ({_where(no_proxy, settings)})"
    return ""
