"""What a container image runs, and where: its config's Entrypoint and Cmd linked to the Python environments they
start, run with its Env, as its User, in its WorkingDir; a relative CA path opened from the working directory of the
context that knows it (an image's WorkingDir, a systemd unit's WorkingDirectory=, a cron job's home); `--probe` of an
image with the stores read inside it; `--runtime` never runs anything of an image.

Images are made by umoci from a root folder, their config set with `umoci config` as a Dockerfile's ENTRYPOINT, CMD,
WORKDIR, ENV and USER set it (the shell form stored as ["/bin/sh", "-c", "…"], as docker stores it); a twin copied
to a docker-archive by skopeo. Clients are copies of real installs (tests/fixtures/envs/trust)."""

from __future__ import annotations

import shutil
import json
from pathlib import Path

import pytest

import tls_servers
from auditor.runs.scan import ScanOptions, run as run_scan
from auditor.trust import system_stores as system_trust
from conftest import run, scan_json
from test_images import OS_ROOT, sh, tools
from test_service_env import TRUST, anchor, client, orders_image, setting, store, venv, write
from tls_servers import HOST, Peers

CORP = "certs/ca.pem"  # a CA bundle named by a relative path, as a service's settings often name it

no_proxy_settings, pki = tls_servers.no_proxy_settings, tls_servers.pki


def image(tmp_path: Path, fill, *config: str, archive: bool = False) -> str:
    """An image umoci made: a small Debian-like root filled by `fill(root)`, then `umoci config` with `config`
    (its --config.* options). Its name for --image: the layout's `app`, or with `archive` its docker-archive twin."""
    tools()
    layout = tmp_path / "layout"
    sh("umoci", "init", "--layout", layout)
    sh("umoci", "new", "--image", f"{layout}:app")
    sh("umoci", "unpack", "--rootless", "--image", f"{layout}:app", tmp_path / "bundle")
    root = tmp_path / "bundle" / "rootfs"
    shutil.copytree(OS_ROOT, root, dirs_exist_ok=True, symlinks=True)
    write(root / "etc" / "passwd", "root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n")
    fill(root)
    sh("umoci", "repack", "--image", f"{layout}:app", tmp_path / "bundle")
    if config:
        sh("umoci", "config", "--image", f"{layout}:app", *config)
    if not archive:
        return f"{layout}:app"
    sh("skopeo", "copy", f"oci:{layout}:app", f"docker-archive:{tmp_path / 'app.tar'}:orders:app")
    return str(tmp_path / "app.tar")


def words(option: str, *values: str) -> list[str]:
    """A list field as umoci config takes it: the option once per word."""
    return [part for value in values for part in (option, value)]


def reasons(component: dict) -> list[str]:
    return component["details"]["trust_reasons"]


def ran_by_image(report: dict) -> list[tuple[str, str, str]]:
    """(name, site directory, first reason) of every AWS client the image's own process is said to run."""
    return sorted((c["name"], c["location"].partition("/site-packages/")[0] + "/site-packages", c["details"]["trust_reasons"][0])
                  for c in report["components"] if c["kind"] == "python-package"
                  and c["details"].get("trust_reasons", [""])[0].startswith("runs as the image's "))


def app_venv(root: Path, prefix: str = "/app/.venv") -> Path:
    folder = venv(root, prefix)
    write(folder / "bin" / "gunicorn", f"#!{prefix}/bin/python\nimport sys\nfrom gunicorn.app.wsgiapp import run\n"
                                       "sys.exit(run())\n", mode=0o755)
    return folder


# -- 1. the image's own process ------------------------------------------------------------------------------------

def test_the_entrypoint_runs_its_venv_with_the_images_env_in_its_workdir(tmp_path):
    def fill(root):
        app_venv(root)
        write(root / "app" / CORP, anchor())

    entrypoint = words("--config.entrypoint", "/app/.venv/bin/python", "-m", "app", "--db-password", "hunter2-s3cret")
    report = scan_json("--image", image(tmp_path, fill, *entrypoint, "--config.workingdir", "/app",
                                        "--config.env", f"AWS_CA_BUNDLE={CORP}"))
    botocore = client(report, "botocore", "/app/.venv/")
    assert botocore["details"]["trust_store"] == "/app/certs/ca.pem"
    assert reasons(botocore)[0] == "runs as the image's Entrypoint: /app/.venv/bin/python -m app --db-password ***"
    assert f"'{CORP}' is a relative path, opened relative to the image's WorkingDir /app: /app/certs/ca.pem" in reasons(botocore)
    assert "also_runs_in" not in botocore["details"]  # the image's own context is the scan's own: named once
    assert store(report, "/app/certs/ca.pem")["details"]["anchors"] == ["Amazon Root CA 1"]
    variable = next(c for c in report["components"] if c["name"] == "AWS_CA_BUNDLE")
    assert variable["details"]["trust_store"] == "/app/certs/ca.pem"
    (target,) = [t for t in report["targets"] if t["kind"] == "image"]
    assert target["details"]["working_dir"] == "/app"
    assert target["details"]["runs"] == "Entrypoint: /app/.venv/bin/python -m app --db-password ***"
    assert "hunter2" not in json.dumps(report)


@pytest.mark.parametrize("cmd, shown", [
    (["gunicorn", "orders:app"], "gunicorn orders:app"),  # exec form: a console script found on the Env's PATH
    (["/bin/sh", "-c", "exec gunicorn orders:app"], "/bin/sh -c 'exec gunicorn orders:app'"),  # shell form, as docker stores it
])
def test_a_cmd_found_on_the_envs_path_runs_a_venv_no_application_folder_holds(tmp_path, cmd, shown):
    """/venv is in no place the scan searches by itself: the image's Cmd alone leads to it."""
    for archive in (False, True):
        work = tmp_path / ("archive" if archive else "layout")
        name = image(work, lambda root: app_venv(root, "/venv"), *words("--config.cmd", *cmd),
                     "--config.env", "PATH=/venv/bin:/usr/local/bin:/usr/bin:/bin", archive=archive)
        report = scan_json("--image", name)
        assert ran_by_image(report) == [("botocore", "/venv/lib/python3.11/site-packages", f"runs as the image's Cmd: {shown}")]
        assert [t for t in report["targets"] if t["location"] == "/venv"]
        assert client(report, "botocore", "/venv/")["details"]["trust_store"].endswith("/venv/lib/python3.11/site-packages/certifi/cacert.pem")


def test_a_bare_python3_is_looked_up_on_dockers_path_when_the_env_sets_none(tmp_path):
    def fill(root):
        write(root / "usr" / "local" / "bin" / "python3.11", b"\x7fELF", mode=0o755)
        (root / "usr" / "local" / "bin" / "python3").symlink_to("python3.11")
        shutil.copytree(TRUST / "botocore-1.35.0" / "site-packages", root / "usr/local/lib/python3.11/site-packages")

    cmd = words("--config.cmd", "python3", "-m", "orders")
    report = scan_json("--image", image(tmp_path / "default", fill, *cmd))
    assert ran_by_image(report) == [("botocore", "/usr/local/lib/python3.11/site-packages", "runs as the image's Cmd: python3 -m orders")]
    # an Env PATH without /usr/local/bin: the runtime would not find that python3 there, so nothing is linked
    assert ran_by_image(scan_json("--image", image(tmp_path / "path", fill, *cmd, "--config.env", "PATH=/usr/bin:/bin"))) == []


def test_tini_uv_run_and_an_entrypoint_script_that_execs_its_cmd(tmp_path):
    def fill(root):
        venv(root, "/srv/api/.venv")
        venv(root, "/opt/worker/venv")
        write(root / "usr" / "bin" / "tini", b"\x7fELF", mode=0o755)
        write(root / "docker-entrypoint.sh", '#!/bin/sh\nset -e\nif [ "$1" = worker ]; then shift; fi\nexec "$@"\n', mode=0o755)
        write(root / "quiet-entrypoint.sh", '#!/bin/sh\necho starting\n', mode=0o755)

    report = scan_json("--image", image(tmp_path / "uv", fill, *words("--config.entrypoint", "tini", "--"),
                                        *words("--config.cmd", "uv", "run", "python", "-m", "api"),
                                        "--config.workingdir", "/srv/api"))
    assert ran_by_image(report) == [("botocore", "/srv/api/.venv/lib/python3.11/site-packages",
                                     "runs as the image's Entrypoint and Cmd: tini -- uv run python -m api")]
    command = words("--config.cmd", "/opt/worker/venv/bin/python", "-m", "worker")
    report = scan_json("--image", image(tmp_path / "script", fill, "--config.entrypoint", "/docker-entrypoint.sh", *command))
    assert ran_by_image(report) == [("botocore", "/opt/worker/venv/lib/python3.11/site-packages",
                                     "runs as the image's Cmd: /opt/worker/venv/bin/python -m worker, run by its "
                                     "Entrypoint script /docker-entrypoint.sh (exec \"$@\")")]
    # a script that does not run its arguments: its Cmd is not what runs
    report = scan_json("--image", image(tmp_path / "quiet", fill, "--config.entrypoint", "/quiet-entrypoint.sh", *command))
    assert ran_by_image(report) == []


# -- 2. the working directory --------------------------------------------------------------------------------------

def test_a_relative_ca_bundle_in_the_users_aws_config_is_opened_from_the_workdir(tmp_path):
    """The WorkingDir is also searched as an application folder: /code is no place the scan searches by itself."""
    def fill(root):
        write(root / "home" / "app" / ".aws" / "config", f"[default]\nca_bundle = {CORP}\n")
        write(root / "code" / CORP, anchor("starfield-class-2-ca.pem"))
        write(root / "code" / "requirements.txt", "boto3==1.4.0\n")
        venv(root, "/code/venv")

    report = scan_json("--image", image(tmp_path, fill, "--config.user", "app", "--config.workingdir", "/code",
                                        *words("--config.cmd", "venv/bin/python", "-m", "web")))
    config = setting(report, "/home/app/.aws/config", 2)
    assert config["details"]["trust_store"] == "/code/certs/ca.pem"
    botocore = client(report, "botocore", "/code/venv/")
    assert botocore["details"]["trust_store"] == "/code/certs/ca.pem"
    assert reasons(botocore)[0] == "runs as the image's Cmd: venv/bin/python -m web"  # a relative program: from WorkingDir
    assert f"'{CORP}' is a relative path, opened relative to the image's WorkingDir /code: /code/certs/ca.pem" \
        in reasons(botocore)
    assert store(report, "/code/certs/ca.pem")["details"]["anchors"] == ["Starfield Class 2 Certification Authority"]
    assert [(c["version"], c["location"]) for c in report["components"] if c["name"] == "boto3"] == \
        [("1.4.0", "/code/requirements.txt")]


def test_without_workdir_a_relative_path_is_opened_from_the_root_as_docker_starts_it(tmp_path):
    report = scan_json("--image", image(tmp_path, lambda root: write(root / CORP, anchor()),
                                        "--config.env", f"REQUESTS_CA_BUNDLE={CORP}"))
    variable = next(c for c in report["components"] if c["name"] == "REQUESTS_CA_BUNDLE")
    assert variable["details"]["trust_store"] == "/certs/ca.pem"
    assert store(report, "/certs/ca.pem")["details"]["anchors"] == ["Amazon Root CA 1"]
    # the same setting given to a scan of targets, whose clients' working directory is not known: not checked
    env = write(tmp_path / "svc.env", f"AWS_CA_BUNDLE={CORP}\n")
    botocore = client(scan_json(TRUST / "botocore-1.35.0" / "site-packages", "--env-file", env), "botocore", "botocore-1.35.0")
    assert "trust_store" not in botocore["details"]
    assert any("is a relative path: it depends on the working directory of the client and cannot be checked" in r
               for r in reasons(botocore))


def test_a_workdir_that_is_not_absolute_is_an_error_entry(tmp_path):
    name = image(tmp_path, lambda root: None, "--config.workingdir", "app", "--config.env", f"AWS_CA_BUNDLE={CORP}")
    report = scan_json("--image", name)
    assert ("the image config's WorkingDir 'app' is not an absolute path: docker refuses to create a container with "
            "it, and its working directory is not known") in [e["message"] for e in report["errors"] if e["location"] == name]
    variable = next(c for c in report["components"] if c["name"] == "AWS_CA_BUNDLE")
    assert "trust_store" not in variable["details"]


def test_a_units_working_directory_is_where_its_relative_paths_lead(tmp_path):
    """The same rule for a systemd unit (--root): WorkingDirectory= when it sets one, else /, where systemd starts a
    system service; a cron job starts in its home."""
    root = orders_image(tmp_path)  # WorkingDirectory=/opt/orders, ExecStart= its venv's python
    unit = root / "etc" / "systemd" / "system" / "orders.service"
    unit.write_text(unit.read_text().replace("AWS_CA_BUNDLE=/etc/orders/ca.pem", f"AWS_CA_BUNDLE={CORP}"))
    write(root / "opt" / "orders" / CORP, anchor())
    write(root / "etc" / "cron.d" / "sync", f"AWS_CA_BUNDLE={CORP}\n0 * * * * deploy /opt/orders/venv/bin/python -m sync\n")
    write(root / "home" / "deploy" / CORP, anchor("starfield-class-2-ca.pem"))
    report = scan_json("--root", root)
    botocore = client(report, "botocore", "/opt/orders/venv/")
    assert botocore["details"]["trust_store"] == "/opt/orders/certs/ca.pem"
    assert (f"'{CORP}' is a relative path, opened relative to WorkingDirectory=/opt/orders of orders.service "
            f"(/etc/systemd/system/orders.service:10): /opt/orders/certs/ca.pem") in reasons(botocore)
    assert "cron jobs of deploy in /etc/cron.d/sync: /home/deploy/certs/ca.pem" in botocore["details"]["also_runs_in"]
    assert setting(report, "/etc/cron.d/sync", 1)["details"]["trust_store"] == "/home/deploy/certs/ca.pem"

    unit.write_text(unit.read_text().replace("WorkingDirectory=/opt/orders\n", ""))
    botocore = client(scan_json("--root", root), "botocore", "/opt/orders/venv/")
    assert botocore["details"]["trust_store"] == "/certs/ca.pem"
    assert (f"'{CORP}' is a relative path, opened relative to /, where systemd starts a system service whose unit sets "
            f"no WorkingDirectory=: /certs/ca.pem") in reasons(botocore)


# -- 3. --probe and --runtime with an image ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(pki):
    with Peers() as peers:
        yield f"127.0.0.1:{peers.add_tls(pki.server_context(pki.leaf(names=(HOST,))))}"


def test_probe_of_an_image_uses_the_stores_read_inside_it_never_this_machines(tmp_path, pki, server, monkeypatch):
    # where this machine's OS stores are looked for: Debian's bundle, and a stand-in only this machine has, which
    # holds the test PKI's root (a comparison probe of this machine would pass with it)
    monkeypatch.setattr(system_trust, "OS_STORES", (system_trust.OS_STORES[0], (str(pki.store("amazon")), "OS bundle (test stand-in)")))

    def fill(root):
        app_venv(root)
        write(root / "app" / CORP, pki.store("amazon").read_bytes())  # the test PKI's root: the server chains to it
        write(root / "etc" / "ssl" / "certs" / "ca-certificates.crt", anchor())  # the real root: not the test server's

    name = image(tmp_path, fill, *words("--config.cmd", "/app/.venv/bin/python", "-m", "app"),
                 "--config.workingdir", "/app", "--config.env", f"AWS_CA_BUNDLE={CORP}")
    result = run("scan", "-q", "--format", "json", "--image", name, "--probe", "--connect-to", server,
                 "--timeout", 0.5, "--probe-endpoint", HOST)
    assert result.code in (0, 1), result.err
    found = {c["location"]: c["details"] for c in result.json["components"] if c["kind"] == "probe"}
    assert found["/app/certs/ca.pem"]["outcome"] == "pass"
    assert any(user.startswith("botocore 1.35.0 in /app/.venv") for user in found["/app/certs/ca.pem"]["users"])
    assert (found["/etc/ssl/certs/ca-certificates.crt"]["outcome"], found["/etc/ssl/certs/ca-certificates.crt"]["failure"]) \
        == ("fail", "untrusted-root")
    assert sorted(found) == ["/app/certs/ca.pem", "/etc/ssl/certs/ca-certificates.crt"]  # nothing of this machine
    assert not any("this machine" in user for details in found.values() for user in details["users"])


def test_runtime_with_an_image_is_a_usage_error(tmp_path):
    name = image(tmp_path, lambda root: None)
    for args in (("--image", name), ("--root", tmp_path / "bundle" / "rootfs"), ("--root", tmp_path / "bundle" / "rootfs", "/srv")):
        result = run("scan", "-q", "--runtime", *args)
        assert result.code == 2, args
        assert "nothing in an image is ever run: leave out --runtime" in result.err, result.err


def test_an_interpreter_inside_a_root_is_never_run_even_for_a_target_in_it(tmp_path):
    """The scan itself, asked to run interpreters (as a caller of the API may), runs none inside an image."""
    markers = tmp_path / "markers"
    markers.mkdir()
    root = tmp_path / "root"
    folder = venv(root, "/srv/app/venv")
    for name in ("python", "python3", "python3.11"):
        (folder / "bin" / name).unlink(missing_ok=True)
        write(folder / "bin" / name, f"#!/bin/sh\ntouch {markers / name}\n", mode=0o755)
    for paths in (["/srv/app"], ["/srv/app/venv"], []):
        report = run_scan(ScanOptions(paths, [], root=str(root), runtime=True))
        assert [c for c in report.components if c.name == "botocore"], paths
        assert sorted(p.name for p in markers.iterdir()) == [], f"an interpreter of the image ran ({paths})"


def test_a_relative_aws_config_file_is_read_from_the_working_directory_or_said_unread(tmp_path):
    root = orders_image(tmp_path)  # WorkingDirectory=/opt/orders
    unit = root / "etc" / "systemd" / "system" / "orders.service"
    unit.write_text(unit.read_text().replace("AWS_CA_BUNDLE=/etc/orders/ca.pem", "AWS_CONFIG_FILE=conf/aws.ini"))
    write(root / "opt" / "orders" / "conf" / "aws.ini", "[default]\nca_bundle = /etc/orders/ca.pem\n")
    report = scan_json("--root", root)
    assert client(report, "botocore", "/opt/orders/venv/")["details"]["trust_store"] == "/etc/orders/ca.pem"
    assert setting(report, "/opt/orders/conf/aws.ini", 2)["details"]["trust_store"] == "/etc/orders/ca.pem"
    # the scan's own context (--env-file with --root) does not know where its clients start: not read, and said so
    env = write(tmp_path / "svc.env", "AWS_CONFIG_FILE=conf/aws.ini\n")
    report = scan_json("--root", root, "--env-file", env)
    assert [e["message"] for e in report["errors"] if e["location"] == f"environment (--env-file {env})"] == [
        "AWS_CONFIG_FILE=conf/aws.ini is a relative path and the working directory of the clients is not known: "
        "the file was not read"]


def test_an_entrypoint_script_that_cannot_be_read_is_an_error_entry_not_a_silent_skip(tmp_path):
    """Whether an Entrypoint script runs its Cmd is read from the script; when the read fails (here: the layer's
    bytes behind it are gone, as a layer cut short after it was listed would leave them), the scan says so."""
    from auditor.collect.platform.image_process import image_process
    from auditor.fs import FsError, View

    root = tmp_path / "root"
    write(root / "docker-entrypoint.sh", '#!/bin/sh\nexec "$@"\n', mode=0o755)

    class CutLayerView(View):
        def read_bytes(self, host_path, cap=8 * 1024 * 1024, head=False):
            raise FsError("layer 2 ends inside the member")

    config = {"Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["python3", "-m", "app"]}
    readable = image_process(View(str(root), image=True, display_top="/"), config, {}, "image app")
    cut = image_process(CutLayerView(str(root), image=True, display_top="/"), config, {}, "image app")
    assert not readable.errors and len(readable.programs) > len(cut.programs)  # the Cmd linked only when read
    assert [e.message for e in cut.errors] == [
        "the image's Entrypoint script cannot be read (layer 2 ends inside the member): whether it runs the Cmd is "
        "not known, and the Cmd's programs are not linked"]
    assert cut.errors[0].location == "/docker-entrypoint.sh"
