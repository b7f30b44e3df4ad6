"""Trust stores of the system itself: the OS bundles, OpenSSL's default for the running
interpreter, each JDK's cacerts (or the trust store its options name), and Node's extra bundle.
The JDKs themselves are found by auditor.collect.platform.java."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from auditor.trust.client_store import IfMissing, StoreChoice, setting_store
from auditor.collect.config.trust_settings import TrustSettings
from auditor.fs import FsError, View

if TYPE_CHECKING:
    from auditor.collect.platform.java import JavaHome

# The distributions' default bundles and directories, most common first. Several are
# links to one another; stores are read once per resolved file.
OS_STORES = (
    ("/etc/ssl/certs/ca-certificates.crt", "OS bundle (Debian, Ubuntu, Alpine, Arch, Gentoo)"),
    ("/etc/pki/tls/certs/ca-bundle.crt", "OS bundle (RHEL, CentOS, Fedora, Amazon Linux)"),
    ("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "OS bundle (RHEL, Fedora: update-ca-trust output)"),
    ("/etc/ssl/ca-bundle.pem", "OS bundle (SUSE)"),
    ("/etc/ssl/cert.pem", "OS bundle (macOS, Alpine, BSD)"),
    ("/etc/ssl/certs", "OS hashed directory"),
)
NODE_MISSING = IfMissing("ignores", "Node.js warns once and goes on with its built-in roots",
                         "Node.js documentation (NODE_EXTRA_CA_CERTS): a message is emitted with process.emitWarning() "
                         "if the file is missing or malformed, but any errors are otherwise ignored")


def is_os_default_store(view: View, path: str) -> bool:
    """Whether `path` (host) is, or links to, one of the distributions' default bundles or directories."""
    try:
        real = view.resolve(path)
        return any(view.kind(view.locate(view.top, p)) and view.resolve(view.locate(view.top, p)) == real for p, _ in OS_STORES)
    except FsError:
        return False


def os_stores(view: View) -> list[StoreChoice]:
    found = []
    for path, role in OS_STORES:
        host = view.locate(view.top, path)
        if view.kind(host) is not None:  # a FIFO or a link out of the image is reported when read
            found.append(StoreChoice(host, role, [f"{path} is where the distribution keeps its trusted CAs"]))
    return found


def openssl_default(view: View, settings: TrustSettings) -> StoreChoice | None:
    """OpenSSL's default verify paths for the running interpreter (Python's ssl, and most tools linked to
    the same OpenSSL), moved by SSL_CERT_FILE / SSL_CERT_DIR."""
    import ssl

    paths = ssl.get_default_verify_paths()
    env = settings.environ
    cafile = env.get(paths.openssl_cafile_env) or paths.openssl_cafile
    capath = env.get(paths.openssl_capath_env) or paths.openssl_capath
    reasons = [f"Python {ssl.OPENSSL_VERSION}: default verify paths cafile={paths.openssl_cafile}, capath={paths.openssl_capath}"]
    for variable, value in ((paths.openssl_cafile_env, cafile), (paths.openssl_capath_env, capath)):
        if env.get(variable):
            reasons.append(f"{variable}={value} (from {env.origin}) replaces the default")
    setting = settings.variable(paths.openssl_cafile_env) or settings.variable(paths.openssl_capath_env)
    if cafile and view.is_file(cafile):
        fallbacks = [(capath, "also searched, certificate by certificate")] if capath and view.is_dir(capath) else []
        return StoreChoice(cafile, "OpenSSL default file", reasons, fallbacks, setting=setting)
    if capath and view.is_dir(capath):
        return StoreChoice(capath, "OpenSSL default directory", reasons, setting=setting)
    return None


# What a JVM does without the file of its trust store. Seen with OpenJDK 17.0.15 and Temurin 25.0.3 run with
# -Djavax.net.debug=trustmanager: without jssecacerts and cacerts "No available key store", and every handshake
# fails with "the trustAnchors parameter must be non-empty"; a javax.net.ssl.trustStore that names no readable
# file is skipped ("Inaccessible trust store") for lib/security/cacerts. That fallback is the trust store code
# of JDK 11 (sun.security.ssl.TrustStoreManager); Java 7 and earlier load an empty store instead ("No File
# Available, using empty keystore"), and Java 8 to 10 did so before some of their updates took the newer code.
FALLS_BACK_FROM = 11
NO_STORE = ("with neither jssecacerts nor cacerts the JVM's trust store is empty: every handshake fails with "
            "\"the trustAnchors parameter must be non-empty\", as on Debian when ca-certificates-java is not installed")
SKIPPED = (f"Java {FALLS_BACK_FROM} and later skip a javax.net.ssl.trustStore they cannot read (\"Inaccessible trust store\") "
           "and use lib/security/cacerts instead")
EMPTY = ("Java 7 and earlier, and Java 8 to 10 before their updates took the trust store code of Java 11, load an "
         "empty trust store when javax.net.ssl.trustStore names a file they cannot read: every handshake then fails "
         "with \"the trustAnchors parameter must be non-empty\" (IBM's JSSE raises an error); " + SKIPPED)


def java_store(view: View, java: JavaHome, settings: TrustSettings) -> StoreChoice:
    """javax.net.ssl.trustStore when the options set it; else lib/security/jssecacerts, then cacerts
    (jre/lib/security for Java 8 and older, whose JDKs nest a JRE). A trust store option that names no
    file is skipped by Java 11 and later, which then use cacerts."""
    options, env = settings.java_options, settings.environ
    password = options.get("javax.net.ssl.trustStorePassword")
    security = _security_dir(view, java.home)
    defaults = [os.path.join(security, name) for name in ("jssecacerts", "cacerts")]
    default = next((p for p in defaults if view.kind(p) == "file"), defaults[-1])
    name = f"Java {java.version or '(version unknown)'}"
    no_store = IfMissing("fails", f"{name} cannot verify any server: every TLS connection fails", NO_STORE)
    default_reason = f"no javax.net.ssl.trustStore option: the JVM uses {view.display(default)}" + (
        " (jssecacerts comes before cacerts)" if default == defaults[0] else "")
    configured = options.get("javax.net.ssl.trustStore")
    if configured is None or configured.value == "NONE":
        return StoreChoice(default, "Java cacerts", [default_reason], password=password.value if password else None,
                           if_missing=no_store)
    reasons = [f"{configured.describe(env)}: every JVM started with this environment uses it"]
    if options.get("javax.net.ssl.trustStoreType"):
        reasons.append(options["javax.net.ssl.trustStoreType"].describe(env))
    choice = setting_store(view, configured, "custom Java trust store", reasons, [(default, "without the option")],
                           runs_in=settings)
    choice.password = password.value if password else None
    if choice.path is not None and view.kind(choice.path) is None and _falls_back(java):
        cacerts = defaults[-1]
        skipped = IfMissing("falls back", f"{name} skips it and uses {view.display(cacerts)}", SKIPPED)
        return StoreChoice(cacerts, "Java cacerts", [f"{configured.describe(env)} names a file that does not exist: {SKIPPED}"],
                           setting=configured, password=choice.password, if_missing=no_store, skipped=[(choice.path, skipped)])
    choice.if_missing = IfMissing("fails", f"{name} fails every TLS connection" if _loads_empty(java) else
                                  f"{name} may fail every TLS connection", EMPTY)
    return choice


def _security_dir(view: View, home: str) -> str:
    """Where the JVM looks for cacerts: the security folder there is, else the one its layout has (a JDK of Java 8
    and earlier nests its JRE in jre/)."""
    folders = [os.path.join(home, "lib", "security"), os.path.join(home, "jre", "lib", "security")]
    there = next((d for d in folders if view.is_dir(d)), None)
    return there or folders[1 if view.is_dir(os.path.join(home, "jre")) else 0]


def _falls_back(java: JavaHome) -> bool:
    return java.parsed is not None and java.parsed.major >= FALLS_BACK_FROM and java.vendor != "IBM"


def _loads_empty(java: JavaHome) -> bool:
    return java.vendor == "IBM" or (java.parsed is not None and java.parsed.major <= 7)


def node_extra(view: View, settings: TrustSettings) -> StoreChoice | None:
    extra = settings.variable("NODE_EXTRA_CA_CERTS")
    if extra is None:
        return None
    choice = setting_store(view, extra, "Node extra CAs",
                           [f"{extra.describe(settings.environ)}: Node adds these to its built-in roots (it does not replace them)"],
                           runs_in=settings)
    choice.replaces = False
    choice.if_missing = NODE_MISSING
    return choice
