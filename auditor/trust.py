"""Trust for a scan: the store each client found would use, the system's stores, and the
settings that move them, all as components linked to one another."""

from __future__ import annotations

from auditor.anchors import load_anchors
from auditor.collect import CliV2, Collected, PythonPath
from auditor.collect.client_trust import StoreChoice, boto_store, botocore_store, cli_v2_store, setting_store
from auditor.collect.distrust import read_distrust
from auditor.collect.java import find_java_homes
from auditor.collect.sdk_manifests.link import Platform, link_sdk_clients, record_store_verdicts
from auditor.collect.system_trust import is_os_default_store, java_store, node_extra, openssl_default, os_stores
from auditor.collect.trust_settings import Origin, TrustSettings
from auditor.fs import View
from auditor.model import Component
from auditor.stores import StoreBook

# The client whose store a package uses: boto3 and the AWS CLI go through botocore.
STORE_OWNER = {"botocore": "botocore", "boto3": "botocore", "awscli": "botocore", "boto": "boto"}
# CA variables, the clients that read them, and what they do.
VARIABLES = (
    ("AWS_CA_BUNDLE", "botocore, boto3, the AWS CLI", "custom-bundle"),
    ("REQUESTS_CA_BUNDLE", "requests, and botocore", "custom-bundle"),
    ("CURL_CA_BUNDLE", "curl, and requests", "custom-bundle"),
    ("SSL_CERT_FILE", "OpenSSL's default (Python ssl, Ruby, many tools)", "custom-bundle"),
    ("SSL_CERT_DIR", "OpenSSL's default (Python ssl, Ruby, many tools)", "custom-bundle"),
    ("NODE_EXTRA_CA_CERTS", "Node.js (added to its built-in roots)", "adds-bundle"),
)


def resolve_trust(paths: list[PythonPath], cli_v2: list[CliV2], settings: TrustSettings, as_of: str, target: str,
                  host: View, system: bool, running: bool, every_variable: bool,
                  os_component: Component | None = None, runtime: bool = False, sdk_clients: list = ()) -> Collected:
    """`host`: the system the clients run on (this machine, or an image); `system`: its own stores and JDKs
    are part of the scan; `running`: it is this machine (OpenSSL's default of the running interpreter);
    `every_variable`: report every CA variable set, not only those that moved a client found;
    `os_component`: the system's identity, linked to its first OS store; `runtime`: may run `java -version`;
    `sdk_clients`: SDKs of other languages (auditor.collect.sdk_manifests), linked to the store that decides."""
    anchors = load_anchors()
    distrust = read_distrust(host, anchors)
    book = StoreBook(target, anchors, as_of, distrust, host)
    result = Collected(errors=list(settings.errors) + distrust.errors)
    for path in paths:
        _python_clients(path, settings, book)
    for install in cli_v2:
        book.use(install.view, cli_v2_store(install.view, install.dist, settings),
                 f"AWS CLI {install.component.version}", install.component)
    platform = _system(host, settings, book, result, running, os_component, runtime) if system else None
    link_sdk_clients(sdk_clients, book, host, platform)
    result.components.extend(_settings(host, settings, book, target, every_variable))
    stores = book.components()
    record_store_verdicts(sdk_clients, stores)
    result.components.extend(stores)
    result.errors.extend(book.errors)
    return result


def _python_clients(path: PythonPath, settings: TrustSettings, book: StoreBook) -> None:
    choices: dict[str, StoreChoice | None] = {}
    for component in path.components:
        owner = STORE_OWNER.get(component.name)
        if component.kind != "python-package" or owner is None or not component.details.get("active", True):
            continue
        key = "awscli" if component.name == "awscli" else owner  # the AWS CLI reads some CA settings itself
        if key not in choices:
            choices[key] = (boto_store(path.view, path.entries, settings) if owner == "boto"
                            else botocore_store(path.view, path.entries, settings, cli=key == "awscli"))
        choice = choices[key]
        if choice is None:
            component.details["trust_reasons"] = [f"{owner} is not importable from this path: {component.name} cannot run"]
            continue
        where = component.details.get("path_entry", component.location)
        user = f"{component.name} {component.version or '(version unknown)'} in {where}"
        book.use(path.view, choice, user, component)
        for alternative, when in choice.alternatives:
            book.use(path.view, alternative, f"{user}, {when}")


def _system(host: View, settings: TrustSettings, book: StoreBook, result: Collected, running: bool,
            os_component: Component | None, runtime: bool) -> Platform:
    """Check the system's own stores; returns them for the SDKs of other languages."""
    systems = os_stores(host)
    for index, store in enumerate(systems):
        book.use(host, store, "the operating system's TLS clients", os_component if index == 0 else None)
    default = openssl_default(host, settings) if running else None
    platform = Platform(os=systems[0] if systems else None, openssl=default)
    if default is not None:
        book.use(host, default, "OpenSSL's default for this Python (ssl module, and tools built on the same OpenSSL)")
    for java in find_java_homes(host, settings.environ.get, runtime=runtime and running):
        shown = host.display(java.home)
        component = Component("java", "java", java.version, shown, "JDK/JRE home", book.target, details=java.details())
        result.components.append(component)
        result.errors.extend(java.errors)
        label = f"Java {java.version or '(version unknown)'} at {shown}"
        choice = java_store(host, java, settings)
        book.use(host, choice, label, component)
        platform.jvms.append((choice, label))
    extra = node_extra(host, settings)
    if extra is not None:
        book.use(host, extra, "Node.js (extra CAs)")
    return platform


def _settings(host: View, settings: TrustSettings, book: StoreBook, target: str, every_variable: bool) -> list[Component]:
    """A trust-config component for each CA setting in force, linked to the store it names."""
    env = settings.environ
    found: list[tuple[Origin, str, str, str]] = []  # (setting, name, effect, who reads it)
    for variable, readers, effect in VARIABLES:
        origin = settings.variable(variable)
        if origin:
            found.append((origin, variable, effect, readers))
    for profile, origin in sorted(settings.aws_ca_bundles.items()):
        active = " (the active profile)" if profile == settings.aws_profile else ""
        found.append((origin, f"ca_bundle [{profile}]", "custom-bundle", f"botocore, boto3, the AWS CLI with profile {profile}{active}"))
    if settings.boto_ca_file and settings.boto_ca_file.value != "system":
        found.append((settings.boto_ca_file, "ca_certificates_file", "custom-bundle", "boto 2"))
    if settings.boto_validation_off:
        found.append((settings.boto_validation_off, "https_validate_certificates", "disabled", "boto 2"))
    java_store_option = settings.java_options.get("javax.net.ssl.trustStore")
    if java_store_option and java_store_option.value != "NONE":
        found.append((java_store_option, "javax.net.ssl.trustStore", "custom-bundle", "every JVM started with this environment"))
    components = []
    for origin, name, effect, readers in found:
        if origin.variable and not every_variable and origin not in book.settings_used:
            continue
        details = {"setting": name, "effect": effect, "read_by": readers, "statement": origin.describe(env),
                   "found_in": "config file" if origin.path else "environment"}
        location = origin.path or f"environment ({env.origin})"
        component = Component("trust-config", name, None, location, "configuration file" if origin.path else "environment variable",
                              target, line=origin.line, details=details)
        if effect != "disabled":
            details["value"] = origin.value
            choice = setting_store(host, origin, f"named by {name}", [origin.describe(env)])
            choice.replaces = effect != "adds-bundle"
            book.use(host, choice, f"the {name} setting", component)
            details["points_to_os_store"] = choice.path is not None and is_os_default_store(host, choice.path)
        components.append(component)
    return components
