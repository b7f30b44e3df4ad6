"""Which trust store each AWS Python client would use, and why: read from the installed
code and configuration, never by importing it.

botocore's default depends on its generation, told apart by the files it ships:
  * 1.11.0 and later (`httpsession.py`, `cacert.pem`): certifi when importable, else `botocore/cacert.pem`;
  * 0.23.0 to 1.10.x (`vendored/requests/`): the vendored requests' `certs.where()`, which from
    some 0.x release on also prefers certifi;
  * before 0.23.0: no bundle; the `requests` installed beside it, and that requests' `certs.where()`.
Over the default, in botocore's order: AWS_CA_BUNDLE, then `ca_bundle` of the active profile in
the AWS config file, then REQUESTS_CA_BUNDLE (botocore builds its own requests and reads that
variable itself). boto 2 uses `boto/cacerts/cacerts.txt` unless its config sets
`ca_certificates_file` ("system" means OpenSSL's default), and `https_validate_certificates`
other than "true" turns validation off.
Distributions patch `where()` to return the OS bundle (Debian's certifi, RHEL's requests): an
absolute bundle path written in the module is taken as that patch.

A bundle path that starts with `~`: botocore 1.11.0 and later hands it to urllib3, whose HTTPS connection
runs os.path.expanduser on ca_certs (urllib3 1.26 `set_cert`, 2.x `HTTPSConnection`), so `~` is the home of
the process running the client. Older botocore gives it to its vendored requests as written, boto 2 to
ssl.wrap_socket, Java and OpenSSL open it as written: there `~` is a folder of the working directory, which
a static scan cannot know.
A store whose file is not there does not make either client fall back: botocore hands the path to
OpenSSL for each connection, and boto 2 to ssl.wrap_socket, and both fail every call (IfMissing).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from auditor.collect.trust_settings import Origin, TrustSettings
from auditor.fs import FsError, View

SOURCE_CAP = 1024 * 1024
# The client whose store a package uses: boto3 and the AWS CLI go through botocore.
STORE_OWNER = {"botocore": "botocore", "boto3": "botocore", "awscli": "botocore", "boto": "boto"}
_BUNDLE_LITERAL = re.compile(r"""['"](/[^'"\s]+\.(?:crt|pem|cer))['"]""")
_IMPORTS_CERTIFI = re.compile(r"^\s*(?:from\s+certifi\s+import|import\s+certifi\b)", re.MULTILINE)


@dataclass(frozen=True)
class IfMissing:
    """What a client does when the file of the store it chose is not there."""

    outcome: str  # "fails": every TLS connection fails; "falls back": it uses another store; "ignores": it goes on without it
    effect: str  # a short sentence for a title: "botocore fails every HTTPS call"
    detail: str  # how it comes to that, as seen running it or read in its code


BOTOCORE_MISSING = (
    "botocore hands the path to OpenSSL for every connection, which cannot load it: botocore 1.29.27 raises "
    "SSLError \"SSL validation failed for https://… [Errno 2] No such file or directory\"; releases that send through "
    "requests raise OSError \"Could not find a suitable TLS CA certificate bundle, invalid path\"")
BOTO_MISSING = ("boto 2.49.0 passes it to ssl.wrap_socket(ca_certs=…) for every connection, which raises "
                "\"[Errno 2] No such file or directory\"")
UNKNOWN_MISSING = IfMissing("fails", "a client that uses it cannot verify any server with it",
                            "a client pointed at a file that is not there has no trust anchors from it")


def botocore_if_missing(who: str = "botocore") -> IfMissing:
    return IfMissing("fails", f"{who} fails every HTTPS call", BOTOCORE_MISSING)


@dataclass
class StoreChoice:
    """The store a client would use (host path; None when it validates nothing) and why."""

    path: str | None
    role: str
    reasons: list[str] = field(default_factory=list)
    fallbacks: list[tuple[str, str]] = field(default_factory=list)  # (host path, when it would be used)
    validation: bool = True
    setting: Origin | None = None  # the override that chose it, if one did
    password: str | None = None
    replaces: bool = True  # False: the store only adds to roots the client has anyway (NODE_EXTRA_CA_CERTS)
    if_missing: IfMissing = UNKNOWN_MISSING
    skipped: list[tuple[str, IfMissing]] = field(default_factory=list)  # (host path, why) of a store named but not there


def find_package(view: View, entries: list[str], name: str) -> str | None:
    """The directory `import name` would load: the first path entry holding name/__init__.py."""
    for entry in entries:
        candidate = os.path.join(entry, name)
        if view.is_file(os.path.join(candidate, "__init__.py")):
            return candidate
    return None


def _source(view: View, path: str) -> str:
    try:
        return view.read_bytes(path, SOURCE_CAP).decode("utf-8", "replace")
    except FsError:
        return ""


def _where(view: View, module: str, package_dir: str, entries: list[str], owner: str) -> StoreChoice:
    """What a `where()` module returns: a patched absolute path, certifi's, or the package's cacert.pem."""
    text = _source(view, module)
    shown = view.display(module)
    patched = _BUNDLE_LITERAL.search(text)
    if patched:
        return StoreChoice(view.locate(view.top, patched.group(1)), "distribution bundle",
                           [f"{shown} returns {patched.group(1)} (a distribution's patch)"])
    own = os.path.join(package_dir, "cacert.pem")
    if _IMPORTS_CERTIFI.search(text):
        return _certifi_else(view, own, entries, owner, f"{shown} prefers certifi")
    return StoreChoice(own, f"{owner} bundle", [f"{shown} returns its own cacert.pem"])


def _certifi_else(view: View, own: str, entries: list[str], owner: str, why: str) -> StoreChoice:
    certifi = certifi_store(view, entries)
    if certifi is not None:
        certifi.reasons.insert(0, f"{why}, and certifi is importable")
        certifi.fallbacks.append((own, "if certifi were not importable"))
        return certifi
    return StoreChoice(own, f"{owner} bundle", [f"{why}, but certifi is not importable here: its own cacert.pem is used"])


def certifi_store(view: View, entries: list[str]) -> StoreChoice | None:
    package = find_package(view, entries, "certifi")
    if package is None:
        return None
    core = os.path.join(package, "core.py")
    module = core if view.is_file(core) else os.path.join(package, "__init__.py")
    text = _source(view, module)
    patched = _BUNDLE_LITERAL.search(text)
    if patched:
        return StoreChoice(view.locate(view.top, patched.group(1)), "distribution bundle",
                           [f"certifi at {view.display(package)} is patched to return {patched.group(1)}"])
    return StoreChoice(os.path.join(package, "cacert.pem"), "certifi", [f"certifi at {view.display(package)} returns its cacert.pem"])


def botocore_store(view: View, entries: list[str], settings: TrustSettings) -> StoreChoice | None:
    package = find_package(view, entries, "botocore")
    if package is None:
        return None
    default = _botocore_default(view, package, entries)
    choice = with_overrides(view, default, settings, _honours(view, package, ("session.py", "configprovider.py"), "AWS_CA_BUNDLE"),
                            _honours(view, package, ("endpoint.py",), "REQUESTS_CA_BUNDLE"), _uses_urllib3(view, package))
    choice.if_missing = botocore_if_missing()
    return choice


def _uses_urllib3(view: View, package: str) -> bool:
    """botocore 1.11.0 and later (httpsession.py; a trimmed copy: cacert.pem without vendored requests)."""
    return view.is_file(os.path.join(package, "httpsession.py")) or (
        view.is_file(os.path.join(package, "cacert.pem")) and not view.is_dir(os.path.join(package, "vendored", "requests")))


def cli_v2_store(view: View, dist: str, settings: TrustSettings) -> StoreChoice:
    """AWS CLI v2 freezes botocore into its installer; the bundle files stay beside the code."""
    certifi = os.path.join(dist, "certifi", "cacert.pem")
    own = os.path.join(dist, "awscli", "botocore", "cacert.pem")
    if view.is_file(certifi):
        default = StoreChoice(certifi, "certifi", [f"the installer ships certifi ({view.display(certifi)}), which botocore prefers"],
                              [(own, "if certifi were missing")])
    else:
        default = StoreChoice(own, "botocore bundle", [f"the installer's botocore uses its {view.display(own)}"])
    choice = with_overrides(view, default, settings, True, True, True)
    choice.if_missing = botocore_if_missing("the AWS CLI (its botocore)")
    return choice


def with_overrides(view: View, default: StoreChoice, settings: TrustSettings, honours_aws: bool,
                   honours_requests: bool, expands_tilde: bool = True) -> StoreChoice:
    """botocore's order: AWS_CA_BUNDLE, the active profile's ca_bundle, REQUESTS_CA_BUNDLE, its default."""
    overrides = []
    if honours_aws:
        overrides += [o for o in (settings.variable("AWS_CA_BUNDLE"), settings.aws_ca_bundle()) if o]
    if honours_requests and settings.variable("REQUESTS_CA_BUNDLE"):
        overrides.append(settings.variable("REQUESTS_CA_BUNDLE"))
    if not overrides:
        return default
    chosen, *outranked = overrides
    reasons = [f"{chosen.describe(settings.environ)}: botocore uses it instead of its default"]
    reasons += [f"also set, but outranked: {o.describe(settings.environ)}" for o in outranked]
    fallbacks = [(default.path, "without the override, because " + "; ".join(default.reasons))] if default.path else []
    return setting_store(view, chosen, "botocore override", reasons, fallbacks + default.fallbacks,
                         settings if expands_tilde else None)


def setting_store(view: View, setting: Origin, role: str, reasons: list[str], fallbacks=(),
                  home: TrustSettings | None = None) -> StoreChoice:
    """The store a setting names. `home`: the context whose home a leading `~` means, for a client that
    expands it (None: the client opens the path as written). A relative path depends on the client's working
    directory, and a value computed where the client runs is not known: no store is checked, and the
    reasons say so."""
    if setting.unknown:
        return StoreChoice(None, role, reasons + [f"{setting.value!r} cannot be checked: {setting.unknown}"],
                           list(fallbacks), setting=setting)
    value = setting.value
    if value.startswith("~") and home is not None:
        expanded, note = home.expand_user(value)
        if expanded is None:
            return StoreChoice(None, role, reasons + [f"{value!r} cannot be checked: {note}"], list(fallbacks), setting=setting)
        value, reasons = expanded, reasons + [f"the client expands {setting.value!r} to {expanded}: {note}"]
    if not os.path.isabs(value):
        tilde = " (this client does not expand ~)" if value.startswith("~") else ""
        reasons = reasons + [f"{setting.value!r} is a relative path{tilde}: it depends on the working directory "
                             f"of the client and cannot be checked"]
        return StoreChoice(None, role, reasons, list(fallbacks), setting=setting)
    return StoreChoice(view.locate(view.top, value), role, reasons, list(fallbacks), setting=setting)


def _honours(view: View, package: str, modules: tuple[str, ...], variable: str) -> bool:
    """Whether this botocore reads `variable`; assumed when its modules were not shipped (a trimmed copy)."""
    texts = [_source(view, os.path.join(package, m)) for m in modules]
    return not any(texts) or any(variable in t for t in texts)


def _botocore_default(view: View, package: str, entries: list[str]) -> StoreChoice:
    shown = view.display(package)
    httpsession = os.path.join(package, "httpsession.py")
    own = os.path.join(package, "cacert.pem")
    if view.is_file(httpsession):
        choice = _where(view, httpsession, package, entries, "botocore")
    elif view.is_file(own):  # a copy without its modules (a trimmed or vendored install)
        choice = _certifi_else(view, own, entries, "botocore", "every botocore that ships cacert.pem prefers certifi")
    else:
        choice = None
    if choice is not None:
        choice.reasons.insert(0, f"botocore at {shown} ships cacert.pem (1.11.0 and later)")
        return choice
    vendored = os.path.join(package, "vendored", "requests")
    if view.is_dir(vendored):
        choice = _where(view, os.path.join(vendored, "certs.py"), vendored, entries, "vendored requests")
        choice.reasons.insert(0, f"botocore at {shown} vendors requests (0.23.0 to 1.10.x)")
        return choice
    requests = find_package(view, entries, "requests")
    if requests is None:
        return StoreChoice(None, "none", [f"botocore at {shown} ships no bundle (before 0.23.0) and no requests "
                                          f"package is importable beside it: it cannot make HTTPS requests"])
    choice = _where(view, os.path.join(requests, "certs.py"), requests, entries, "requests")
    choice.reasons.insert(0, f"botocore at {shown} ships no bundle (before 0.23.0): it uses requests at {view.display(requests)}")
    return choice


def boto_store(view: View, entries: list[str], settings: TrustSettings) -> StoreChoice | None:
    choice = _boto_store(view, entries, settings)
    if choice is not None:
        choice.if_missing = IfMissing("fails", "boto 2 fails every HTTPS call", BOTO_MISSING)
    return choice


def _boto_store(view: View, entries: list[str], settings: TrustSettings) -> StoreChoice | None:
    package = find_package(view, entries, "boto")
    if package is None:
        return None
    own = os.path.join(package, "cacerts", "cacerts.txt")
    env = settings.environ
    if settings.boto_validation_off:
        return StoreChoice(None, "validation off", [f"{settings.boto_validation_off.describe(env)}: boto does not "
                                                    f"verify server certificates"], validation=False,
                           setting=settings.boto_validation_off)
    if not view.is_file(own):
        return StoreChoice(None, "none", [f"boto at {view.display(package)} ships no cacerts/cacerts.txt: "
                                          f"this release does not verify server certificates"], validation=False)
    configured = settings.boto_ca_file
    if configured is None:
        return StoreChoice(own, "boto bundle", [f"boto at {view.display(package)} uses its cacerts/cacerts.txt; "
                                                f"no boto config sets ca_certificates_file"])
    if configured.value == "system":
        return StoreChoice(None, "OpenSSL default", [f"{configured.describe(env)}: OpenSSL's default store is used"],
                           [(own, "without the setting")], setting=configured)
    return setting_store(view, configured, "boto config override",
                         [f"{configured.describe(env)}: boto uses it instead of cacerts/cacerts.txt"], [(own, "without the setting")])


def packaged_store(view: View, entries: list[str], owner: str) -> StoreChoice | None:
    """The store `owner` (botocore or boto) would use as it ships, before any setting: for a copy whose runtime
    environment the scan cannot see (one inside an archive). None when `owner` is not importable from `entries`."""
    if owner == "boto":
        from auditor.environ import Environ

        return boto_store(view, entries, TrustSettings(Environ({}, "none")))
    package = find_package(view, entries, owner)
    return None if package is None else _botocore_default(view, package, entries)
