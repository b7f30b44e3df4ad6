"""Trust for a scan: the store each client found would use, the system's stores, and the
settings that move them, all as components linked to one another."""

from __future__ import annotations

import enum
import os
from typing import TYPE_CHECKING, Sequence

from auditor import records
from auditor.records import field, mutable_record, record
from auditor.trust.anchors import load_anchors
from auditor.collect import CliV2, Collected, PythonPath
from auditor.trust.client_store import (BOTO_MISSING, BOTOCORE_MISSING, STORE_OWNER, IfMissing, StoreChoice,
                                          boto_store, botocore_store, cli_v2_store, find_package, setting_store)
from auditor.trust.distrust import read_distrust
from auditor.trust.interception import link_interception
from auditor.trust.local_cas import read_local_cas
from auditor.collect.platform.java import find_java_homes
from auditor.trust.sdk_link import Platform, link_sdk_clients, record_store_verdicts
from auditor.trust.system_stores import (EMPTY, NODE_MISSING, is_os_default_store, java_store, node_extra,
                                          openssl_default, os_stores)
from auditor.collect import Origin
from auditor.collect.config.proxies import proxies_of
from auditor.collect.config.trust_settings import TrustSettings
from auditor.fs import View
from auditor.facts.client_trust import ClientTrust
from auditor.facts.package import PackageFacts
from auditor.facts.setting import SettingFacts
from auditor.model import Component
from auditor.trust.stores import StoreBook, link_client
from auditor.trust.variable_readers import FoundClient, aws_readers, python_client, read_by

if TYPE_CHECKING:
    from auditor.collect.sdks import SdkClient

CARRIED = "awscli/botocore"  # the botocore a recent AWS CLI v1 carries inside its package, which the CLI uses
# What the readers of a CA setting do when the file it names is not there (seen with curl 7.88.1, requests
# 2.34.2 and Python 3.11's ssl on Debian 12; botocore, boto and Node as client_trust and system_trust say).
REQUESTS_MISSING = "requests raises OSError \"Could not find a suitable TLS CA certificate bundle, invalid path: …\""
OPENSSL_SKIPS = ("OpenSSL loads its default verify locations without an error for a path that is not there: Python's "
                 "ssl then verifies with the other one alone")
# CA variables, the clients that read them, what they do, and what they do when the file is not there.
VARIABLES = (
    ("AWS_CA_BUNDLE", "botocore, boto3, the AWS CLI", "custom-bundle",
     IfMissing("fails", "botocore, boto3 and the AWS CLI fail every HTTPS call", BOTOCORE_MISSING)),
    ("REQUESTS_CA_BUNDLE", "requests, and botocore", "custom-bundle",
     IfMissing("fails", "requests and botocore fail every HTTPS call", f"{REQUESTS_MISSING}; {BOTOCORE_MISSING}")),
    ("CURL_CA_BUNDLE", "curl, and requests", "custom-bundle",
     IfMissing("fails", "curl and requests fail every HTTPS request",
               f"curl exits with error 77, \"error setting certificate file\"; {REQUESTS_MISSING} (without REQUESTS_CA_BUNDLE)")),
    ("SSL_CERT_FILE", "OpenSSL's default (Python ssl, Ruby, many tools)", "custom-bundle",
     IfMissing("falls back", "OpenSSL's default verify paths skip it: their users trust only the default directory", OPENSSL_SKIPS)),
    ("SSL_CERT_DIR", "OpenSSL's default (Python ssl, Ruby, many tools)", "custom-bundle",
     IfMissing("falls back", "OpenSSL's default verify paths skip it: their users trust only the default file", OPENSSL_SKIPS)),
    ("NODE_EXTRA_CA_CERTS", "Node.js (added to its built-in roots)", "adds-bundle", NODE_MISSING),
)
# Settings whose readers expand a leading ~ with their process's home (botocore through urllib3); the others
# are opened as written (OpenSSL, curl, Java, Node, boto 2).
EXPANDS_TILDE = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "ca_bundle")
SET_FOR_SHOWN = 12
# How a report names the kind of place a setting was written in (the component's source).
SOURCES = {"config file": "configuration file", "systemd unit": "systemd unit setting", "crontab": "crontab setting",
           "/etc/environment": "pam_env file", "profile.d script": "login shell script"}


class Subject(enum.Enum):
    """What a scan looks at: which of the system's stores are part of it, and what may be run to read them."""

    TARGETS = "targets"  # folders and files named on the command line: the system's own stores are not part of it
    IMAGE = "image"  # an unpacked OS image or mounted disk as a whole: its stores and JDKs, none of its programs run
    MACHINE = "machine"  # this machine as a whole: also the running interpreter's OpenSSL default


@record
class TrustScope:
    """What one trust resolution covers: its subject, the system its clients run on, and what it may do."""

    subject: Subject
    host: View  # the system the clients run on: this machine, or an image (targets in an image run on the image)
    target: str  # the report's name for what was scanned
    as_of: str
    environment_named: bool = False  # the scan's environment was given (--env-file), not only the scanner's own
    runtime: bool = False  # --runtime: programs of this machine may be run (`java -version`); never an image's

    @property
    def reads_system(self) -> bool:
        """The system's own stores, JDKs and Node extra CAs are part of the scan."""
        return self.subject is not Subject.TARGETS

    @property
    def runs_java(self) -> bool:
        """`java -version` may be run for a JDK whose files do not tell its version exactly."""
        return self.runtime and self.subject is Subject.MACHINE

    @property
    def every_variable(self) -> bool:
        """Report every CA variable of the scan's own environment, not only those that moved a client found: the
        environment is the system's, or one the user gave."""
        return self.reads_system or self.environment_named


def resolve_trust(scope: TrustScope, settings: TrustSettings, *, paths: Sequence[PythonPath] = (),
                  cli_v2: Sequence[CliV2] = (), sdk_clients: Sequence[SdkClient] = (),
                  os_component: Component | None = None, contexts: Sequence[TrustSettings] = ()) -> Collected:
    """`settings`: the scan's own context; `paths`, `cli_v2`: the Python import paths and AWS CLI v2 installs
    found; `sdk_clients`: SDKs of other languages (auditor.collect.sdks), linked to the store that decides;
    `os_component`: the system's identity, linked to its first OS store; `contexts`: the system's other contexts
    (services, logins, homes: auditor.collect.config.run_contexts), whose settings are reported and whose stores
    are checked. A Python path that a service runs carries that service's context (PythonPath.contexts)."""
    host = scope.host
    anchors = load_anchors()
    distrust = read_distrust(host, anchors)
    book = StoreBook(scope.target, anchors, scope.as_of, distrust, host)
    result = Collected(errors=list(settings.errors) + [e for c in contexts for e in c.errors] + distrust.errors)
    if scope.reads_system:
        book.local = read_local_cas(host)
        result.errors.extend(book.local.errors)
    for path in paths:
        _python_clients(path, settings, book)
    for install in cli_v2:
        book.use(install.view, cli_v2_store(install.view, install.dist, settings),
                 f"AWS CLI {install.component.version}", install.component)
    platform = _system(scope, settings, book, result, os_component) if scope.reads_system else None
    link_sdk_clients(list(sdk_clients), book, host, platform)
    found = _found_clients(settings, paths, cli_v2, sdk_clients)
    result.components.extend(_settings(host, [settings, *contexts], book, scope.target, scope.every_variable, found))
    stores = book.components()
    link_interception(book, stores, [proxy for context in (settings, *contexts) for proxy in proxies_of(context)])
    record_store_verdicts(list(sdk_clients), stores)
    result.components.extend(stores)
    result.errors.extend(book.errors)
    return result


def _found_clients(settings: TrustSettings, paths: Sequence[PythonPath], cli_v2: Sequence[CliV2],
                   sdk_clients: Sequence[SdkClient]) -> list[FoundClient]:
    """The clients found, for which CA variables they read (auditor.trust.variable_readers)."""
    from auditor.facts.manifest import ManifestFacts

    found: list[FoundClient] = []
    system = settings.boto_ca_file is not None and settings.boto_ca_file.value == "system"
    for path in paths:
        for component in path.components:
            if (component.kind == "python-package" and component.name in STORE_OWNER
                    and component.facts_as(PackageFacts).loaded):
                on_path = component.facts_as(PackageFacts).on_path
                label = f"{component.name} {component.version or '(version unknown)'} in " \
                        f"{on_path.entry if on_path else component.location}"
                client = python_client(path.view, path.entries, component.name, label, system)
                if client is not None:
                    found.append(client)
    found.extend(FoundClient("aws-cli-v2", f"AWS CLI {i.component.version or '(version unknown)'} at "
                                           f"{i.component.location}") for i in cli_v2)
    for sdk in sdk_clients:
        if sdk.component.kind == "sdk-manifest":
            facts = sdk.component.facts_as(ManifestFacts)
            found.append(FoundClient(facts.ecosystem, f"{sdk.component.name} {sdk.component.version or ''} in "
                                                      f"{sdk.component.location}".replace("  ", " ")))
    return found


def _python_clients(path: PythonPath, settings: TrustSettings, book: StoreBook) -> None:
    """Each client's store in each context the path runs in: a service's first (its store is the one the
    client's component shows), then the scan's own; the others are recorded on the stores they use."""
    runs = [*path.contexts]  # an image's own process runs in the scan's own context: that one is not added twice
    runs += [] if any(context is settings for context, _ in runs) else [(settings, "")]
    choices: dict[tuple[str, int], StoreChoice | None] = {}
    for component in path.components:
        owner = STORE_OWNER.get(component.name)
        if component.kind != "python-package" or owner is None or not component.facts_as(PackageFacts).loaded:
            continue
        key = _client_key(path, component, owner)
        on_path = component.facts_as(PackageFacts).on_path
        where = on_path.entry if on_path else component.location
        label = f"{component.name} {component.version or '(version unknown)'} in {where}"
        for index, (context, why) in enumerate(runs):
            if (key, index) not in choices:
                choices[(key, index)] = _resolve(path, key, context)
            choice = choices[(key, index)]
            if choice is None:
                book.unlinked(component, f"{owner} is not importable from this path: {component.name} cannot run")
                break
            user = f"{label} ({context.label})" if context.label else label
            if index == 0:
                book.use(path.view, records.replace(choice, reasons=[why, *choice.reasons]) if why else choice,
                         user, component)
            else:
                user = f"{label} ({context.label or 'run by hand'})"
                book.use(path.view, choice, user)
                store = path.view.display(choice.path) if choice.path else "no store that can be checked"
                who = context.label or "the scan's own environment (run by hand)"
                trust = component.trust or ClientTrust()
                link_client(component, records.replace(trust, also_runs_in=(*trust.also_runs_in, f"{who}: {store}")))
            for alternative, when in choice.alternatives:
                book.use(path.view, alternative, f"{user}, {when}")


def _client_key(path: PythonPath, component: Component, owner: str) -> str:
    """Whose store a package's calls use: boto's, botocore's, the AWS CLI's (it reads some CA settings itself),
    or, for a recent AWS CLI v1 and the botocore it carries (awscli/botocore/), that copy's."""
    if component.name == "awscli" or component.facts_as(PackageFacts).carried_by:
        cli = find_package(path.view, path.entries, "awscli")
        if cli is not None and path.view.is_file(os.path.join(cli, "botocore", "__init__.py")):
            return CARRIED
        return "awscli" if component.name == "awscli" else owner
    return owner


def _resolve(path: PythonPath, key: str, settings: TrustSettings) -> StoreChoice | None:
    """The store the client `key` (_client_key) would use on this path with these settings."""
    if key == "boto":
        return boto_store(path.view, path.entries, settings)
    if key == CARRIED and (cli := find_package(path.view, path.entries, "awscli")) is not None:
        return botocore_store(path.view, [cli, *path.entries], settings, cli=True)
    return botocore_store(path.view, path.entries, settings, cli=key == "awscli")


def _system(scope: TrustScope, settings: TrustSettings, book: StoreBook, result: Collected,
            os_component: Component | None) -> Platform:
    """Check the system's own stores; returns them for the SDKs of other languages."""
    host = scope.host
    systems = os_stores(host)
    for index, store in enumerate(systems):
        book.use(host, store, "the operating system's TLS clients", os_component if index == 0 else None)
    default = openssl_default(host, settings) if scope.subject is Subject.MACHINE else None
    platform = Platform(os=systems[0] if systems else None, openssl=default)
    if default is not None:
        book.use(host, default, "OpenSSL's default for this Python (ssl module, and tools built on the same OpenSSL)")
    javas = find_java_homes(host, settings.environ.get, runtime=scope.runs_java)
    result.errors.extend(javas.errors)
    for java in javas.homes:
        shown = host.display(java.home)
        component = Component("java", "java", java.version, shown, "JDK/JRE home", book.target, facts=java.facts())
        result.components.append(component)
        label = f"Java {java.version or '(version unknown)'} at {shown}"
        choice = java_store(host, java, settings)
        book.use(host, choice, label, component)
        platform.jvms.append((choice, label))
    extra = node_extra(host, settings)
    if extra is not None:
        book.use(host, extra, "Node.js (extra CAs)")
    return platform


@mutable_record
class _Gathered:
    """One setting's component while the contexts that share it are met: its identity (which the store book links
    through `link_client`) and its facts so far. The component is made from them once every context was seen."""

    identity: Component
    setting: str
    effect: str
    read_by: str
    statement: str
    found_in: str
    own_first: bool  # met first in the scan's own context (it has no label)
    set_for: list[str] = field(default_factory=list)
    value: str | None = None
    points_to_os_store: bool | None = None
    read_by_found: tuple[str, ...] | None = None

    def component(self) -> Component:
        contexts = self.set_for  # DefaultEnvironment= is set for every unit: name a few, count the rest
        if len(contexts) > SET_FOR_SHOWN:
            contexts = contexts[:SET_FOR_SHOWN] + [f"and {len(contexts) - SET_FOR_SHOWN} more"]
        facts = SettingFacts(self.setting, self.effect, self.found_in, self.statement, self.value, read_by=self.read_by,
                             set_for=tuple(contexts), points_to_os_store=self.points_to_os_store,
                             read_by_found=self.read_by_found,
                             set_for_last=self.own_first and bool(contexts) and self.points_to_os_store is not None)
        return records.replace(self.identity, facts=facts, details=facts.details_with(self.identity.trust))


def _settings(host: View, contexts: list[TrustSettings], book: StoreBook, target: str,
              every_variable: bool, found_clients: list[FoundClient]) -> list[Component]:
    """A trust-config component for each CA setting of each context (the first is the scan's own), linked to the
    store it names. A setting several contexts share (one EnvironmentFile, one ~/.aws/config) is one component,
    set for each of them; the store it names is checked with each context's home."""
    gathered: dict[str, _Gathered] = {}
    for index, settings in enumerate(contexts):
        env = settings.environ
        for origin, name, effect, readers, if_missing in _found(settings):
            environment_only = origin.variable and not origin.path
            if index == 0 and environment_only and not every_variable and origin not in book.settings_used:
                continue
            found_in = origin.found_in or ("config file" if origin.path else "environment")
            location = origin.path or f"environment ({env.origin})"
            identity = Component("trust-config", name, None, location, SOURCES.get(found_in, "environment variable"),
                                 target, line=origin.line)
            known = gathered.get(identity.id)
            first = known is None
            if known is None:
                known = gathered[identity.id] = _Gathered(identity, name, effect, _read_by(name, readers),
                                                          origin.describe(env), found_in, own_first=not settings.label,
                                                          read_by_found=aws_readers(name, found_clients))
            if settings.label and settings.label not in known.set_for:
                known.set_for.append(settings.label)
            if effect == "disabled":
                continue
            known.value = origin.value
            choice = setting_store(host, origin, f"named by {name}", [origin.describe(env)],
                                   home=settings if name.split(" ")[0] in EXPANDS_TILDE else None, runs_in=settings)
            choice.replaces = effect != "adds-bundle"
            choice.if_missing = if_missing or choice.if_missing
            trust = known.identity.trust
            book.use(host, choice, f"the {name} setting" + (f" ({settings.label})" if settings.label else ""),
                     known.identity if first or trust is None or trust.store is None else None)
            if first or known.points_to_os_store is None:
                known.points_to_os_store = choice.path is not None and is_os_default_store(host, choice.path)
    return [setting.component() for setting in gathered.values()]


def _read_by(name: str, readers: str) -> str:
    """Who reads a setting: a profile's ca_bundle as its profile says; a CA variable as rules/ca-variables.toml does."""
    return readers if name.startswith("ca_bundle ") else read_by(name) or readers


def _found(settings: TrustSettings) -> list[tuple[Origin, str, str, str, IfMissing | None]]:
    """(setting, name, effect, who reads it, what they do when its file is not there) for each CA setting of a
    context, in force or overridden."""
    found: list[tuple[Origin, str, str, str, IfMissing | None]] = []
    readers_of = {variable: (effect, readers, if_missing) for variable, readers, effect, if_missing in VARIABLES}
    for variable, readers, effect, if_missing in VARIABLES:
        origin = settings.variable(variable)
        if origin:
            found.append((origin, variable, effect, readers, if_missing))
    for origin in settings.extra:
        if origin.variable in readers_of and origin.value:
            found.append((origin, origin.variable, *readers_of[origin.variable]))
    for profile, origin in sorted(settings.aws_ca_bundles.items()):
        active = " (the active profile)" if profile == settings.aws_profile else ""
        found.append((origin, f"ca_bundle [{profile}]", "custom-bundle", f"botocore, boto3, the AWS CLI with profile {profile}{active}",
                      IfMissing("fails", f"botocore, boto3 and the AWS CLI with profile {profile} fail every HTTPS call", BOTOCORE_MISSING)))
    if settings.boto_ca_file and settings.boto_ca_file.value != "system":
        found.append((settings.boto_ca_file, "ca_certificates_file", "custom-bundle", "boto 2",
                      IfMissing("fails", "boto 2 fails every HTTPS call", BOTO_MISSING)))
    if settings.boto_validation_off:
        found.append((settings.boto_validation_off, "https_validate_certificates", "disabled", "boto 2", None))
    java_store_option = settings.java_options.get("javax.net.ssl.trustStore")
    if java_store_option and java_store_option.value != "NONE":
        found.append((java_store_option, "javax.net.ssl.trustStore", "custom-bundle", "every JVM started with this environment",
                      IfMissing("fails", "JVMs started with this environment: Java 11 and later skip it for their cacerts, "
                                         "older ones may fail every TLS connection", EMPTY)))
    return found
