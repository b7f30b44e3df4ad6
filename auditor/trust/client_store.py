"""Which trust store each AWS Python client would use, and why: read from the installed
code and configuration, never by importing it.

botocore's default depends on its generation, told apart by the files it ships:
  * 1.11.0 and later (`httpsession.py`, `cacert.pem`): certifi when importable, else `botocore/cacert.pem`;
  * 0.23.0 to 1.10.x (`vendored/requests/`): the vendored requests' `certs.where()`, which from
    some 0.x release on also prefers certifi;
  * before 0.23.0: no bundle; the `requests` installed beside it, and that requests' `certs.where()`.
Over the default, in botocore's order: AWS_CA_BUNDLE, then `ca_bundle` of the active profile in
the AWS config file, then REQUESTS_CA_BUNDLE (botocore builds its own requests and reads that
variable itself). Which releases read which setting is data (rules/ca-settings.toml): the code
that reads it decides where the copy ships it, else its version; where neither tells, the store the
setting names and the one used without it are both checked as in use.
boto 2 uses `boto/cacerts/cacerts.txt` unless its config sets `ca_certificates_file` ("system"
means OpenSSL's default), and `https_validate_certificates` other than "true" turns validation off.
Distributions patch `where()` to return the OS bundle (Debian's certifi, RHEL's requests): an
absolute bundle path written in the module is taken as that patch.

A bundle path that starts with `~`: botocore 1.11.0 and later hands it to urllib3, whose HTTPS connection
runs os.path.expanduser on ca_certs (urllib3 1.26 `set_cert`, 2.x `HTTPSConnection`), so `~` is the home of
the process running the client. Older botocore gives it to its vendored requests as written, boto 2 to
ssl.wrap_socket, Java and OpenSSL open it as written: there `~` is a folder of the working directory, which
a static scan cannot know.
A relative path is opened from the working directory of the process running the client: where the context knows it
(an image's WorkingDir, a systemd unit's WorkingDirectory=), from there; elsewhere it cannot be checked.
A store whose file is not there does not make either client fall back: botocore hands the path to
OpenSSL for each connection, and boto 2 to ssl.wrap_socket, and both fail every call (IfMissing).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from auditor.collect.python.metadata import module_version
from auditor.collect import Origin
from auditor.collect.config.trust_settings import TrustSettings
from auditor.fs import FsError
from auditor.records import field, mutable_record, record, replace

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from auditor.fs import StoreView
    from typing import Any
    from packaging.version import Version

SOURCE_CAP = 1024 * 1024
# The client whose store a package uses: boto3 and the AWS CLI go through botocore.
STORE_OWNER = {"botocore": "botocore", "boto3": "botocore", "awscli": "botocore", "boto": "boto"}
SETTINGS_DATA = "ca-settings.toml"
# botocore's order of the settings that replace its default store, and how the texts name them.
OVERRIDES = {"AWS_CA_BUNDLE": "AWS_CA_BUNDLE", "ca_bundle": "ca_bundle in the AWS config file",
             "REQUESTS_CA_BUNDLE": "REQUESTS_CA_BUNDLE"}
_BUNDLE_LITERAL = re.compile(r"""['"](/[^'"\s]+\.(?:crt|pem|cer))['"]""")
_IMPORTS_CERTIFI = re.compile(r"^\s*(?:from\s+certifi\s+import|import\s+certifi\b)", re.MULTILINE)


@record
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


@mutable_record
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
    # Stores the client uses instead when a setting it may or may not read is not read: (choice, when).
    # Both are in use as far as the scan can tell, so each is checked as one.
    alternatives: list[tuple[StoreChoice, str]] = field(default_factory=list)


@record
class Reads:
    """Whether a client reads a CA setting: True, False, or None when that cannot be told; and why
    (empty when its own code plainly reads it)."""

    answer: bool | None
    why: str = ""


def find_package(view: StoreView, entries: list[str], name: str) -> str | None:
    """The directory `import name` would load: the first path entry holding name/__init__.py."""
    for entry in entries:
        candidate = os.path.join(entry, name)
        if view.is_file(os.path.join(candidate, "__init__.py")):
            return candidate
    return None


def _source(view: StoreView, path: str) -> str:
    try:
        return view.read_bytes(path, SOURCE_CAP).decode("utf-8", "replace")
    except FsError:
        return ""


def _where(view: StoreView, module: str, package_dir: str, entries: list[str], owner: str) -> StoreChoice:
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


def _certifi_else(view: StoreView, own: str, entries: list[str], owner: str, why: str) -> StoreChoice:
    certifi = certifi_store(view, entries)
    if certifi is not None:
        certifi.reasons.insert(0, f"{why}, and certifi is importable")
        certifi.fallbacks.append((own, "if certifi were not importable"))
        return certifi
    return StoreChoice(own, f"{owner} bundle", [f"{why}, but certifi is not importable here: its own cacert.pem is used"])


def certifi_store(view: StoreView, entries: list[str]) -> StoreChoice | None:
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


def botocore_store(view: StoreView, entries: list[str], settings: TrustSettings, cli: bool = False) -> StoreChoice | None:
    """The store of botocore, or with `cli` of the AWS CLI (awscli), which reads some settings itself."""
    package = find_package(view, entries, "botocore")
    if package is None:
        return None
    default = _botocore_default(view, package, entries)
    awscli = find_package(view, entries, "awscli") if cli else None
    reads: dict[str, Reads] = {}
    for name in OVERRIDES:
        if _setting(settings, name):
            reads[name] = setting_read(view, package, "botocore", name)
            if awscli is not None and name in settings_table("awscli"):
                reads[name] = either_reads(setting_read(view, awscli, "awscli", name), reads[name])
    choice = with_overrides(view, default, settings, reads, _uses_urllib3(view, package))
    choice.if_missing = botocore_if_missing()
    return choice


def _uses_urllib3(view: StoreView, package: str) -> bool:
    """botocore 1.11.0 and later (httpsession.py; a trimmed copy: cacert.pem without vendored requests)."""
    return view.is_file(os.path.join(package, "httpsession.py")) or (
        view.is_file(os.path.join(package, "cacert.pem")) and not view.is_dir(os.path.join(package, "vendored", "requests")))


def cli_v2_store(view: StoreView, dist: str, settings: TrustSettings) -> StoreChoice:
    """AWS CLI v2 freezes botocore into its installer; the bundle files stay beside the code."""
    certifi = os.path.join(dist, "certifi", "cacert.pem")
    own = os.path.join(dist, "awscli", "botocore", "cacert.pem")
    if view.is_file(certifi):
        default = StoreChoice(certifi, "certifi", [f"the installer ships certifi ({view.display(certifi)}), which botocore prefers"],
                              [(own, "if certifi were missing")])
    else:
        default = StoreChoice(own, "botocore bundle", [f"the installer's botocore uses its {view.display(own)}"])
    choice = with_overrides(view, default, settings)
    choice.if_missing = botocore_if_missing("the AWS CLI (its botocore)")
    return choice


def with_overrides(view: StoreView, default: StoreChoice, settings: TrustSettings,
                   reads: dict[str, Reads] | None = None, expands_tilde: bool = True) -> StoreChoice:
    """botocore's order: AWS_CA_BUNDLE, the active profile's ca_bundle, REQUESTS_CA_BUNDLE, its default.
    `reads`: whether the client reads each setting that is set (when not given: every one). After a
    setting it may or may not read, the next that it surely reads (or its default) is an alternative.
    `expands_tilde`: the client expands a leading ~ (botocore 1.11.0 and later, through urllib3)."""
    env = settings.environ
    home = settings if expands_tilde else None
    ignored, in_force = [], []
    for name in OVERRIDES:
        origin = _setting(settings, name)
        if origin is None:
            continue
        read = (reads or {}).get(name, Reads(True))
        if read.answer is False:
            ignored.append(f"{origin.describe(env)} is set, but not read: {read.why}")
        else:
            in_force.append((name, origin, read))
    if not in_force:
        return replace(default, reasons=default.reasons + ignored) if ignored else default
    chain = next((in_force[:at + 1] for at, (_, _, read) in enumerate(in_force) if read.answer), in_force)
    outranked = in_force[len(chain):]
    (name, chosen, read), undecided = chain[0], [entry for entry in chain if entry[2].answer is None]
    reasons = [f"{chosen.describe(env)}: botocore uses it instead of its default"
               + (f" if it reads {OVERRIDES[name]}" if read.answer is None else "")]
    reasons += [f"also set, but outranked: {o.describe(env)}" for _, o, _ in outranked]
    reasons += [r.why for _, _, r in chain if r.why] + ignored
    alternatives = []
    for at, (_, origin, _) in enumerate(chain[1:], start=1):
        when = "if it does not read " + " or ".join(OVERRIDES[n] for n, _, _ in chain[:at])
        alternatives.append((setting_store(view, origin, "botocore override", [f"{origin.describe(env)}, {when}"],
                                           home=home, runs_in=settings), when))
    if len(chain) == len(undecided):  # no setting it surely reads: its default is the last alternative
        when = "if it reads none of " + ", ".join(OVERRIDES[n] for n, _, _ in chain)
        alternatives.append((replace(default, reasons=[when] + default.reasons), when))
        fallbacks = []
    else:
        fallbacks = [(default.path, "without the override, because " + "; ".join(default.reasons))] if default.path else []
        fallbacks += default.fallbacks
    if alternatives:
        reasons.append("whether it reads " + " or ".join(OVERRIDES[n] for n, _, _ in undecided) + " cannot be told: "
                       + "; ".join(f"{shown_store(view, c)} {when}" for c, when in alternatives) + "; each is checked as in use")
    choice = setting_store(view, chosen, "botocore override", reasons, fallbacks, home, settings)
    choice.alternatives = alternatives
    return choice


def shown_store(view: StoreView, choice: StoreChoice) -> str:
    return view.display(choice.path) if choice.path else f"no store ({choice.role})"


def setting_store(view: StoreView, setting: Origin, role: str, reasons: list[str], fallbacks: Iterable[tuple[str, str]] = (),
                  home: TrustSettings | None = None, runs_in: TrustSettings | None = None) -> StoreChoice:
    """The store a setting names. `home`: the context whose home a leading `~` means, for a client that
    expands it (None: the client opens the path as written). `runs_in`: the context the client runs in, whose
    working directory a relative path is opened from; where that is not known (None, or a context that does not
    know it) no store is checked, and the reasons say so, as for a value computed where the client runs."""
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
        opened, note = runs_in.in_working_dir(value) if runs_in is not None else (None, "")
        if opened is None:
            reasons = reasons + [f"{setting.value!r} is a relative path{tilde}: it depends on the working directory "
                                 f"of the client and cannot be checked"]
            return StoreChoice(None, role, reasons, list(fallbacks), setting=setting)
        value, reasons = opened, reasons + [f"{value!r} is a relative path{tilde}, opened relative to {note}: {opened}"]
    return StoreChoice(view.locate(view.top, value), role, reasons, list(fallbacks), setting=setting)


def _setting(settings: TrustSettings, name: str) -> Origin | None:
    return settings.aws_ca_bundle() if name == "ca_bundle" else settings.variable(name)


def settings_table(client: str) -> dict[str, Any]:
    from auditor.rule_data import data_file

    table: dict[str, Any] = data_file(SETTINGS_DATA).get(client, {})
    return table


def setting_read(view: StoreView, package: str, client: str, name: str) -> Reads:
    """Whether the client whose package is at `package` reads setting `name` (rules/ca-settings.toml):
    from the code that reads it where that is shipped, else from the package's __version__."""
    entry, shown, setting = settings_table(client)[name], view.display(package), OVERRIDES[name]
    first, modules = entry["first"], entry.get("modules", [])
    texts, missing = {}, []
    for module in modules:
        try:
            texts[module] = view.read_bytes(os.path.join(package, module), SOURCE_CAP).decode("utf-8", "replace").replace('"', "'")
        except FsError as exc:
            missing.append(module if view.kind(os.path.join(package, module)) is None else f"readable {module} ({exc})")
    if any(marker in text for text in texts.values() for marker in entry["markers"]):
        return Reads(True)
    if modules and not missing:
        return Reads(False, f"{client} at {shown} does not read {setting}: its {' and '.join(modules)} "
                            f"{'do' if len(modules) > 1 else 'does'} not ({client} first reads it in {first})")
    how = f"this copy ships no {', no '.join(missing)}: decided from its version" if modules else "decided from its version"
    version = _version_at(view, package)
    release = None if version is None else _release(version)
    if release is None:
        unknown = f"its version {version!r} cannot be compared" if version else "no __version__ can be read from its __init__.py"
        shipped = f"this copy ships no {', no '.join(missing)}, and " if missing else ""
        return Reads(None, f"{client} at {shown}: whether it reads {setting} cannot be told ({client} first reads it "
                           f"in {first}; {shipped}{unknown})")
    from packaging.version import Version

    reads = release >= Version(first)  # `first`, from the rule data, is always a release
    return Reads(reads, f"{client} {version} at {shown} {'reads' if reads else 'does not read'} {setting}"
                        f"{' itself' if client == 'awscli' and reads else ''}: {client} first reads it in {first}; {how}")


def either_reads(cli: Reads, botocore: Reads) -> Reads:
    """The AWS CLI reads a setting if it reads it itself or its botocore does."""
    if cli.answer or botocore.answer:
        return cli if cli.answer else botocore
    answer = False if cli.answer is False and botocore.answer is False else None
    return Reads(answer, f"{cli.why}; {botocore.why}")


def _version_at(view: StoreView, package: str) -> str | None:
    try:
        return module_version(view.read_bytes(os.path.join(package, "__init__.py"), SOURCE_CAP))
    except FsError:
        return None


def _release(version: str) -> Version | None:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version)
    except (InvalidVersion, ValueError):  # ValueError: a number over Python's int digit limit
        return None


def _botocore_default(view: StoreView, package: str, entries: list[str]) -> StoreChoice:
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


def boto_store(view: StoreView, entries: list[str], settings: TrustSettings) -> StoreChoice | None:
    choice = _boto_store(view, entries, settings)
    if choice is not None:
        choice.if_missing = IfMissing("fails", "boto 2 fails every HTTPS call", BOTO_MISSING)
    return choice


def _boto_store(view: StoreView, entries: list[str], settings: TrustSettings) -> StoreChoice | None:
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
                         [f"{configured.describe(env)}: boto uses it instead of cacerts/cacerts.txt"], [(own, "without the setting")],
                         runs_in=settings)


def packaged_store(view: StoreView, entries: list[str], owner: str) -> StoreChoice | None:
    """The store `owner` (botocore or boto) would use as it ships, before any setting: for a copy whose runtime
    environment the scan cannot see (one inside an archive). None when `owner` is not importable from `entries`."""
    if owner == "boto":
        from auditor.collect.config.environ import Environ

        return boto_store(view, entries, TrustSettings(Environ({}, "none")))
    package = find_package(view, entries, owner)
    return None if package is None else _botocore_default(view, package, entries)
