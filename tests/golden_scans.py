"""The golden scans: every kind of target the fixtures hold, each run as a user would, and its JSON report in a
form that depends on the fixture and the code only (tests/test_golden.py compares it with tests/golden/*.json).

Every scan runs in-process in a work folder that holds a copy of tests/fixtures (`fixtures/…`) and the inputs
built here (`built/…`: archives, an OS image with services and JVMs, an env file, waivers) and saved reports
(`reports/…`), and names them by relative paths, so the reports show relative paths and the component ids
(a hash of each location) are the same wherever the work folder is. A few places show a target as an absolute
path all the same: normalize() makes those `<work>` (see there).

What the machine must not change is fixed while the scans run: the environment is replaced by three variables
(no CA variables, HOME a folder that does not exist, a fixed PATH), the host name is `golden-host`, and
every dated judgement gets --as-of. Normalized besides: `generated_at`, and the wording of a SyntaxError
(the running interpreter's).

No target here falls back to the host's own CA store: Debian's patched certifi (envs/trust/debian-bookworm)
points at /etc/ssl/certs/ca-certificates.crt, so it is scanned as an image (--root), where that path is the
image's own, never as a folder (which would read the host's bundle).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import platform
import re
import shutil
import socket
import zipfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from auditor import model

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
ANCHORS = TESTS.parent / "rules" / "anchors"
GOLDEN = TESTS / "golden"

AS_OF = "2026-12-01"
HOST = "golden-host"
# The whole environment of a golden scan: a DIR scan reads its clients' settings from this process's
# environment, and CI, developers and this machine each set CA variables of their own.
ENVIRONMENT = {"HOME": "/nonexistent/golden-home", "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}

SCAN = ("scan", "--format", "json", "-q", "--as-of", AS_OF)
TRUSTSTORE = ("truststore", "--format", "json", "-q", "--as-of", AS_OF)

ENVS = "fixtures/envs"
TRUST = "fixtures/envs/trust"
LOCKS = "fixtures/lockfiles"
DECLARED = "fixtures/declared"
MANIFESTS = "fixtures/manifests"
OLD_SITE = f"{ENVS}/py3-old-botocore/lib/python3.11/site-packages"  # botocore 0.21.0, awscli 1.2.1, requests 2.0.0
MODERN_SITE = f"{TRUST}/botocore-1.35.0/site-packages"  # botocore 1.35.0 and certifi 2024.8.30


def _scans() -> dict[str, tuple[str, ...]]:
    scans: dict[str, tuple[str, ...]] = {}
    # Python environments: venvs, easy_install eggs, a Debian dist-packages prefix, AWS CLI v2 installs.
    for name in ("aws-cli-v2", "debian-dist-packages", "duplicate-installs", "no-metadata", "py27-easy-install",
                 "py3-old-botocore", "py3-venv"):
        scans[f"env-{name}"] = (*SCAN, f"{ENVS}/{name}")
    scans["site-packages-py3-old-botocore"] = (*SCAN, OLD_SITE)
    scans["package-folder-boto-2.9.0"] = (*SCAN, f"{ENVS}/no-metadata/lib/python2.7/site-packages/boto")
    scans["egg-boto-2.9.0"] = (*SCAN, f"{ENVS}/py27-easy-install/lib/python2.7/site-packages/boto-2.9.0-py2.7.egg")
    # Which store each client uses: each botocore/awscli generation.
    for name in ("awscli-1.2.11", "botocore-0.23.0", "botocore-1.3.27", "botocore-1.10.84", "botocore-1.35.0"):
        scans[f"trust-{name}"] = (*SCAN, f"{TRUST}/{name}")
    scans["trust-debian-bookworm-root"] = (*SCAN, "--root", f"{TRUST}/debian-bookworm")
    scans["vendored-awscli-1.46.3"] = (*SCAN, "fixtures/vendored/awscli-1.46.3")
    # A repository: trust settings in code, scripts, CI files and a venv inside it.
    scans["tree-shop-api"] = (*SCAN, "fixtures/trust-config/shop-api")
    # Lockfiles of every format, as folders (a project) and as FILE targets.
    for era in ("legacy", "modern"):
        for tool in ("pdm", "pip", "pip-tools", "pipenv", "poetry", "uv"):
            scans[f"lockfiles-{era}-{tool}"] = (*SCAN, f"{LOCKS}/{era}/{tool}")
    for tool, file in (("pdm", "pdm.lock"), ("pip", "pylock.toml"), ("pip-tools", "requirements.txt"),
                       ("pip-tools", "requirements-nohashes.txt"), ("pipenv", "Pipfile.lock"), ("poetry", "poetry.lock"),
                       ("uv", "uv.lock"), ("uv", "requirements.txt")):
        scans[f"lockfile-legacy-{tool}-{file.replace('.', '-')}"] = (*SCAN, f"{LOCKS}/legacy/{tool}/{file}")
    # Declared dependencies, each file as a FILE target, and the folder of them all.
    for folder, file in (("awscli-1.2.1", "setup.py"), ("computed", "setup.py"), ("conda", "environment.yml"),
                         ("pep621", "pyproject.toml"), ("pipenv", "Pipfile"), ("poetry", "pyproject.toml"),
                         ("setup-cfg", "setup.cfg"), ("setuptools-2013", "setup.py")):
        scans[f"declared-{folder}"] = (*SCAN, f"{DECLARED}/{folder}/{file}")
    scans["declared-all"] = (*SCAN, DECLARED)
    # Other languages' SDK manifests.
    for folder in ("npm/lock-v1", "npm/lock-v2", "npm/lock-v3", "npm/pnpm", "npm/yarn-berry", "npm/yarn-classic",
                   "java", "go", "php", "dotnet", "cpp", "ruby/v1", "ruby/v2-0", "ruby/v3-bundled"):
        scans[f"manifests-{folder.replace('/', '-')}"] = (*SCAN, f"{MANIFESTS}/{folder}")
    scans["manifest-npm-package-json"] = (*SCAN, f"{MANIFESTS}/npm/lock-v3/package.json")
    # OS images (--root): identity and OS matrix of each system.
    for name in sorted(p.name for p in (FIXTURES / "os-roots").iterdir() if p.is_dir()):
        scans[f"root-{name}"] = (*SCAN, "--root", f"fixtures/os-roots/{name}")
    scans["root-debian-12-tls12"] = (*SCAN, "--root", "fixtures/os-roots/debian-12", "--pack", "dynamodb-ats",
                                     "--pack", "tls12")
    # Trust stores: keystores of each format, a PEM bundle, a bundle folder.
    for file in ("truststore.jks", "truststore.p12"):
        scans[f"truststore-{file.replace('.', '-')}"] = (*TRUSTSTORE, f"fixtures/keystores/{file}", "--storepass",
                                                          "changeit")
    scans["truststore-jks-without-password"] = (*TRUSTSTORE, "fixtures/keystores/truststore.jks")
    scans["truststore-open-p12"] = (*TRUSTSTORE, "fixtures/keystores/open.p12")
    scans["truststore-certifi-bundle"] = (*TRUSTSTORE, f"{MODERN_SITE}/certifi/cacert.pem")
    scans["truststore-boto-2.9.0-cacerts"] = (*TRUSTSTORE, f"{ENVS}/no-metadata/lib/python2.7/site-packages/boto/cacerts")
    # Built here (see build()): archives, an image with services, a JVM and homes, an env file, waivers.
    scans["archive-lambda-zip"] = (*SCAN, "built/lambda.zip")
    scans["archive-wheel"] = (*SCAN, "built/wheels/botocore-0.21.0-py2.py3-none-any.whl")
    # Not the image: its Debian certifi names /etc/ssl/certs/ca-certificates.crt, which a folder scan reads on this
    # machine (the image-* scans read it with --root, as the image's own).
    scans["archives-folder"] = (*SCAN, "built", "--exclude", "image")
    scans["env-file-botocore-1.35.0"] = (*SCAN, MODERN_SITE, "--env-file", "built/service.env")
    scans["env-file-botocore-0.23.0"] = (*SCAN, f"{TRUST}/botocore-0.23.0", "--env-file", "built/service.env")
    scans["image-services"] = (*SCAN, "--root", "built/image")
    scans["image-services-env-file"] = (*SCAN, "--root", "built/image", "--env-file", "built/service.env")
    scans["image-services-one-path"] = (*SCAN, "--root", "built/image", "/opt/orders")
    scans["waivers-py3-old-botocore"] = (*SCAN, f"{ENVS}/py3-old-botocore", "--waivers", "built/waivers.toml",
                                         "--fail-on", "medium")
    return scans


SCANS = _scans()
# Saved reports (the scans above, as written to a file) rendered, merged and compared again.
REPORT_COMMANDS: dict[str, tuple[str, ...]] = {
    "report-render": ("report", "render", "reports/env-py3-old-botocore.json", "--format", "json", "-q"),
    "report-render-waivers": ("report", "render", "reports/env-py3-old-botocore.json", "--format", "json", "-q",
                              "--waivers", "built/waivers.toml", "--as-of", AS_OF),
    # Inputs at relative paths only: a merge keeps each input's order, which normalize() cannot re-derive.
    "report-merge": ("report", "merge", "reports/env-py3-old-botocore.json", "reports/env-py3-venv.json",
                     "reports/manifests-go.json", "--format", "json", "-q", "--as-of", AS_OF),
    "report-diff": ("report", "diff", "reports/env-py3-old-botocore.json", "reports/env-py3-venv.json",
                    "--format", "json"),
}
NAMES = [*SCANS, *REPORT_COMMANDS]


# -- inputs built here ---------------------------------------------------------------------------------------

def _files(root: Path, *names: str) -> dict[str, bytes]:
    """The files of `names` (folders or files) below `root`, by their path below it."""
    files = {}
    for name in names:
        path = root / name
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            files[file.relative_to(root).as_posix()] = file.read_bytes()
    return files


def _zip(path: Path, files: dict[str, bytes]) -> None:
    """A zip with fixed entry dates, so the archive's bytes are the same on every run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6)), data, zipfile.ZIP_DEFLATED)


def _wheel(path: Path, files: dict[str, bytes]) -> None:
    """A wheel as a builder writes it: its files, then a RECORD of each one's SHA-256 and size."""
    dist_info = next(name.split("/")[0] for name in files if name.endswith(".dist-info/METADATA"))
    record = "".join(f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
                     f"{len(data)}\n" for name, data in files.items())
    _zip(path, {**files, f"{dist_info}/RECORD": (record + f"{dist_info}/RECORD,,\n").encode()})


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def _venv(root: Path, prefix: str, site: Path) -> None:
    """A virtualenv as `python3 -m venv` lays it out, a real install's site-packages copied into it."""
    folder = root / prefix.lstrip("/")
    _write(folder / "pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n"
                                  f"executable = /usr/bin/python3.11\ncommand = /usr/bin/python3 -m venv {prefix}\n")
    shutil.copytree(site, folder / "lib" / "python3.11" / "site-packages")


def build(work: Path) -> None:
    """The inputs no fixture folder holds as such, made from the fixtures and the shipped anchors."""
    fixtures, built = work / "fixtures", work / "built"
    old_site, modern_site = work / OLD_SITE, work / MODERN_SITE
    # The scans run in `work`: as a repository root it ends the search for auditor.toml / [tool.auditor], so no
    # configuration in a folder above it changes a golden scan.
    (work / ".git").mkdir(exist_ok=True)
    handler = b"import boto3\n\n\ndef handler(event, context):\n    return boto3.client('dynamodb').list_tables()\n"
    _zip(built / "lambda.zip", {"lambda_function.py": handler, **_files(old_site, "botocore", "botocore-0.21.0.dist-info",
                                                                       "requests", "requests-2.0.0.dist-info")})
    _wheel(built / "wheels" / "botocore-0.21.0-py2.py3-none-any.whl",
           _files(old_site, "botocore", "botocore-0.21.0.dist-info"))
    _write(built / "corp-bundle.pem", (ANCHORS / "starfield-class-2-ca.pem").read_bytes())
    _write(built / "service.env", "# the orders service\nexport AWS_CA_BUNDLE='built/corp-bundle.pem'\n"
                                  "REQUESTS_CA_BUNDLE=/etc/orders/ca.pem\n")
    _write(built / "waivers.toml", """\
# Accepted risks of the legacy batch environment.
[[waivers]]
rule = "ats-python-sdk-before-cutoff"
component = "botocore"
location = "fixtures/envs/py3-old-botocore/**"
reason = "Batch job retired in Q1 2027; replacement tracked in OPS-1234"
owner = "platform-team@example.com"
expires = 2026-12-31

[[waivers]]
rule = "ats-*"
component = "awscli"
reason = "awscli 1.2.1 only runs offline packaging steps"
owner = "alice@example.com"
expires = 2026-11-15

[[waivers]]
rule = "ats-python-sdk-before-cutoff"
component = "boto"
location = "/srv/decommissioned/**"
reason = "host decommissioned"
owner = "bob@example.com"
expires = 2027-06-30
""")
    image = built / "image"
    shutil.copytree(fixtures / "os-roots" / "debian-12", image, symlinks=True)
    _write(image / "etc" / "passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                                     "deploy:x:1000:1000:Deploy,,,:/home/deploy:/bin/bash\n")
    _write(image / "etc" / "ssl" / "certs" / "ca-certificates.crt",
           b"".join((ANCHORS / name).read_bytes() for name in ("amazon-root-ca-1.pem", "starfield-class-2-ca.pem")))
    shutil.copytree(work / TRUST / "debian-bookworm" / "usr", image / "usr", dirs_exist_ok=True)
    _venv(image, "/opt/orders/venv", modern_site)
    _venv(image, "/srv/batch/venv", old_site)
    _write(image / "etc" / "orders" / "ca.pem", (ANCHORS / "starfield-services-root-ca-g2.pem").read_bytes())
    _write(image / "etc" / "systemd" / "system" / "orders.service",
           "[Unit]\nDescription=Orders API\n\n[Service]\nUser=deploy\nEnvironment=AWS_CA_BUNDLE=/etc/orders/ca.pem\n"
           "ExecStart=/opt/orders/venv/bin/python -m orders\n\n[Install]\nWantedBy=multi-user.target\n")
    _write(image / "etc" / "environment", "AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt\n")
    _write(image / "etc" / "crontab", "SHELL=/bin/sh\n17 * * * * root /srv/batch/venv/bin/python -m batch\n")
    _write(image / "home" / "deploy" / ".aws" / "config", "[default]\nregion = eu-west-3\nca_bundle = ~/certs/aws.pem\n")
    jdk = image / "usr" / "lib" / "jvm" / "java-21-openjdk-amd64"
    _write(jdk / "bin" / "java", "")
    _write(jdk / "release", 'IMPLEMENTOR="Debian"\nJAVA_RUNTIME_VERSION="21.0.5+11-Debian-1"\nJAVA_VERSION="21.0.5"\n'
                            'JAVA_VERSION_DATE="2024-10-15"\nLIBC="gnu"\nOS_ARCH="x86_64"\nOS_NAME="Linux"\n')
    # The JDK's cacerts since Java 18: a PKCS#12 store without a password (keystores/PROVENANCE.md).
    _write(jdk / "lib" / "security" / "cacerts", (fixtures / "keystores" / "open.p12").read_bytes())
    temurin = image / "opt" / "java" / "openjdk"
    _write(temurin / "bin" / "java", "")
    _write(temurin / "release", 'IMPLEMENTOR="Eclipse Adoptium"\nJAVA_RUNTIME_VERSION="17.0.9+9"\nJAVA_VERSION="17.0.9"\n'
                                'JAVA_VERSION_DATE="2023-10-17"\nLIBC="gnu"\nOS_ARCH="x86_64"\nOS_NAME="Linux"\n')


# -- running and normalizing ---------------------------------------------------------------------------------

@contextlib.contextmanager
def fixed_machine(work: Path) -> Iterator[None]:
    """Run in `work` with the fixed environment and host name; everything is put back afterwards."""
    saved_environ, saved_cwd = dict(os.environ), os.getcwd()
    saved_node, saved_hostname, saved_host_name = platform.node, socket.gethostname, model.host_name
    os.environ.clear()
    os.environ.update(ENVIRONMENT)
    platform.node = lambda: HOST  # type: ignore[assignment]
    model.host_name = lambda: HOST
    socket.gethostname = lambda: HOST  # type: ignore[assignment]
    os.chdir(work)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        platform.node, socket.gethostname = saved_node, saved_hostname  # type: ignore[assignment]
        model.host_name = saved_host_name
        os.environ.clear()
        os.environ.update(saved_environ)


def run_cli(args: tuple[str, ...]) -> tuple[int, str, str]:
    from auditor.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = exit_.code
    return int(code or 0), out.getvalue(), err.getvalue()


def normalize(text: str, work: Path) -> str:
    """The report with its `generated_at` stamps replaced and the work folder's path made `<work>`.

    A few places show a target as an absolute path (an image's --root, a store named to `truststore`, the
    prefix of a site-packages folder), and a component's id is a hash of its location: the ids of those
    components, and of their findings, are made again as they would be at the placeholder path (the recipe
    of auditor.model), and every mention of them follows; such a report is put in the order it would have
    there (Report.sort's keys), since "/tmp/…" sorts before "/usr/…" but "/var/tmp/…" after it. Ids and order
    of reports at relative paths only are kept as the scan wrote them, so a change of either still shows."""
    original = json.loads(text)
    report = _replace_strings(original, lambda value: value.replace(str(work), "<work>"))
    report = _replace_strings(report, _interpreter_text_replaced)
    if report != original and isinstance(report.get("report"), dict):
        renamed = _rehashed_ids(report["report"])
        report = _replace_strings(report, lambda value: renamed.get(value, value))
        if "merged" not in report["report"].get("run", {}):
            _sort(report["report"])
    return json.dumps(_stamps_replaced(report), indent=2, ensure_ascii=False) + "\n"


# The text of a SyntaxError is the running interpreter's, not the fixture's: it is worded anew in most Python
# releases. The line it names is kept.
_SYNTAX_ERROR = re.compile(r"(does not parse as Python 3 \(line \d+): .*?\)(?=; searched| and may change)")


def _interpreter_text_replaced(value: str) -> str:
    return _SYNTAX_ERROR.sub(r"\1: <this Python's SyntaxError message>)", value)


def _replace_strings(value, replace):
    if isinstance(value, dict):
        return {key: _replace_strings(item, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_strings(item, replace) for item in value]
    return replace(value) if isinstance(value, str) else value


def _stamps_replaced(value):
    if isinstance(value, dict):
        return {key: "<generated_at>" if key == "generated_at" else _stamps_replaced(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stamps_replaced(item) for item in value]
    return value


SEVERITIES = ("critical", "high", "medium", "low", "info")


def _sort(report: dict) -> None:
    report["targets"].sort(key=lambda t: (t["location"], t["kind"]))
    report["components"].sort(key=lambda c: (c["location"], c.get("line") or 0, c["name"], c["version"] or "", c["source"]))
    report["findings"].sort(key=lambda f: (SEVERITIES.index(f["severity"]), f["component"], f["rule"]))
    report["errors"].sort(key=lambda e: (e["location"], e["message"]))


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:12]


def _rehashed_ids(report: dict) -> dict[str, str]:
    """Old id -> id at the placeholder path, for the components at `<work>` and their findings."""
    renamed: dict[str, str] = {}
    for component in report.get("components", []):
        if "<work>" in component.get("location", ""):
            where = (component["location"], str(component.get("line") or ""), component["source"])
            where += (component["host"],) if component.get("host") else ()
            renamed[component["id"]] = (f"{component['kind']}:{component['name']}@{component['version'] or '?'}:"
                                        f"{_short_hash(*where)}")
    for finding in report.get("findings", []):
        if finding.get("component") in renamed:
            renamed[finding["id"]] = f"{finding['rule']}:{_short_hash(finding['rule'], renamed[finding['component']])}"
    return renamed


def generate(work: Path, names: list[str] | None = None) -> dict[str, str]:
    """Every golden report (or those named), made in `work` (an empty folder), as the text of its golden file;
    the exit code is kept in the file too, under `exit_code`, as part of the answer."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copytree(FIXTURES, work / "fixtures", symlinks=True)
    build(work)
    (work / "reports").mkdir()
    wanted = set(NAMES if names is None else names)
    results: dict[str, str] = {}
    with fixed_machine(work):
        for name, args in SCANS.items():
            code, out, err = run_cli(args)
            if code not in (0, 1):
                raise RuntimeError(f"golden scan {name} ({' '.join(args)}) exited {code}: {err}")
            (work / "reports" / f"{name}.json").write_text(out)
            if name in wanted:
                results[name] = _golden_text(code, out, work)
        for name, args in REPORT_COMMANDS.items():
            if name in wanted:
                code, out, err = run_cli(args)
                if code not in (0, 1):
                    raise RuntimeError(f"golden command {name} ({' '.join(args)}) exited {code}: {err}")
                results[name] = _golden_text(code, out, work)
    return results


def _golden_text(code: int, out: str, work: Path) -> str:
    return normalize(json.dumps({"exit_code": code, "report": json.loads(out)}), work)


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.json"

