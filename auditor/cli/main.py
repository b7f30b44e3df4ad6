"""Command line: argument parsing, output files and exit codes. Work happens elsewhere.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it;
2 usage error, or nothing could be scanned; 130 and 143 ended by SIGINT and SIGTERM.
"""

from __future__ import annotations

import os
import sys

from auditor import __version__

from auditor.cli.emit import EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_UNUSABLE, emit, fail
SEVERITIES = ("critical", "high", "medium", "low", "info")

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
  in scripts are found too.

exit codes: 0 nothing at or above --fail-on, 1 findings at or above it,
            2 usage error, a TARGET that could not be read, nothing could be
            scanned, or (--strict) any part not scanned; 130 interrupted (SIGINT),
            143 terminated (SIGTERM), a partly written --output file removed

examples:
  auditor scan
  auditor scan --root /mnt/image --strict
  auditor scan --root /mnt/image /srv/orders   # only /srv/orders inside the image
  auditor scan .venv --format json --output report.json
  auditor scan requirements.txt --fail-on medium
  auditor scan ~/src --quiet --format json
  auditor scan /srv/app/.venv --env-file /etc/app/app.env
  auditor scan /srv/app/.venv --probe --timeout 3   # and verify the DynamoDB endpoints with each store in use (network)"""


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


def build_parser(secrets=()):
    """`secrets`: values a usage error must not quote (see _secret_values)."""
    import argparse  # imported here: `auditor --version` should not pay for it

    class Parser(argparse.ArgumentParser):  # the subcommands' parsers are of this class too
        def error(self, message):
            super().error(_conceal(message, secrets))

    parser = Parser(prog="auditor", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser("scan", help="scan this machine, environments, trees or lockfiles",
                               description="Find AWS SDK/CLI installs and pins and judge them against the rule packs.",
                               epilog=SCAN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    scan.add_argument("targets", nargs="*", metavar="TARGET", help="directories or lockfiles (default: this machine)")
    scan.add_argument("--env-file", action="append", default=[], metavar="FILE",
                      help="the environment the scanned clients run with (KEY=value lines, as for docker --env-file or "
                           "systemd EnvironmentFile=; repeatable, later files win). Default: this process's environment")
    scan.add_argument("--root", metavar="DIR",
                      help="scan an unpacked OS image or mounted disk as a machine: every read stays inside DIR "
                           "(absolute symlinks resolve inside it); its environment comes only from --env-file. "
                           "TARGETs given with it are paths inside the image, and only they are scanned")
    scan.add_argument("--strict", action="store_true",
                      help="exit 2 when any part of a target could not be scanned (an unreadable file or folder, a "
                           "search cap reached), not only when a whole target could not be read")
    scan.add_argument("--runtime", action="store_true",
                      help="allow running the scanned interpreters (isolated: -E -s -S, empty working directory, "
                           "a timeout) to read their ssl/OpenSSL facts; off by default")
    scan.add_argument("--probe", action="store_true",
                      help="then connect to the endpoints and verify them with each store a client found uses, and "
                           "with the OS stores for comparison (network; the options below apply)")
    scan.add_argument("--probe-endpoint", action="append", default=[], metavar="HOST[:PORT]",
                      help="with --probe (repeatable; default: dynamodb.eu-west-3.amazonaws.com and "
                           "streams.dynamodb.eu-west-3.amazonaws.com, port 443)")
    _add_probe_run_options(scan)
    _add_as_of(scan)
    _add_output_options(scan)

    rules = commands.add_parser("rules", help="list rule packs, or refresh the release-date table from PyPI")
    rules.set_defaults(print_rules_help=rules.print_help)
    rules_commands = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rules_commands.add_parser("list", help="the rule packs and the release-date table in use")
    refresh = rules_commands.add_parser(
        "refresh", help="fetch first-upload dates of boto, botocore, awscli, boto3 and s3transfer from PyPI (network)",
        description="Fetch release dates from PyPI's JSON API and write the release-date table. "
                    "It uses the network, as auditor probe and scan --probe do; nothing else does.")
    refresh.add_argument("--output", metavar="FILE", help="where to write the table (default: the table in use)")
    refresh.add_argument("--timeout", type=_seconds, default=30.0, help="seconds per request (default: 30)")

    store = commands.add_parser("truststore", help="check CA bundles, keystores or certificate directories for the ATS anchors",
                                description="Read each trust store (PEM bundle, DER file, hashed directory such as "
                                            "/etc/ssl/certs, Java keystore: JKS, JCEKS or PKCS#12) and report its format, "
                                            "size, and which ATS anchors it holds.")
    store.add_argument("stores", nargs="+", metavar="STORE", help="a bundle or certificate file, a keystore, or a directory")
    password = store.add_mutually_exclusive_group()
    password.add_argument("--storepass", metavar="PASSWORD",
                          help="keystore password: checks a JKS file's integrity; needed to read most PKCS#12 stores")
    password.add_argument("--storepass-env", metavar="VARIABLE",
                          help="read the keystore password from this environment variable (it then stays out of ps)")
    _add_as_of(store)
    _add_output_options(store)

    probe = commands.add_parser("probe", help="connect to endpoints and verify their certificates with given stores (network)",
                                description="Connect to each endpoint (TLS with SNI) and verify its certificate chain and "
                                            "name against each trust store alone: which TLS version, which chain, which "
                                            "anchor, or which failure and why. Uses the network; a scan never does.",
                                epilog=PROBE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
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

    _add_report_parser(commands)
    commands.add_parser("schema", help="print the JSON Schema of the JSON report")
    return parser


def _add_as_of(command) -> None:
    command.add_argument("--as-of", metavar="YYYY-MM-DD", type=_date,
                         help="judge certificate expiry on this date (default: today, UTC)")


def _date(text: str) -> str:
    """argparse type of --as-of: an ISO date, kept as written."""
    import argparse
    import datetime as dt

    try:
        if dt.date.fromisoformat(text).isoformat() == text:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-28")


# Options of a probe run, shared by `probe` and `scan --probe`; unset ones stay None (see _probe_run).
PROBE_RUN_OPTIONS = ("connect_to", "timeout", "retries", "jobs", "deadline", "http")


def _add_probe_run_options(command) -> None:
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


def _seconds(text: str) -> float:
    """argparse type of a duration: a finite number of seconds above 0 and at most MAX_SECONDS."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= MAX_SECONDS:  # NaN fails every comparison
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds above 0 and at most {MAX_SECONDS:,.0f}")
    return value


def _count(least: int, most: int):
    """argparse type of a whole number from `least` to `most`."""
    import argparse

    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not least <= value <= most:
            raise argparse.ArgumentTypeError(f"{text!r}: give a whole number from {least} to {most:,}")
        return value

    return count


def _probe_run(args):
    """(connect_to, ProbeSettings, jobs, deadline) from the options of _add_probe_run_options (their ranges are
    checked by the parser), defaults filled in; ValueError with the message for the user for a bad address."""
    from auditor.runs.probe import parse_address
    from auditor.probe.run import DEFAULT_DEADLINE, DEFAULT_JOBS, DEFAULT_TIMEOUT, ProbeSettings

    def given(value, default):
        return default if value is None else value

    timeout, retries = given(args.timeout, DEFAULT_TIMEOUT), given(args.retries, 0)
    jobs, deadline = given(args.jobs, DEFAULT_JOBS), given(args.deadline, DEFAULT_DEADLINE)
    connect_to = parse_address(args.connect_to, None) if args.connect_to else None
    return connect_to, ProbeSettings(timeout, retries, args.http), jobs, deadline


def _add_output_options(command, packs: bool = True, fail_on_default="high") -> None:
    from auditor.report import FORMATS  # here, not at the top: `auditor --version` should not pay for it

    command.add_argument("--format", choices=tuple(FORMATS), default="table", help="output format (default: table)")
    command.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output")
    command.add_argument("--fail-on", choices=SEVERITIES, default=fail_on_default,
                         help="exit 1 when a finding is at or above this severity (default: "
                              f"{fail_on_default or 'the saved report’s own'})")
    if packs:
        command.add_argument("--pack", action="append", default=[], metavar="ID",
                             help="rule pack to apply (repeatable; default: the default packs, see 'auditor rules list')")
    command.add_argument("-q", "--quiet", action="store_true", help="no progress output on standard error")
    command.add_argument("--waivers", metavar="FILE",
                         help="accepted risks (a waiver TOML file, or a pyproject.toml with [[tool.auditor.waivers]]): "
                              "waived findings stay in the report, marked, and --fail-on ignores them")


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

All read JSON reports of schema_version 1.0 and 1.1 (what this auditor writes), and refuse others.

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


def _add_report_parser(commands) -> None:
    import argparse

    raw = argparse.RawDescriptionHelpFormatter
    report = commands.add_parser("report", help="render, merge, compare, sign or verify saved JSON reports",
                                 description="Work with saved JSON reports (auditor scan --format json -o FILE).",
                                 epilog=REPORT_EPILOG, formatter_class=raw)
    report.set_defaults(print_report_help=report.print_help)
    actions = report.add_subparsers(dest="report_command", metavar="ACTION")

    def action(name, help, example, description=None):
        return actions.add_parser(name, help=help, description=description,
                                  epilog=f"example:\n  auditor report {name} {example}", formatter_class=raw)

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
    diff.add_argument("--format", choices=("table", "json", "markdown"), default="table", help="default: table")
    diff.add_argument("-o", "--output", metavar="FILE", help="write the comparison to FILE")
    diff.add_argument("--fail-on", choices=SEVERITIES, default="high",
                      help="exit 1 when a new, unwaived finding is at or above this severity (default: high)")
    passphrase = dict(metavar="VARIABLE", help="the private key's passphrase is in this environment variable "
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


# Options whose value is a secret (an environment variable's name, as --storepass-env takes, is not).
SECRET_OPTIONS = ("--storepass",)


def _secret_option(option: str) -> bool:
    """--storepass, or an abbreviation argparse may take for it (--storep)."""
    return len(option) > 2 and option.startswith("--") and any(name.startswith(option) for name in SECRET_OPTIONS)


def _secret_values(argv: list[str]) -> list[str]:
    values, after_option = [], False
    for part in argv:
        option, equals, value = part.partition("=")
        if after_option:
            values.append(part)
        elif equals and _secret_option(option):
            values.append(value)
        after_option = not after_option and not equals and _secret_option(option)
    return [value for value in values if value]


def _conceal(text: str, secrets) -> str:
    """A message that may quote the command line (an argparse error), without its secret values."""
    from auditor.redact import redact

    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, "***")
    return redact(text)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if list(argv) == ["--version"]:
        print(f"auditor {__version__}")
        return EXIT_OK
    from auditor.output import Terminated, terminate_raises

    try:
        with terminate_raises():  # so that an output file's temporary is removed on SIGTERM too
            return _command(argv)
    except KeyboardInterrupt:
        print("auditor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("auditor: terminated", file=sys.stderr)
        return EXIT_TERMINATED


def _command(argv: list[str]) -> int:
    parser = build_parser(_secret_values(argv))
    args = parser.parse_args(argv)
    args.command_line = shown_command_line(["auditor", *argv])
    args.waiver_list = None
    if getattr(args, "waivers", None):
        from auditor.checks.waivers import WaiverError, load_waivers

        try:  # before a long scan, not after it
            args.waiver_list = load_waivers(args.waivers)
        except WaiverError as exc:
            return fail(str(exc))
    if args.command == "report" and args.report_command:
        from auditor.cli.report_commands import run as run_report_command

        return run_report_command(args)
    if args.command == "report":
        args.print_report_help(sys.stderr)
        return EXIT_UNUSABLE
    if args.command == "scan":
        return _scan(args)
    if args.command == "truststore":
        return _truststore(args)
    if args.command == "probe":
        return _probe(args)
    if args.command == "rules":
        return _rules(args)
    if args.command == "schema":
        from auditor.report.json_report import SCHEMA_PATH

        sys.stdout.write(SCHEMA_PATH.read_text(encoding="utf-8"))
        return EXIT_OK
    parser.print_help()
    return EXIT_UNUSABLE


def _scan(args) -> int:
    from auditor.collect.config.environ import EnvFileError, load_env_files
    from auditor.checks.rules import RulesError, select_packs
    from auditor.runs.scan import NothingScanned, ScanOptions, run

    if args.root is not None and not args.root:
        return fail("--root needs a directory: an empty value would scan this machine's / as an image")
    if args.root and not os.path.isdir(args.root):
        return fail(f"--root {args.root}: not a directory")
    try:
        packs = select_packs(args.pack)
        environ = load_env_files(args.env_file) if args.env_file else None
        probe = _probe_plan(args)
    except (RulesError, EnvFileError, ValueError) as exc:
        return fail(str(exc))
    with _progress(enabled=not args.quiet) as tick:
        try:
            report = run(ScanOptions(args.targets, packs, fail_on=args.fail_on, as_of=args.as_of or "", progress=tick,
                                     environ=environ, root=args.root, runtime=args.runtime, probe=probe))
        except NothingScanned as exc:
            return fail(f"nothing could be scanned: {exc}")
    code = emit(report, args)
    return _fail_closed(report, args.strict) or code


def _fail_closed(report, strict: bool) -> int:
    """EXIT_UNUSABLE, said on standard error, when a target named could not be read, or (--strict) when any part
    of what was scanned could not be: a result that covers less than was asked is not a pass."""
    unread = report.unread_targets()
    if unread:
        return fail("; ".join(f"{t.location}: {t.details.get('reason', 'could not be read')}" for t in unread)
                     + " (the report covers only the other targets)")
    if strict and report.not_scanned():
        return fail(f"--strict: {report.not_scanned()} parts could not be scanned (see the report's errors)")
    return EXIT_OK


def _probe_plan(args):
    """What `scan --probe` probes and how (None without --probe); ValueError for bad input, or for a probe
    option given without --probe."""
    if not args.probe:
        given = [name for name in ("probe_endpoint", *PROBE_RUN_OPTIONS) if getattr(args, name) not in (None, False, [])]
        if given:
            raise ValueError(f"--{given[0].replace('_', '-')} is an option of --probe: add --probe, or leave it out")
        return None
    from auditor.probe import DEFAULT_ENDPOINTS
    from auditor.runs.probe import parse_address
    from auditor.runs.scan_probes import ProbePlan

    connect_to, settings, jobs, deadline = _probe_run(args)
    endpoints = tuple(parse_address(text) for text in args.probe_endpoint) or DEFAULT_ENDPOINTS
    return ProbePlan(endpoints, settings, connect_to, jobs, deadline)


def _truststore(args) -> int:
    from auditor.checks.rules import RulesError, select_packs
    from auditor.runs.truststore import NothingRead, inspect_stores

    try:
        password = _keystore_password(args)
    except ValueError as exc:
        return fail(str(exc))
    try:
        packs = select_packs(args.pack)
        report = inspect_stores(args.stores, packs, args.fail_on, args.as_of or "", password)
    except RulesError as exc:
        return fail(str(exc))
    except NothingRead as exc:
        return fail(f"nothing could be read: {exc}")
    return emit(report, args)


def _keystore_password(args):
    """--storepass, or the value of the variable --storepass-env names; ValueError when it is not set."""
    if not args.storepass_env:
        return args.storepass
    password = os.environ.get(args.storepass_env)
    if password is None:
        raise ValueError(f"--storepass-env: the variable {args.storepass_env} is not set")
    return password


def _probe(args) -> int:
    from auditor.probe import DEFAULT_ENDPOINTS, TrustStore
    from auditor.runs.probe import StoreToProbe, machine_stores, parse_address, probe_report
    from auditor.checks.rules import RulesError, select_packs

    try:
        connect_to, settings, jobs, deadline = _probe_run(args)
        endpoints = [parse_address(text) for text in args.endpoints] or list(DEFAULT_ENDPOINTS)
        password = _keystore_password(args)
    except ValueError as exc:
        return fail(str(exc))
    named = ([(p, os.path.isfile, "--ca-file", None) for p in args.ca_file]
             + [(p, os.path.isdir, "--ca-dir", None) for p in args.ca_dir]
             + [(p, os.path.isfile, "--truststore", password) for p in args.truststore])
    for path, exists, option, _ in named:
        if not exists(path):
            return fail(f"{option} {path}: no such {'directory' if option == '--ca-dir' else 'file'}")
    unique = {os.path.abspath(path): secret for path, _, _, secret in named}
    stores = [StoreToProbe(TrustStore.load(path, secret)) for path, secret in unique.items()] or machine_stores()
    if not stores:
        return fail("no trust store found on this machine: name one with --ca-file, --ca-dir or --truststore")
    try:
        packs = select_packs(args.pack)
    except RulesError as exc:
        return fail(str(exc))
    report = probe_report(endpoints, stores, packs, args.fail_on, connect_to=connect_to, settings=settings,
                          workers=jobs, deadline=deadline)
    return emit(report, args)


def shown_command_line(argv: list[str]) -> list[str]:
    """The command line as a report may show it: passwords given as options masked, other secrets redacted."""
    from auditor.fs import shown as printable
    from auditor.redact import redact

    shown, mask_next = [], False
    for part in argv:
        option, equals, _ = part.partition("=")
        if mask_next:
            part = "***"
        elif equals and _secret_option(option):
            part = f"{option}=***"
        shown.append(redact(printable(part)))  # a name that is not UTF-8 shows its bytes as \xNN
        mask_next = not mask_next and not equals and _secret_option(option)
    return shown


class _progress:
    """A live counter of directories walked, on standard error when it is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return None
        import shutil

        from tqdm import tqdm

        # A terminal that reports no size (a fresh pty, some CI consoles) would make tqdm draw nothing.
        size = shutil.get_terminal_size(fallback=(80, 24))
        self.bar = tqdm(unit=" dirs", desc="scanning", file=sys.stderr, leave=False, mininterval=0.2,
                        ncols=size.columns or 80, nrows=size.lines or 24)
        return lambda _directory: self.bar.update(1)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False


def _rules(args) -> int:
    from auditor.rule_data import rules_dir
    from auditor.checks.rules import ReleaseDates, RulesError, load_packs

    if args.rules_command == "refresh":
        from auditor.checks.refresh import refresh

        output = args.output or str(rules_dir() / "release-dates.json")
        try:
            counts = refresh(output, timeout=args.timeout)
        except (OSError, ValueError) as exc:  # network and file errors; an answer too large or not JSON
            return fail(f"refresh failed, table unchanged: {exc}")
        print(f"wrote {output}: " + ", ".join(f"{name} {n} releases" for name, n in sorted(counts.items())))
        return EXIT_OK
    if args.rules_command == "list":
        try:
            packs = load_packs()
            dates = ReleaseDates.load()
        except (RulesError, OSError, ValueError) as exc:
            return fail(str(exc))
        for pack in packs.values():
            print(f"{pack.id} {pack.version}{' (default)' if pack.default else ''}: {pack.title}")
            for rule in pack.rules:
                print(f"  {rule.id} [{rule.severity}] {rule.check} {', '.join(rule.applies_to or ())}"
                      + (f" before {rule.cutoff}" if rule.cutoff else ""))
        print(f"release dates: {rules_dir() / 'release-dates.json'} (fetched {dates.fetched_at}): "
              + ", ".join(f"{n} {len(v)}" for n, v in sorted(dates.packages.items())))
        return EXIT_OK
    args.print_rules_help(sys.stderr)
    return EXIT_UNUSABLE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
