"""The command line's grammar: the parser of every command, its help texts, and the `type=` validators that
check a value as it is parsed; and the command line as a report or an error may show it (secrets concealed)."""

from __future__ import annotations

import argparse  # not lazy here: main() imports this module only for a command, which parses
import os
import sys

from auditor.records import record
from auditor.version import __version__

TYPE_CHECKING = False  # not typing's: start-up

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

SEVERITIES = ("critical", "high", "medium", "low", "info")  # --fail-on, most severe first
DIFF_FORMATS = ("table", "json", "markdown")  # `report diff --format`
COMMANDS = ("scan", "fix", "rules", "truststore", "probe", "report", "schema", "config")

DESCRIPTION = """\
Will your software still trust AWS endpoints whose certificates come from Amazon
Trust Services? auditor finds AWS SDK and CLI installs and pins (boto, botocore,
awscli, boto3, s3transfer) and flags releases made before the cutoff of the
selected rule pack (DynamoDB: 2013-10-29). It works out the CA store each client
would use and checks it for the ATS trust anchors. It reads files only: nothing in
a scanned environment is imported or run, and a scan uses no network unless --probe asks."""

SCAN_EPILOG = """\
targets:
  (none)              this machine: the running interpreter's sys.path, system and
                      user site directories, pipx venvs, AWS CLI v2 installs; then
                      where applications live, each walked as a DIR is: /app, /srv/*,
                      /opt/*, /usr/src/app, /var/www, /workspace, google-cloud-sdk's
                      folders, and every home (/home/*, /root)
  --root DIR          the same inside an unpacked OS image or mounted disk, read-only
                      and confined to DIR
  --root DIR PATH...  only these paths inside the image, read as DIR or FILE targets
  --image PATH[:REF]  the same inside a container image: an OCI image layout (folder
                      or tar) or a docker-archive tar, its layers applied in memory,
                      its config's Env the environment
  --image PATH[:REF] PATH...
                      only these paths inside the image, as with --root
  DIR                 a virtualenv, a site-packages/dist-packages directory, a Python
                      prefix, or any tree: every environment, vendored SDK copy
                      (vendor/botocore with a __version__), lockfile, declared
                      dependencies, archive, manifest, and the trust settings in its
                      code and scripts
  FILE                a lockfile: requirements*.txt (and -r/-c includes), poetry.lock,
                      Pipfile.lock, uv.lock, pdm.lock, pylock.toml; declared
                      dependencies: pyproject.toml, setup.cfg, setup.py (read with ast,
                      never run), Pipfile, environment.yml; an archive read in memory,
                      never extracted: a Lambda .zip or layer, a .whl, a zipped .egg

application search (no TARGET): each folder is walked at most 12 levels deep and
  200,000 entries; a cap reached is an error entry ("part not scanned"). Not entered:
  .git and other VCS folders, node_modules, __pycache__ and tool caches, and in homes
  .cache, .m2, .gradle, .npm, .cargo, .rustup, .nvm, .pyenv, .conda; install
  locations already read are not read twice. Every file read is size-capped.

caps (each past one is an error entry, and the scan goes on):
  a requirements file 64 MB, a line of it 64 KiB; a lockfile 32 MB; package.json,
  pom.xml, build.gradle, go.mod, MSBuild, packages.config, vcpkg.json 4 MB;
  pyproject.toml, setup.cfg, Pipfile, environment.yml 1 MB; yarn.lock,
  pnpm-lock.yaml, Gemfile.lock, go.mod and Gradle files 500,000 lines of 64 KiB;
  1,500,000 values in a JSON file, 500,000 in a TOML lockfile; 5,000 AWS SDK packages
  in one manifest, 5,000 pins of AWS packages in one lockfile; an archive 512 MB
  (nested: 256 MB, 3 deep, 100,000 entries, 1 GB inflated, a member's ratio 100:1
  past 1 MB); a source file 2 MB; a trust store 64 MB

fail closed:
  Whatever could not be read (a folder without permission, a file over its cap, a
  FIFO, a link out of the target, a search cap) is an error entry, counted on the
  result line ("result: PASS · 3 parts not scanned") and in the JSON summary
  (not_scanned). A TARGET that does not exist or cannot be read makes the exit code 2
  even when other targets were scanned; --strict makes any part not scanned exit 2.

trust stores:
  For each client found (botocore, boto3, awscli, boto 2, AWS CLI v2, and on this
  machine every JDK and OpenSSL's default) the store it would use, why, and its
  fallbacks; each store is checked for the ATS anchors. Settings are read from
  AWS_CA_BUNDLE, the AWS config file's ca_bundle, REQUESTS_CA_BUNDLE, SSL_CERT_FILE,
  the boto config, JAVA_TOOL_OPTIONS and the like: from this process's environment,
  or from --env-file; for a machine or image also from every home's config files
  (~ is that home), systemd units (Environment=, EnvironmentFile=, User=), crontabs,
  /etc/environment and /etc/profile.d, each service's clients resolved with its own
  environment. In a tree, verify= in Python code and --no-verify-ssl / --ca-bundle
  in scripts are found too: the user's own code only, not that of installed or
  vendored third-party packages (site-packages, dist-packages, a package folder's
  installed packages, vendored SDK copies and the released packages beside them).
  A CA variable is said to move AWS calls only where an AWS client found reads it
  (rules/ca-variables.toml); one naming the OS's own bundle is info.

configuration:
  Defaults of --fail-on, --pack, --waivers, --as-of, --exclude, --format and -o come from auditor.toml or
  pyproject.toml's [tool.auditor], the first found from the working directory up to the repository
  root (auditor.toml wins in one folder), never from a TARGET's own files; flags override them.
  'auditor config scan' shows what is in force and where each value came from.

exit codes: 0 nothing at or above --fail-on, 1 findings at or above it,
            2 usage error, a TARGET that could not be read, nothing could be
            scanned, or (--strict) any part not scanned; 130 interrupted (SIGINT),
            143 terminated (SIGTERM), a partly written --output file removed

examples:
  auditor scan
  auditor scan --root /mnt/image --strict
  auditor scan --root /mnt/image /srv/orders   # only /srv/orders inside the image
  auditor scan --image ./layout:orders-1.4    # skopeo copy docker://… oci:layout:orders-1.4
  auditor scan .venv --format json --output report.json
  auditor scan requirements.txt --fail-on medium
  auditor scan ~/src --quiet --format json
  auditor scan /srv/app/.venv --env-file /etc/app/app.env
  auditor scan /srv/app/.venv --probe --timeout 3   # and verify the DynamoDB endpoints with each store in use (network)"""


FIX_DESCRIPTION = """\
Scan the targets as auditor scan does, and fix what its findings say, nothing
else. A dry run by default: the unified diff of every change, the commands it
cannot run itself and the lines to change by hand; --apply writes."""

FIX_EPILOG = """\
what it changes (only what a finding names, at its file and line):
  requirements and constraints files: the version text of each AWS pin released
      before the cutoff; a range that admits only such releases becomes >=VERSION;
      a pin with --hash options gets the new release's hashes from the index
      (--online), or is left as it is, with the reason
  pyproject.toml, setup.cfg, Pipfile: the requirement's text in place, then the
      one locker command to run (poetry lock, uv lock, pdm lock, pipenv lock)
  a PEM bundle inside a target, named by a setting (AWS_CA_BUNDLE, ca_bundle, ...):
      the shipped, fingerprint-checked ATS anchors appended, each after a comment
what it prints for you to do:
  a Java keystore: the keytool command (the password from $AUDITOR_STOREPASS,
      never printed); code that turns validation off: its file and line
what it never does:
  edit a lock by hand, rewrite code, write outside a target or through a symlink
  out of it, overwrite a backup, replace a file that changed since it was read

exit codes: 0 nothing to fix, or everything applied; 1 changes pending (dry run),
            commands or lines left to you, or a change not made; 2 usage error

examples:
  auditor fix .                       # the diff of what it would change
  auditor fix requirements.txt --apply --online
  auditor fix . --to latest --format json"""


PROBE_EPILOG = """\
stores:
  (none)              this machine's: the OS bundles and directories, and OpenSSL's default
                      for this interpreter (SSL_CERT_FILE, SSL_CERT_DIR)
  --ca-file, --ca-dir, --truststore   each given store alone; every endpoint is probed with each

network:
  HTTPS_PROXY (https_proxy) is used through HTTP CONNECT unless NO_PROXY names the host; its
  credentials never appear in the output. Each phase has --timeout; the run ends by --deadline.

failure classes:
  dns, refused, connect-timeout, connect-failed, stalled (the 'long delay' symptom), reset,
  protocol-version, not-tls, tls-failed, proxy-failed, deadline, store-unusable, untrusted-root,
  incomplete-chain, expired, not-yet-valid, hostname-mismatch, certificate-rejected

examples:
  auditor probe
  auditor probe dynamodb.eu-west-3.amazonaws.com --ca-file /etc/ssl/certs/ca-certificates.crt --http
  auditor probe dynamodb.eu-west-3.amazonaws.com --truststore cacerts --storepass-env KS_PASS
  auditor probe dynamodb.eu-west-3.amazonaws.com --connect-to 127.0.0.1:8443 --ca-file test-root.pem"""


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns (COLUMNS, else standard output's terminal, else 80), which argparse's help
    formatter asks for: importing shutil (and the bz2 and lzma it imports) costs a few milliseconds of every
    command's start-up, and argparse makes a formatter for each option added."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Help(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)


class _RawHelp(_Help, argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (their lines are laid out by hand)."""


@record
class Parsers:
    """The parser of the command line, and those of the commands that need an action (`rules`, `report`): given
    alone, such a command prints its help."""

    root: argparse.ArgumentParser
    needing_action: dict[str, argparse.ArgumentParser]


def build_parser(secrets: Sequence[str] = (), only: str | None = None) -> Parsers:
    """`secrets`: values a usage error must not quote (see secret_values). `only`: the one command whose options
    and actions are added (the others are listed, with their help line): the command on the command line, see
    command_word; adding every command's options costs more start-up time than parsing them. None: every command."""

    def wanted(command: str) -> bool:
        return only is None or only == command

    def add(name: str, **options: Any) -> argparse.ArgumentParser | None:
        """The command's parser, listed among the commands; None when the command line runs another one: each
        parser costs start-up time, and only the running command's parses."""
        if only in COMMANDS and only != name:
            return None
        made: argparse.ArgumentParser = commands.add_parser(name, **options)
        return made

    class Parser(argparse.ArgumentParser):  # the subcommands' parsers are of this class too
        def __init__(self, *args: Any, **kwargs: Any):
            kwargs.setdefault("formatter_class", _Help)  # every parser's, so that none imports shutil
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> NoReturn:
            super().error(conceal(message, secrets))

    parser = Parser(prog="auditor", description=DESCRIPTION, formatter_class=_RawHelp)
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = add("scan", help="scan this machine, environments, trees or lockfiles",
               description="Find AWS SDK/CLI installs and pins and judge them against the rule packs.",
               epilog=SCAN_EPILOG, formatter_class=_RawHelp)
    if scan is not None and wanted("scan"):
        scan.add_argument("targets", nargs="*", metavar="TARGET", help="directories or lockfiles (default: this machine)")
        scan.add_argument("--env-file", action="append", default=[], metavar="FILE",
                          help="the environment the scanned clients run with (KEY=value lines, as for docker --env-file or "
                               "systemd EnvironmentFile=; repeatable, later files win). Default: this process's environment")
        scan.add_argument("--root", metavar="DIR",
                          help="scan an unpacked OS image or mounted disk as a machine: every read stays inside DIR "
                               "(absolute symlinks resolve inside it); its environment comes only from --env-file. "
                               "TARGETs given with it are paths inside the image, and only they are scanned")
        scan.add_argument("--image", metavar="PATH[:REF]",
                          help="scan a container image as a machine, without a daemon: an OCI image layout (a folder or a "
                               "tar of one) or a docker-archive tar (docker save, skopeo copy … docker-archive:), REF "
                               "naming one image of several (the layout's ref name, the archive's tag). Its layers are "
                               "applied in memory, never unpacked; its config's Env, User and WorkingDir are the environment, "
                               "home and working directory of its clients, its Entrypoint and Cmd what runs them. TARGETs given "
                               "with it are paths inside the image, and only they are scanned")
        scan.add_argument("--platform", metavar="OS/ARCH[/VARIANT]",
                          help="with --image, the image of this platform from a multi-platform index (default: this "
                               "machine's, e.g. linux/amd64)")
        scan.add_argument("--host-name", metavar="NAME", type=_host_name,
                          help="the name of the machine the report is about (run.host: the label `report merge` "
                               "keeps on its items); default: this machine's network name. Give it where the report "
                               "is about another machine: a --root or --image scan, a fleet's host")
        scan.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                          help="leave out what matches below a DIR target (repeatable; replaces a configuration's "
                               "list): a pattern without '/' matches a folder's or file's name at any depth (build, "
                               "*.whl), one with '/' its path below the target (tests/fixtures); each one left out is "
                               "listed in the JSON report's target (details.excluded). A named FILE target is always read")
        scan.add_argument("--strict", action="store_true",
                          help="exit 2 when any part of a target could not be scanned (an unreadable file or folder, a "
                               "search cap reached), not only when a whole target could not be read")
        scan.add_argument("--runtime", action="store_true",
                          help="allow running the scanned interpreters of this machine (isolated: -E -s -S, empty working "
                               "directory, a timeout) to read their ssl/OpenSSL facts; off by default. Not with --root or "
                               "--image: nothing in an image is ever run")
        scan.add_argument("--probe", action="store_true",
                          help="then connect to the endpoints and verify them with each store a client found uses (read "
                               "inside the image with --root or --image), and with this machine's OS stores for comparison "
                               "when the scan did not read OS stores (network; the options below apply)")
        scan.add_argument("--probe-endpoint", action="append", default=[], metavar="HOST[:PORT]",
                          help="with --probe (repeatable; default: dynamodb.eu-west-3.amazonaws.com and "
                               "streams.dynamodb.eu-west-3.amazonaws.com, port 443)")
        _add_probe_run_options(scan)
        _add_as_of(scan)
        _add_output_options(scan)

    fix = add("fix", help="fix what a scan finds: raise AWS pins, add the ATS anchors to bundles (dry run)",
              description=FIX_DESCRIPTION,
              epilog=FIX_EPILOG, formatter_class=_RawHelp)
    if fix is not None and wanted("fix"):
        fix.add_argument("targets", nargs="+", metavar="TARGET", help="directories or lockfiles, as for auditor scan")
        fix.add_argument("--apply", action="store_true",
                         help="write the changes (each file atomically, after a backup of it); default: a dry run")
        fix.add_argument("--to", type=_release_choice, default="first-safe", metavar="latest|first-safe|VERSION",
                         help="the release a flagged pin is raised to: the first release after the rule pack's cutoff "
                              "(default), the newest the release-date table knows (the index's with --online), or this "
                              "version")
        fix.add_argument("--online", action="store_true",
                         help="ask the package index (network): the newest release for --to latest, and the hashes of "
                              "the new release for a pin with --hash options (without it, such a pin is not changed)")
        fix.add_argument("--index-url", metavar="URL",
                         help="the index's JSON API (default: $AUDITOR_INDEX_URL, else https://pypi.org/pypi)")
        fix.add_argument("--backup-suffix", type=_backup_suffix, default=".auditor-bak", metavar="SUFFIX",
                         help="each edited file's original is kept as FILE+SUFFIX (default: .auditor-bak); an existing "
                              "backup is never overwritten")
        fix.add_argument("--env-file", action="append", default=[], metavar="FILE",
                         help="the environment the scanned clients run with, as for auditor scan")
        fix.add_argument("--pack", action="append", default=[], metavar="ID",
                         help="rule pack to apply (repeatable; default: the default packs)")
        fix.add_argument("--format", choices=("text", "json"), default="text",
                         help="text (the diff and each change), or json (a list of changes: file, line, before, after, "
                              "reason, status)")

    rules = add("rules", help="list rule packs, or refresh the release-date table from PyPI")
    if rules is not None and wanted("rules"):
        rules_commands = rules.add_subparsers(dest="rules_command", metavar="ACTION")
        rules_commands.add_parser("list", help="the rule packs and the release-date table in use")
        show = rules_commands.add_parser("show", help="one rule pack's rules, each with what it rests on and its sources",
                                         description="Print a rule pack: its id, title, version and source, and each "
                                                     "rule's id, check, severity, title, documented text and references.")
        show.add_argument("pack", metavar="PACK", help="the pack's id, as 'auditor rules list' shows it")
        show.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
        refresh = rules_commands.add_parser(
            "refresh", help="fetch first-upload dates of boto, botocore, awscli, boto3 and s3transfer from PyPI (network)",
            description="Fetch release dates from PyPI's JSON API and write the release-date table to the user's data "
                        "folder ($XDG_DATA_HOME/auditor on Linux; AUDITOR_DATA_DIR names another), never into the "
                        "installed package; scans use it while it is newer than the shipped table. "
                        "It uses the network, as auditor probe and scan --probe do; nothing else does.")
        refresh.add_argument("--output", metavar="FILE", help="where to write the table (default: the user's data folder, which scans then use)")
        refresh.add_argument("--timeout", type=_seconds, default=30.0, help="seconds per request (default: 30)")

    store = add("truststore", help="check CA bundles, keystores or certificate directories for the ATS anchors",
                description="Read each trust store (PEM bundle, DER file, hashed directory such as "
                            "/etc/ssl/certs, Java keystore: JKS, JCEKS or PKCS#12) and report its format, "
                            "size, and which ATS anchors it holds.")
    if store is not None and wanted("truststore"):
        store.add_argument("stores", nargs="+", metavar="STORE", help="a bundle or certificate file, a keystore, or a directory")
        password = store.add_mutually_exclusive_group()
        password.add_argument("--storepass", metavar="PASSWORD",
                              help="keystore password: checks a JKS file's integrity; needed to read most PKCS#12 stores")
        password.add_argument("--storepass-env", metavar="VARIABLE",
                              help="read the keystore password from this environment variable (it then stays out of ps)")
        _add_as_of(store)
        _add_output_options(store)

    probe = add("probe", help="connect to endpoints and verify their certificates with given stores (network)",
                description="Connect to each endpoint (TLS with SNI) and verify its certificate chain and "
                            "name against each trust store alone: which TLS version, which chain, which "
                            "anchor, or which failure and why. Uses the network; a scan never does.",
                epilog=PROBE_EPILOG, formatter_class=_RawHelp)
    if probe is not None and wanted("probe"):
        probe.add_argument("endpoints", nargs="*", metavar="HOST[:PORT]",
                           help="default: dynamodb.eu-west-3.amazonaws.com and streams.dynamodb.eu-west-3.amazonaws.com, port 443")
        probe.add_argument("--ca-file", action="append", default=[], metavar="FILE", help="a PEM or DER bundle (repeatable)")
        probe.add_argument("--ca-dir", action="append", default=[], metavar="DIR", help="a certificate directory such as "
                                                                                        "/etc/ssl/certs (repeatable)")
        probe.add_argument("--truststore", action="append", default=[], metavar="KEYSTORE",
                           help="a Java keystore, JKS or PKCS#12, read in memory (repeatable)")
        keystore_password = probe.add_mutually_exclusive_group()
        keystore_password.add_argument("--storepass", metavar="PASSWORD", help="the keystores' password")
        keystore_password.add_argument("--storepass-env", metavar="VARIABLE", help="read the keystores' password from this variable")
        _add_probe_run_options(probe)
        _add_output_options(probe)

    report = add("report", help="render, merge, compare, sign or verify saved JSON reports",
                 description="Work with saved JSON reports (auditor scan --format json -o FILE).", epilog=REPORT_EPILOG,
                 formatter_class=_RawHelp)
    if report is not None and wanted("report"):
        _add_report_actions(report)
    add("schema", help="print the JSON Schema of the JSON report")
    config = add("config", help="show the settings in force and where each came from",
                 description="Show each command's settings (fail-on, packs, waivers, as-of, exclude, format, "
                             "output) and where each came from: default, a configuration file and "
                             "its line, or a flag. Its own options come before COMMAND.",
                 epilog=CONFIG_EPILOG, formatter_class=_RawHelp)
    if config is not None and wanted("config"):
        config.add_argument("--format", choices=("text", "json"), default="text", help="default: text")
        _add_config_options(config)
        config.add_argument("command_line", nargs=argparse.REMAINDER, metavar="COMMAND ...",
                            help="a command line (scan, truststore, probe or report render/merge/diff, with its "
                                 "options): only that command's settings, its flags included")
    return Parsers(parser, {name: action for name, action in (("rules", rules), ("report", report)) if action is not None})


def _release_choice(text: str) -> str:
    """argparse type of fix --to: latest, first-safe, or a PEP 440 version."""
    if text in ("latest", "first-safe"):
        return text
    from packaging.version import InvalidVersion, Version

    try:
        Version(text)
    except InvalidVersion:
        raise argparse.ArgumentTypeError(f"{text!r}: give latest, first-safe or a version such as 1.35.0") from None
    return text


def _backup_suffix(text: str) -> str:
    """argparse type of fix --backup-suffix: a suffix of a file name in the same folder."""
    if not text or "/" in text or "\0" in text or text in (".", ".."):
        raise argparse.ArgumentTypeError(f"{text!r}: give a file name suffix such as .orig (no '/')")
    return text


def _add_as_of(command: argparse.ArgumentParser) -> None:
    command.add_argument("--as-of", metavar="YYYY-MM-DD", type=_date,
                         help="judge certificate expiry on this date (default: today, UTC)")


def _date(text: str) -> str:
    """argparse type of --as-of: an ISO date, kept as written."""
    if valid_date(text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-28")


def valid_date(text: str) -> bool:
    """Whether `text` is a date written YYYY-MM-DD (what --as-of and a configuration's as-of take)."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def _add_probe_run_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--connect-to", metavar="ADDRESS[:PORT]",
                         help="connect here instead (no proxy); the endpoint's name stays the SNI and the name checked")
    command.add_argument("--timeout", type=_seconds, help="seconds for each phase: DNS, connect, proxy, handshake, "
                                                          "GET (default: 5)")
    command.add_argument("--retries", type=_count(0, MAX_RETRIES),
                         help="further attempts after a network failure (DNS, refused, timeout, stall, reset); "
                              f"default 0, at most {MAX_RETRIES}")
    command.add_argument("--jobs", type=_count(1, MAX_JOBS), help=f"probes at a time (default: 16, at most {MAX_JOBS})")
    command.add_argument("--deadline", type=_seconds, help="seconds for the whole run (default: 60)")
    command.add_argument("--http", action="store_true", help="once verified, GET / and report whether it reads 'healthy: HOST'")


# Bounds of the number options. Every wait has to be finite: a NaN or infinite timeout makes the probe loop spin
# and never reach its deadline, and the socket layer refuses a timeout past what time_t holds.
MAX_SECONDS = 86_400.0
MAX_RETRIES = 100
MAX_JOBS = 1_000


def _host_name(text: str) -> str:
    """argparse type of --host-name: a label a person reads in a merged report, so printable and not blank."""
    if not text.strip() or not text.isprintable() or len(text) > 255:
        raise argparse.ArgumentTypeError(f"{text!r}: give a name of 1 to 255 printable characters, such as web-3")
    return text


def _seconds(text: str) -> float:
    """argparse type of a duration: a finite number of seconds above 0 and at most MAX_SECONDS."""

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= MAX_SECONDS:  # NaN fails every comparison
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds above 0 and at most {MAX_SECONDS:,.0f}")
    return value


def _count(least: int, most: int) -> Callable[[str], int]:
    """argparse type of a whole number from `least` to `most`."""

    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not least <= value <= most:
            raise argparse.ArgumentTypeError(f"{text!r}: give a whole number from {least} to {most:,}")
        return value

    return count


def _add_width_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--width", type=_count(40, 10_000), metavar="N",
                         help="the table format's line width (default: COLUMNS, else the terminal's width when "
                              "writing to a terminal, else 120); cells are wrapped or shortened to fit, JSON keeps them whole")


def _add_output_options(command: argparse.ArgumentParser, packs: bool = True,
                        fail_on_default: str | None = "high") -> None:
    from auditor.report import FORMATS  # here, not at the top: `auditor --version` should not pay for it

    # Defaults of None: auditor.cli.config fills what no flag gave, from the configuration or the built-in default.
    command.add_argument("--format", choices=tuple(FORMATS), help="output format (default: table)")
    command.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output")
    _add_width_option(command)
    command.add_argument("--fail-on", choices=SEVERITIES,
                         help="exit 1 when a finding is at or above this severity (default: "
                              f"{fail_on_default or 'the saved report’s own'})")
    if packs:
        command.add_argument("--pack", action="append", default=[], metavar="ID",
                             help="rule pack to apply (repeatable; default: the default packs, see 'auditor rules list')")
    command.add_argument("-q", "--quiet", action="store_true", help="no progress output on standard error")
    command.add_argument("--waivers", metavar="FILE",
                         help="accepted risks (a waiver TOML file, or a pyproject.toml with [[tool.auditor.waivers]]): "
                              "waived findings stay in the report, marked, and --fail-on ignores them")
    _add_config_options(command)


CONFIG_HELP = ("defaults of these options from FILE (auditor.toml, or a pyproject.toml's [tool.auditor]) instead of "
               "the one found from the working directory up to the repository root, where auditor.toml wins over "
               "pyproject.toml in the same folder; flags override it ('auditor config' shows what is in force)")


def _add_config_options(command: argparse.ArgumentParser) -> None:
    config = command.add_mutually_exclusive_group()
    config.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    config.add_argument("--no-config", action="store_true", help="use no configuration file: flags and built-in "
                                                                 "defaults only")


CONFIG_EPILOG = """configuration (docs/configuration.md):
  Defaults of --fail-on, --pack, --waivers, --as-of, --exclude, --format and -o come from auditor.toml, or from
  [tool.auditor] in pyproject.toml, found from the working directory upwards to the repository root
  (the folder holding .git); in one folder auditor.toml wins over pyproject.toml. --config FILE names
  the file, --no-config uses none. Flags override the file; the file overrides the built-in defaults.
  The scanned target's own pyproject.toml is not read as configuration.

examples:
  auditor config                       # every command's settings and where each came from
  auditor config scan --fail-on low    # those of this command line
  auditor config --format json --config ci/auditor.toml"""


REPORT_EPILOG = """\
subcommands:
  render FILE         a saved JSON report in any format, as it was saved; --waivers and --fail-on
                      re-judge it (--as-of: the date waivers are judged on)
  merge FILE...       one report of many: each report's host (run.host) stays on its targets,
                      components and errors; JSON is streamed, in memory bounded by the largest input
  diff BEFORE AFTER   new, resolved and unchanged findings; a finding is the same when rule, host,
                      component kind, name, version, location and source are (its line may move)
  keygen              an Ed25519 key pair (PEM); the private key is written 0600
  sign / verify       a detached Ed25519 signature over the exact bytes of a report

All read JSON reports of schema_version 1.0 to 1.3 (1.3 is what this auditor writes), and refuse others.

exit codes: render, merge: 0 nothing at or above --fail-on, 1 findings at or above it;
            diff: 1 when a new, unwaived finding is at or above --fail-on; verify: 1 on FAIL;
            2 usage error, or a file that cannot be read

examples:
  auditor report render scan.json --format html -o scan.html
  auditor report render scan.json --waivers waivers.toml --fail-on medium
  auditor report merge host-*.json --format html -o fleet.html
  auditor report diff before.json after.json --format markdown
  AUDITOR_KEY_PASS=… auditor report keygen --private audit.key --public audit.pub --passphrase-env AUDITOR_KEY_PASS
  auditor report sign scan.json --key audit.key --passphrase-env AUDITOR_KEY_PASS
  auditor report verify scan.json --signature scan.json.sig --public-key audit.pub"""


def _add_report_actions(report: argparse.ArgumentParser) -> None:
    raw = _RawHelp
    actions = report.add_subparsers(dest="report_command", metavar="ACTION")

    def action(name: str, help: str, example: str, description: str | None = None) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help, description=description,
                                  epilog=f"example:\n  auditor report {name} {example}", formatter_class=raw)
        return parser

    render = action("render", "a saved report in any format, optionally with waivers", "scan.json --format html -o scan.html",
                    "Render a saved JSON report again, exactly as saved (its run, dates and findings); --waivers "
                    "replaces any waivers applied before.")
    render.add_argument("report", metavar="FILE", help="a JSON report")
    merge = action("merge", "one report of many hosts' or targets' reports", "host-*.json --format json -o fleet.json",
                   "Merge saved JSON reports into one. Each report's host (run.host; host#2 for a second report of "
                   "the same host) is kept on its targets, components and errors; the inputs are listed in run.merged.")
    merge.add_argument("reports", nargs="+", metavar="FILE", help="JSON reports")
    for command in (render, merge):
        command.add_argument("--as-of", metavar="YYYY-MM-DD", type=_date,
                             help="judge waivers on this date (default: each report's own as-of date)")
        _add_output_options(command, packs=False, fail_on_default=None)
    diff = action("diff", "new, resolved and unchanged findings between two reports",
                  "before.json after.json --fail-on medium",
                  "Compare two saved reports. A finding is the same in both when its rule and its component's host, "
                  "kind, name, version, location and source are; the line may move.")
    diff.add_argument("before", metavar="BEFORE")
    diff.add_argument("after", metavar="AFTER")
    diff.add_argument("--format", choices=DIFF_FORMATS, default="table", help="default: table")
    diff.add_argument("-o", "--output", metavar="FILE", help="write the comparison to FILE")
    _add_width_option(diff)
    diff.add_argument("--fail-on", choices=SEVERITIES,
                      help="exit 1 when a new, unwaived finding is at or above this severity (default: high)")
    _add_config_options(diff)
    passphrase: dict[str, Any] = dict(metavar="VARIABLE", help="the private key's passphrase is in this environment variable "
                                               "(never given on the command line)")
    keygen = action("keygen", "make an Ed25519 key pair for signing reports", "--private audit.key --public audit.pub")
    keygen.add_argument("--private", required=True, metavar="KEY", help="private key file to create (PEM, mode 0600)")
    keygen.add_argument("--public", required=True, metavar="PUB", help="public key file to create (PEM)")
    keygen.add_argument("--passphrase-env", **passphrase)
    sign = action("sign", "sign a report's exact bytes (detached Ed25519 signature)",
                  "scan.json --key audit.key -o scan.json.sig")
    sign.add_argument("report", metavar="REPORT")
    sign.add_argument("--key", required=True, metavar="KEY", help="the private key (PEM)")
    sign.add_argument("-o", "--output", metavar="SIG", help="signature file (default: REPORT.sig)")
    sign.add_argument("--passphrase-env", **passphrase)
    verify = action("verify", "check a report against its signature: OK or FAIL",
                    "scan.json --signature scan.json.sig --public-key audit.pub")
    verify.add_argument("report", metavar="REPORT")
    verify.add_argument("--signature", required=True, metavar="SIG")
    verify.add_argument("--public-key", required=True, metavar="PUB")


def command_word(argv: Sequence[str]) -> str | None:
    """The command named on the command line, if any: its first word that is not an option (the parser before
    the command takes no option with a value)."""
    return next((part for part in argv if not part.startswith("-")), None)


# Options whose value is a secret (an environment variable's name, as --storepass-env takes, is not).
SECRET_OPTIONS = ("--storepass",)


def _secret_option(option: str) -> bool:
    """--storepass, or an abbreviation argparse may take for it (--storep)."""
    return len(option) > 2 and option.startswith("--") and any(name.startswith(option) for name in SECRET_OPTIONS)


def secret_values(argv: Sequence[str]) -> list[str]:
    """The values of the secret options in `argv`, for a usage error to conceal."""
    values: list[str] = []
    after_option = False
    for part in argv:
        option, equals, value = part.partition("=")
        if after_option:
            values.append(part)
        elif equals and _secret_option(option):
            values.append(value)
        after_option = not after_option and not equals and _secret_option(option)
    return [value for value in values if value]


def conceal(text: str, secrets: Sequence[str]) -> str:
    """A message that may quote the command line (an argparse error), without its secret values."""
    from auditor.redact import redact

    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, "***")
    return redact(text)




def shown_command_line(argv: Sequence[str]) -> list[str]:
    """The command line as a report may show it: passwords given as options masked, other secrets redacted."""
    from auditor.fs import shown as printable
    from auditor.redact import redact

    shown: list[str] = []
    mask_next = False
    for part in argv:
        option, equals, _ = part.partition("=")
        if mask_next:
            part = "***"
        elif equals and _secret_option(option):
            part = f"{option}=***"
        shown.append(redact(printable(part)))  # a name that is not UTF-8 shows its bytes as \xNN
        mask_next = not mask_next and not equals and _secret_option(option)
    return shown
