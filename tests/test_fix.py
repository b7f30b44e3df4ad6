"""auditor fix: on copies of the real lockfile and declared-dependency fixtures (tests/fixtures, written by the
real tools), a bundle and a keystore made with the real tools; each fix is followed by a second scan, and every
file that needed no fix is compared byte for byte. Hashes come from a local HTTP server that answers as PyPI's
JSON API does, for wheel files made here, and pip itself checks them."""

import hashlib
import http.server
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import threading
import zipfile
from pathlib import Path

import pytest
from cryptography import x509

from auditor.fix.changes import REFUSED
from auditor.fix.run import FixOptions, run_fix
from auditor.fix.write import apply_edit
from auditor.fix.targets import fix_targets, locate
from auditor.checks.rules import select_packs
from conftest import ENVS, FIXTURES, LOCKS, run, scan_json
from test_truststore import pem, self_signed

PIP_TOOLS = LOCKS / "legacy" / "pip-tools"
BOTOCORE_SITE = ENVS / "trust" / "botocore-1.35.0" / "site-packages"
BEFORE_CUTOFF = ("ats-python-sdk-before-cutoff", "ses-python-sdk-before-cutoff")


def tree_state(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and link below root: its bytes (a link: its text) and its mtime, links not followed."""
    state = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            state[str(path.relative_to(root))] = (os.readlink(path).encode(), info.st_mtime_ns)
        elif path.is_file():
            state[str(path.relative_to(root))] = (path.read_bytes(), info.st_mtime_ns)
    return state


def fix(*args):
    return run("fix", *args)


def fix_json(*args):
    result = run("fix", "--format", "json", *args)
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def before_cutoff(report, location_part=""):
    ids = {c["id"]: c for c in report["components"]}
    return sorted((ids[f["component"]]["location"], ids[f["component"]]["line"]) for f in report["findings"]
                  if f["rule"] in BEFORE_CUTOFF and location_part in ids[f["component"]]["location"])


def changed_lines(old: bytes, new: bytes) -> list[tuple[bytes, bytes]]:
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    return [(a, b) for a, b in zip(old_lines, new_lines) if a != b]


# -- requirements files -------------------------------------------------------------------------------------------

def test_the_dry_run_prints_the_diff_and_writes_nothing(tmp_path):
    project = shutil.copytree(PIP_TOOLS, tmp_path / "pip-tools")
    before = tree_state(tmp_path)
    result = fix(project)
    assert result.code == 1, result.err
    assert tree_state(tmp_path) == before
    assert f"--- {project}/requirements-nohashes.txt\n+++ {project}/requirements-nohashes.txt\n" in result.out
    assert "\n-awscli==1.2.1\n+awscli==1.2.2\n" in result.out and "\n-botocore==0.21.0\n+botocore==0.22.0\n" in result.out
    assert "(dry run: nothing was written)" in result.out


def test_apply_raises_the_pins_and_the_second_scan_finds_them_gone(tmp_path):
    project = shutil.copytree(PIP_TOOLS, tmp_path / "pip-tools")
    originals = {p.name: p.read_bytes() for p in project.iterdir()}
    assert before_cutoff(scan_json(project), "requirements-nohashes.txt")
    (project / "requirements-nohashes.txt").chmod(0o600)
    result = fix(project, "--apply")
    assert result.code == 1, result.err  # the hashed file is left: no --online
    report = scan_json(project)
    assert before_cutoff(report, "requirements-nohashes.txt") == [] and before_cutoff(report, "requirements.in") == []
    nohashes = project / "requirements-nohashes.txt"
    assert changed_lines(originals["requirements-nohashes.txt"], nohashes.read_bytes()) == [
        (b"awscli==1.2.1\n", b"awscli==1.2.2\n"), (b"botocore==0.21.0\n", b"botocore==0.22.0\n")]
    assert (project / "requirements-nohashes.txt.auditor-bak").read_bytes() == originals["requirements-nohashes.txt"]
    assert [(project / name).stat().st_mode & 0o777 for name in ("requirements-nohashes.txt",
                                                                "requirements-nohashes.txt.auditor-bak")] == [0o600, 0o600]
    # Without --online a hashed pin is not touched: its old hashes would not match the new release.
    assert (project / "requirements.txt").read_bytes() == originals["requirements.txt"]
    assert not (project / "requirements.txt.auditor-bak").exists()
    assert "awscli==1.2.1: the pin carries --hash options, and the new release's hashes need the index: give --online" \
        in result.out
    assert before_cutoff(report, "requirements.txt") == [(f"{project}/requirements.txt", 7),
                                                          (f"{project}/requirements.txt", 17)]


def test_only_the_version_text_changes_line_endings_and_comments_kept(tmp_path):
    requirements = tmp_path / "requirements.txt"
    original = (b"# deploy tooling\r\n-c constraints.txt\r\nboto == 2.9.0  # legacy S3 code\r\n"
                b"boto3==1.35.0 ; python_version >= '3.9'\r\nbotocore==0.21.0; python_version < \"3\"  # old\r\n")
    requirements.write_bytes(original)
    (tmp_path / "constraints.txt").write_bytes(b"awscli<1.2.2\n# keep the CLI old\n")
    result = fix(tmp_path, "--apply", "--to", "first-safe")
    assert result.code == 0, result.out + result.err
    assert changed_lines(original, requirements.read_bytes()) == [
        (b"boto == 2.9.0  # legacy S3 code\r\n", b"boto == 2.16.0  # legacy S3 code\r\n"),
        (b"botocore==0.21.0; python_version < \"3\"  # old\r\n", b"botocore==0.22.0; python_version < \"3\"  # old\r\n")]
    assert (tmp_path / "constraints.txt").read_bytes() == b"awscli>=1.2.2\n# keep the CLI old\n"
    assert "'awscli<1.2.2' admits only releases made before 2013-10-29: '<1.2.2' replaced with '>=1.2.2'" in result.out
    assert before_cutoff(scan_json(tmp_path)) == []


def test_to_latest_and_to_a_version_from_the_release_table(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto==2.9.0\n")
    code, changes = fix_json(tmp_path, "--to", "latest")
    assert code == 1 and changes[0]["after"] == "boto==2.49.0" and changes[0]["status"] == "pending"
    code, changes = fix_json(tmp_path, "--to", "2.13.3")
    assert changes[0]["status"] == "refused" and "boto 2.13.3 was uploaded on 2013-09-16, before the 2013-10-29 cutoff" \
        in changes[0]["reason"]
    assert requirements.read_text() == "boto==2.9.0\n"
    assert fix(tmp_path, "--to", "two").code == 2


def test_nothing_to_fix_exits_0_and_usage_errors_exit_2(tmp_path):
    project = shutil.copytree(LOCKS / "modern" / "pip-tools", tmp_path / "modern")
    before = tree_state(tmp_path)
    result = fix(project, "--apply")
    assert (result.code, result.out) == (0, "result: nothing to fix\n")
    assert tree_state(tmp_path) == before
    assert fix(project, "--index-url", "http://127.0.0.1:9/pypi").code == 2
    assert fix(project, "--backup-suffix", "../x").code == 2
    assert fix().code == 2


# -- hashes from the index ------------------------------------------------------------------------------------------

def wheel(folder: Path, name: str, version: str, tag: str) -> Path:
    """A minimal valid wheel (METADATA, WHEEL, RECORD), as pip accepts it."""
    path = folder / f"{name}-{version}-{tag}-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}-none-any\n"}
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        archive.writestr(f"{info}/RECORD", "".join(f"{m},,\n" for m in files) + f"{info}/RECORD,,\n")
    return path


class Index(http.server.BaseHTTPRequestHandler):
    """PyPI's JSON API (/pypi/NAME/json, /pypi/NAME/VERSION/json: info, urls[].digests.sha256), its simple index
    (/simple/NAME/, PEP 503 links with #sha256=) and the files, for the releases made here."""

    answers: dict = {}  # path -> (content type, bytes)

    def do_HEAD(self, with_body=False):
        content_type, body = self.answers.get(self.path, ("text/plain", None))
        self.send_response(200 if body is not None else 404)
        body = body if body is not None else b"not found"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):
        self.do_HEAD(with_body=True)

    def log_message(self, *args):
        pass


@pytest.fixture
def index(tmp_path, monkeypatch):
    """(the JSON API's address, the folder of the files served); the simple index is at ../simple/."""
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    files = tmp_path / "files"
    files.mkdir()
    releases = {("awscli", "1.2.2"): "2013-10-29T00:57:49Z", ("botocore", "0.22.0"): "2013-10-29T00:57:40Z",
                ("boto", "2.16.0"): "2013-11-08T19:43:54Z", ("boto", "2.49.0"): "2018-07-11T20:58:55Z"}
    answers, links = {}, {}
    for (name, version), uploaded in releases.items():
        made = [wheel(files, name, version, tag) for tag in ("py3", "py2")]
        urls = [{"filename": p.name, "packagetype": "bdist_wheel", "upload_time_iso_8601": uploaded,
                 "url": f"/files/{p.name}", "digests": {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "md5": "-"}}
                for p in made]
        info = {"name": name, "version": version}
        answers[f"/pypi/{name}/{version}/json"] = ("application/json", json.dumps({"info": info, "urls": urls}).encode())
        answers[f"/pypi/{name}/json"] = ("application/json", json.dumps({"info": info, "urls": urls}).encode())
        for p, url in zip(made, urls):
            answers[url["url"]] = ("application/octet-stream", p.read_bytes())
            links.setdefault(name, []).append(f'<a href="{url["url"]}#sha256={url["digests"]["sha256"]}">{p.name}</a>')
    for name, anchors in links.items():
        answers[f"/simple/{name}/"] = ("text/html", f"<html><body>{''.join(anchors)}</body></html>".encode())
    Index.answers = answers
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pypi", files
    server.shutdown()
    server.server_close()


def test_a_hashed_pin_gets_every_file_hash_of_the_new_release_and_pip_accepts_them(tmp_path, index):
    url, files = index
    project = shutil.copytree(PIP_TOOLS, tmp_path / "pip-tools")
    original = (project / "requirements.txt").read_bytes()
    result = fix(project / "requirements.txt", "--apply", "--online", "--index-url", url)
    assert result.code == 0, result.out + result.err
    fixed = (project / "requirements.txt").read_bytes()
    hashes = {name: sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in files.glob(f"{name}-*.whl"))
              for name in ("awscli", "botocore")}
    assert (b"awscli==1.2.2 \\\n    --hash=sha256:" + b" \\\n    --hash=sha256:".join(h.encode() for h in hashes["awscli"])
            + b"\n    # via -r requirements.in\n") in fixed
    old_lines = original.splitlines(keepends=True)
    untouched = [line for line in old_lines if b"awscli" not in line and b"botocore" not in line
                 and b"39cd39cf" not in line and b"955cf87f" not in line]
    assert all(line in fixed.splitlines(keepends=True) for line in untouched)
    assert len(fixed.splitlines()) == len(original.splitlines()) + 2  # one more hash line each
    assert before_cutoff(scan_json(project / "requirements.txt")) == []
    # pip checks the new hashes against the files it is given.
    blocks = [b for b in fixed.decode().split("\n") if b]
    picked = []
    for name in ("awscli", "botocore"):
        start = next(i for i, line in enumerate(blocks) if line.startswith(f"{name}=="))
        picked += [line for line in blocks[start:start + 3] if not line.lstrip().startswith("#")]
    (tmp_path / "picked.txt").write_text("\n".join(picked) + "\n")
    pip = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-index", "--require-hashes",
                          "--find-links", str(files), "-d", str(tmp_path / "got"), "-r", str(tmp_path / "picked.txt")],
                         capture_output=True, text=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
    assert pip.returncode == 0, pip.stderr


def test_an_index_that_cannot_answer_leaves_the_hashed_pin_as_it_is(tmp_path, index, monkeypatch):
    url, _ = index
    project = shutil.copytree(LOCKS / "legacy" / "uv", tmp_path / "uv")
    original = (project / "requirements.txt").read_bytes()
    monkeypatch.setenv("AUDITOR_INDEX_URL", url + "/missing")
    code, changes = fix_json(project / "requirements.txt", "--apply", "--online")
    assert code == 1 and [c["status"] for c in changes] == ["refused", "refused"]
    assert "could not be had" in changes[0]["reason"] and "HTTP 404" in changes[0]["reason"]
    assert (project / "requirements.txt").read_bytes() == original


def test_hashes_written_on_the_pin_line_stay_there_and_the_newest_release_comes_from_the_index(tmp_path, index,
                                                                                                   monkeypatch):
    url, files = index
    monkeypatch.setenv("AUDITOR_INDEX_URL", url)
    requirements = tmp_path / "requirements.txt"
    old = ("a" * 64, "b" * 64)
    original = (f"boto==2.9.0 --hash=sha256:{old[0]} --hash=sha256:{old[1]}  # S3 export\r\n"
                "botocore==0.21.0\r\n").encode()
    requirements.write_bytes(original)
    result = fix(tmp_path, "--apply", "--online", "--to", "latest")
    assert result.code == 0, result.out + result.err
    boto = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in files.glob("boto-2.49.0-*.whl"))
    assert changed_lines(original, requirements.read_bytes()) == [
        (original.splitlines(keepends=True)[0],
         f"boto==2.49.0 --hash=sha256:{boto[0]} --hash=sha256:{boto[1]}  # S3 export\r\n".encode()),
        (b"botocore==0.21.0\r\n", b"botocore==0.22.0\r\n")]
    assert f"the newest botocore release on {url}" in result.out


# -- declared dependencies ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fixture, locker", [("pep621", None), ("poetry", "poetry lock"), ("pipenv", "pipenv lock")])
def test_declared_requirements_are_edited_in_place_and_the_locker_command_printed(tmp_path, fixture, locker):
    project = shutil.copytree(FIXTURES / "declared" / fixture, tmp_path / fixture)
    declared = next(p for p in project.iterdir() if p.name in ("pyproject.toml", "Pipfile"))
    original = declared.read_bytes()
    assert before_cutoff(scan_json(project))
    code, changes = fix_json(project, "--apply")
    assert before_cutoff(scan_json(project)) == []
    applied = [c for c in changes if c["status"] == "applied"]
    edited = changed_lines(original, declared.read_bytes())
    assert [(c["before"], c["after"]) for c in applied] == [(a.decode().rstrip("\n"), b.decode().rstrip("\n"))
                                                            for a, b in edited]
    commands = [c["command"] for c in changes if c["status"] == "command"]
    assert commands == ([f"cd {project} && {locker}"] if locker else [])
    assert code == (1 if locker else 0)


def test_installs_setup_py_and_conda_packages_are_pointed_at_never_edited(tmp_path):
    for part in ("envs/py3-old-botocore", "declared/awscli-1.2.1", "declared/conda"):
        shutil.copytree(FIXTURES / part, tmp_path / part.split("/")[1], symlinks=True)
    before = tree_state(tmp_path)
    code, changes = fix_json(tmp_path, "--apply")
    assert code == 1 and tree_state(tmp_path) != before  # the conda file's pip section is a requirement: edited
    by_file = {(Path(c["file"]).relative_to(tmp_path).as_posix(), c["line"]): c for c in changes}
    assert by_file[("conda/environment.yml", 16)]["after"] == "      - awscli==1.2.2"
    assert by_file[("conda/environment.yml", 7)]["status"] == "manual"
    assert by_file[("awscli-1.2.1/setup.py", 9)]["status"] == "manual"
    installed = by_file[("py3-old-botocore/lib/python3.11/site-packages/botocore-0.21.0.dist-info/METADATA", None)]
    assert installed["status"] == "refused" and "is installed (dist-info METADATA), not a requirement" in installed["reason"]
    after = tree_state(tmp_path)
    assert {k for k in after if after[k] != before.get(k)} == {"conda/environment.yml", "conda/environment.yml.auditor-bak"}


@pytest.mark.skipif(shutil.which("uv", path=sysconfig.get_path("scripts")) is None, reason="uv is not installed")
def test_the_printed_uv_lock_command_makes_the_lock_follow(tmp_path, index):
    url, _ = index
    project = shutil.copytree(LOCKS / "legacy" / "uv", tmp_path / "uv")
    for other in ("requirements.txt", "pylock.toml"):  # other tools' outputs, not uv's lock
        (project / other).unlink()
    assert before_cutoff(scan_json(project), "uv.lock")
    code, changes = fix_json(project, "--apply")
    (command,) = [c["command"] for c in changes if c["status"] == "command"]
    assert command == f"cd {project} && uv lock"
    simple = url.removesuffix("/pypi") + "/simple"
    env = {**os.environ, "UV_DEFAULT_INDEX": simple, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1",
           "PATH": sysconfig.get_path("scripts") + os.pathsep + os.environ.get("PATH", "")}
    locked = subprocess.run(command, shell=True, capture_output=True, text=True, env=env)
    assert locked.returncode == 0, locked.stderr
    assert before_cutoff(scan_json(project)) == []
    assert 'name = "awscli"\nversion = "1.2.2"' in (project / "uv.lock").read_text()


def test_a_locked_project_gets_its_declared_pin_raised_and_its_lock_left_to_the_locker(tmp_path):
    project = shutil.copytree(LOCKS / "legacy" / "poetry", tmp_path / "poetry")
    lock = (project / "poetry.lock").read_bytes()
    code, changes = fix_json(project, "--apply")
    assert (project / "poetry.lock").read_bytes() == lock
    (command,) = [c for c in changes if c["status"] == "command"]
    assert command["command"] == f"cd {project} && poetry lock"
    assert "poetry.lock pins awscli 1.2.1" in command["reason"] and "pyproject.toml changed" in command["reason"]
    assert before_cutoff(scan_json(project), "pyproject.toml") == []


# -- trust stores ---------------------------------------------------------------------------------------------------

def corporate_root() -> bytes:
    return pem(self_signed(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Corp Proxy Root")])))


def store_findings(report, location):
    ids = {c["id"]: c for c in report["components"]}
    return [f["rule"] for f in report["findings"] if ids[f["component"]]["location"] == str(location)
            and ids[f["component"]]["kind"] == "trust-store"]


def test_a_bundle_named_by_aws_ca_bundle_gets_the_shipped_anchors(tmp_path):
    project = tmp_path / "service"
    shutil.copytree(BOTOCORE_SITE, project / "site-packages")
    bundle = project / "corp-ca.pem"
    original = corporate_root().replace(b"\n", b"\r\n")  # a bundle kept on Windows
    bundle.write_bytes(original)
    env = tmp_path / "service.env"
    env.write_text(f"AWS_CA_BUNDLE={bundle}\n")
    assert store_findings(scan_json(project, "--env-file", env), bundle) == ["ats-store-without-anchor"]
    others = {k: v for k, v in tree_state(project).items() if k != "corp-ca.pem"}
    result = fix(project, "--env-file", env, "--apply")
    assert result.code == 0, result.out + result.err
    fixed = bundle.read_bytes()
    assert fixed.startswith(original) and b"\n" not in fixed.replace(b"\r\n", b"")
    assert fixed.count(b"added by auditor fix") == 3
    assert b"# Amazon Root CA 1 (ATS trust anchor, SHA-256 8ecde688" in fixed
    assert store_findings(scan_json(project, "--env-file", env), bundle) == ["ats-store-trusted"]
    assert {k: v for k, v in tree_state(project).items() if k not in ("corp-ca.pem", "corp-ca.pem.auditor-bak")} == others


def test_a_symlink_out_of_the_target_is_never_written_through(tmp_path):
    project, outside = tmp_path / "service", tmp_path / "elsewhere"
    shutil.copytree(BOTOCORE_SITE, project / "site-packages")
    outside.mkdir()
    (outside / "corp-ca.pem").write_bytes(corporate_root())
    (outside / "requirements.txt").write_text("boto==2.9.0\n")
    (project / "corp-ca.pem").symlink_to(outside / "corp-ca.pem")
    (project / "requirements.txt").symlink_to("../elsewhere/requirements.txt")
    env = tmp_path / "service.env"
    env.write_text(f"AWS_CA_BUNDLE={project / 'corp-ca.pem'}\n")
    before = tree_state(tmp_path)
    code, changes = fix_json(project, "--env-file", env, "--apply")
    assert code == 1 and tree_state(tmp_path) == before
    (refused,) = changes
    assert refused["status"] == "refused" and "leaves the scanned target; not followed: not edited" in refused["reason"]


def test_a_bundle_outside_the_target_is_only_reported(tmp_path):
    project = tmp_path / "service"
    shutil.copytree(BOTOCORE_SITE, project / "site-packages")
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_bytes(corporate_root())
    env = tmp_path / "service.env"
    env.write_text(f"AWS_CA_BUNDLE={bundle}\n")
    before = tree_state(tmp_path)
    code, changes = fix_json(project, "--env-file", env, "--apply")
    assert code == 1 and tree_state(tmp_path) == before
    assert [(c["file"], c["status"]) for c in changes] == [(str(bundle), "refused")]
    assert "outside the targets: only reported, never edited" in changes[0]["reason"]


@pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (a JDK) is not installed")
def test_a_keystore_gets_a_keytool_command_that_makes_the_second_scan_pass(tmp_path):
    project = tmp_path / "service"
    project.mkdir()
    (tmp_path / "corp.pem").write_bytes(corporate_root())
    store, password = project / "truststore.jks", "Kst0re-pass-9"
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "corp", "-file", str(tmp_path / "corp.pem"),
                    "-keystore", str(store), "-storetype", "JKS", "-storepass", password], check=True, capture_output=True)
    env = tmp_path / "jvm.env"
    env.write_text(f"JAVA_TOOL_OPTIONS=-Djavax.net.ssl.trustStore={store} -Djavax.net.ssl.trustStorePassword={password}\n")
    assert store_findings(scan_json(project, "--env-file", env), store) == ["ats-store-without-anchor"]
    before = tree_state(project)
    result = fix(project, "--env-file", env, "--apply")
    assert result.code == 1 and password not in result.out + result.err
    assert tree_state(project) == before  # auditor never writes a keystore
    assert "its password is the value of -Djavax.net.ssl.trustStorePassword in JAVA_TOOL_OPTIONS (from --env-file" \
        in result.out
    (line,) = [line.strip() for line in result.out.splitlines() if line.strip().startswith("keytool ")]
    command = shlex.split(line)
    assert command[-2:] == ["-storepass:env", "AUDITOR_STOREPASS"]
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "AUDITOR_STOREPASS": password})
    assert store_findings(scan_json(project, "--env-file", env), store) == ["ats-store-trusted"]


def test_settings_that_turn_validation_off_are_pointed_at_and_never_rewritten(tmp_path):
    project = shutil.copytree(FIXTURES / "trust-config" / "shop-api", tmp_path / "shop-api", symlinks=True)
    before = tree_state(tmp_path)
    code, changes = fix_json(project, "--apply")
    assert code == 1 and tree_state(tmp_path) == before
    manual = {(Path(c["file"]).relative_to(project).as_posix(), c["line"]) for c in changes if c["status"] == "manual"}
    assert {("app/storage.py", 11), ("app/sessions.py", 17), ("scripts/deploy.sh", 7)} <= manual
    storage = next(c for c in changes if c["file"].endswith("app/storage.py") and c["line"] == 11)
    assert storage["before"] == 'boto3.client("s3", verify=False)' and storage["after"] is None


# -- the write itself -----------------------------------------------------------------------------------------------

def test_a_file_changed_since_it_was_read_or_with_a_backup_already_is_not_written(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto==2.9.0\n")
    options = FixOptions((str(tmp_path),), select_packs([]), None, "first-safe", None, False, ".auditor-bak")
    (edit,) = run_fix(options).plan.edits.values()
    requirements.write_text("boto==2.9.0\nrequests\n")
    view, _ = locate(fix_targets([str(tmp_path)]), edit.shown)
    apply_edit(view, edit, ".auditor-bak")
    assert [c.status for c in edit.changes] == [REFUSED] and "changed since it was read" in edit.changes[0].reason
    assert requirements.read_text() == "boto==2.9.0\nrequests\n" and not (tmp_path / "requirements.txt.auditor-bak").exists()
    (tmp_path / "requirements.txt.orig").write_text("kept\n")
    result = fix(tmp_path, "--apply", "--backup-suffix", ".orig")
    assert result.code == 1 and "requirements.txt.orig already exists" in result.out
    assert requirements.read_text() == "boto==2.9.0\nrequests\n"
