"""Whose home, and the environments a system gives its services: an OS image (--root) whose users' config files,
systemd units, /etc/environment, /etc/profile.d scripts and crontabs set where AWS clients find their CAs.

The images are built here as the real tools write them: /etc/passwd lines, `aws configure` INI files, unit files
and drop-ins as systemd(1) reads them, Debian's /etc/pam.d/cron, crontabs in cron's format. Clients are copies
of real installs (tests/fixtures/envs/trust, see PROVENANCE.md); the bundles are the shipped anchors.
"""

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import example, given, strategies as st

from auditor.collect.platform.crontabs import parse_crontab
from auditor.collect.platform.login_env import pam_environment, profile_exports
from auditor.collect.platform.unit_files import environment_assignments, environment_file, unit_directives
from conftest import ENVS, packages, scan_json
from fuzz_targets import MODULES
from fuzzing import fuzz
from test_hostile_trees import open_tmp, scan_as_nobody  # noqa: F401 (open_tmp is a fixture)

ANCHORS = Path(__file__).parents[1] / "rules" / "anchors"
TRUST = ENVS / "trust"
PASSWD = ("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          "deploy:x:1000:1000:Deploy,,,:/home/deploy:/bin/bash\nsync:x:1001:1001::/srv/sync:/usr/sbin/nologin\n")
# Debian's /etc/pam.d/cron, as the cron package (3.0pl1-162) ships it.
DEBIAN_PAM_CRON = """# The PAM configuration file for the cron daemon

@include common-auth

# Sets the loginuid process attribute
session    required     pam_loginuid.so

# Read environment variables from pam_env's default files, /etc/environment
# and /etc/security/pam_env.conf.
session       required   pam_env.so

# In addition, read system locale information
session       required   pam_env.so envfile=/etc/default/locale

@include common-account
@include common-session-noninteractive 

# Sets up user limits, please define limits for cron tasks
# through /etc/security/limits.conf
session    required   pam_limits.so

"""
ORDERS_UNIT = """[Unit]
Description=Orders worker
After=network-online.target

[Service]
Type=simple
User=deploy
Environment="AWS_CA_BUNDLE=/etc/orders/ca.pem" AWS_DEFAULT_REGION=eu-west-3
EnvironmentFile=-/etc/default/orders
WorkingDirectory=/opt/orders
ExecStart=/opt/orders/venv/bin/python -m orders.worker --queue orders
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


def write(path: Path, text, mode=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    if mode is not None:
        os.chmod(path, mode)
    return path


def anchor(name="amazon-root-ca-1.pem") -> bytes:
    return (ANCHORS / name).read_bytes()


def venv(root: Path, prefix: str, site=TRUST / "botocore-1.35.0" / "site-packages") -> Path:
    """A virtualenv as `python3 -m venv` lays it out, with a real botocore install copied into it."""
    folder = root / prefix.lstrip("/")
    write(folder / "pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n"
                                 f"executable = /usr/bin/python3.11\ncommand = /usr/bin/python3 -m venv {prefix}\n")
    (folder / "bin").mkdir()
    (folder / "bin" / "python").symlink_to("/usr/bin/python3")
    (folder / "bin" / "python3").symlink_to("python")
    shutil.copytree(site, folder / "lib" / "python3.11" / "site-packages")
    return folder


def image(tmp_path: Path) -> Path:
    root = tmp_path / "image"
    write(root / "etc" / "passwd", PASSWD)
    write(root / "etc" / "os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                                       'VERSION_ID="12"\nID=debian\n')
    return root


def orders_image(tmp_path: Path) -> Path:
    root = image(tmp_path)
    write(root / "etc" / "systemd" / "system" / "orders.service", ORDERS_UNIT)
    (root / "etc" / "systemd" / "system" / "multi-user.target.wants").mkdir()
    (root / "etc" / "systemd" / "system" / "multi-user.target.wants" / "orders.service").symlink_to(
        "/etc/systemd/system/orders.service")
    write(root / "etc" / "orders" / "ca.pem", anchor("starfield-class-2-ca.pem"))
    venv(root, "/opt/orders/venv")
    return root


def components(report, kind="trust-config"):
    return [c for c in report["components"] if c["kind"] == kind]


def setting(report, location, line=None):
    found = [c for c in components(report) if c["location"] == location and (line is None or c.get("line") == line)]
    assert len(found) == 1, (location, line, [(c["location"], c.get("line")) for c in components(report)])
    return found[0]


def store(report, location):
    (found,) = [c for c in components(report, "trust-store") if c["location"] == location]
    return found


def findings_of(report, component):
    return sorted((f["rule"], f["severity"]) for f in report["findings"] if f["component"] == component["id"])


def client(report, name, where):
    (found,) = [c for c in packages(report) if c["name"] == name and where in c["location"]]
    return found


def errors_at(report):
    found = {}
    for error in report["errors"]:
        found.setdefault(error["location"], []).append(error["message"])
    return found


# -- 1. whose home ---------------------------------------------------------------------------------------------

def test_a_users_ca_bundle_with_tilde_is_found_in_that_users_home(tmp_path, monkeypatch):
    root = image(tmp_path)
    write(root / "home" / "deploy" / ".aws" / "config", "[default]\nregion = eu-west-3\nca_bundle = ~/certs/amazon-only.pem\n\n"
                                                       "[profile legacy]\nca_bundle = ~deploy/certs/legacy.pem\n")
    write(root / "home" / "deploy" / ".aws" / "credentials",
          "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    write(root / "home" / "deploy" / "certs" / "amazon-only.pem", anchor())
    scanning_home = tmp_path / "scanner"
    write(scanning_home / "certs" / "amazon-only.pem", anchor("starfield-class-2-ca.pem"))  # must never be read
    monkeypatch.setenv("HOME", str(scanning_home))

    report = scan_json("--root", root)
    config = setting(report, "/home/deploy/.aws/config", 3)
    assert (config["name"], config["details"]["found_in"], config["source"]) == ("ca_bundle [default]", "config file",
                                                                                "configuration file")
    assert config["details"]["trust_store"] == "/home/deploy/certs/amazon-only.pem"
    bundle = store(report, "/home/deploy/certs/amazon-only.pem")
    assert bundle["details"]["anchors"] == ["Amazon Root CA 1"] and bundle["details"]["format"] == "pem"
    assert findings_of(report, bundle) == [("ats-store-trusted", "info")]
    # the image holds no AWS client that would read it: info, and says so
    assert findings_of(report, config) == [("ats-custom-bundle", "info")]
    assert config["details"]["read_by_found"] == []
    legacy = setting(report, "/home/deploy/.aws/config", 6)  # ~deploy/ through the image's /etc/passwd
    assert legacy["details"]["trust_store"] == "/home/deploy/certs/legacy.pem"
    assert store(report, "/home/deploy/certs/legacy.pem")["details"]["problem"] == "does not exist"
    assert str(scanning_home) not in report_text(report)
    assert "wJalrXUtnFEMI" not in report_text(report) and "credentials" not in report_text(report)


def report_text(report) -> str:
    import json

    return json.dumps(report)


def test_boto_configs_of_every_home_and_etc_boto_cfg_are_read(tmp_path):
    root = image(tmp_path)
    write(root / "etc" / "boto.cfg", "[Boto]\nhttps_validate_certificates = False\n")
    write(root / "home" / "deploy" / ".boto", "[Credentials]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\n"
                                              "[Boto]\nca_certificates_file = ~/certs/boto.pem\n")
    write(root / "srv" / "sync" / ".boto", "[Boto]\nca_certificates_file = /srv/sync/ca.pem\n")  # a nologin user
    report = scan_json("--root", root)
    off = setting(report, "/etc/boto.cfg", 2)
    assert (off["name"], off["details"]["effect"]) == ("https_validate_certificates", "disabled")
    assert findings_of(report, off) == [("ats-validation-disabled", "high")]
    boto = setting(report, "/home/deploy/.boto", 5)
    # boto 2 hands ca_certificates_file to ssl.wrap_socket as written: no ~ expansion, so nothing to check
    assert "trust_store" not in boto["details"] and boto["details"]["value"] == "~/certs/boto.pem"
    assert not [c for c in components(report) if c["location"] == "/srv/sync/.boto"]  # no login, no login's config
    assert "AKIAIOSFODNN7EXAMPLE" not in report_text(report)


def test_the_env_files_home_is_the_home_in_an_image(tmp_path):
    root = image(tmp_path)
    write(root / "srv" / "app" / ".aws" / "config", "[default]\nca_bundle = ~/ca.pem\n")
    write(root / "srv" / "app" / "ca.pem", anchor())
    env = write(tmp_path / "app.env", "HOME=/srv/app\n")
    report = scan_json("--root", root, "--env-file", env)
    assert setting(report, "/srv/app/.aws/config", 2)["details"]["trust_store"] == "/srv/app/ca.pem"
    assert store(report, "/srv/app/ca.pem")["details"]["anchors"] == ["Amazon Root CA 1"]


def test_tilde_is_expanded_only_by_clients_that_expand_it(tmp_path):
    """botocore 1.11+ hands the path to urllib3, which expands ~; the vendored requests of 1.10 opens it as written."""
    env = write(tmp_path / "svc.env", f"HOME={tmp_path}\nAWS_CA_BUNDLE=~/ca.pem\n")
    write(tmp_path / "ca.pem", anchor())
    modern = scan_json(TRUST / "botocore-1.35.0" / "site-packages", "--env-file", env)
    botocore = client(modern, "botocore", "botocore-1.35.0")
    assert botocore["details"]["trust_store"] == str(tmp_path / "ca.pem")
    assert any(f"expands '~/ca.pem' to {tmp_path}/ca.pem" in r for r in botocore["details"]["trust_reasons"])
    old = scan_json(TRUST / "botocore-1.10.84" / "site-packages", "--env-file", env)
    botocore = client(old, "botocore", "botocore-1.10.84")
    assert "trust_store" not in botocore["details"]
    assert any("does not expand ~" in r for r in botocore["details"]["trust_reasons"])


# -- 2. systemd units ----------------------------------------------------------------------------------------

def test_a_units_environment_decides_the_store_of_the_botocore_it_runs(tmp_path):
    root = orders_image(tmp_path)
    write(root / "home" / "deploy" / ".aws" / "config", "[default]\nca_bundle = ~/certs/amazon-only.pem\n")
    report = scan_json("--root", root)
    botocore = client(report, "botocore", "/opt/orders/venv/")
    assert botocore["details"]["trust_store"] == "/etc/orders/ca.pem"
    reasons = botocore["details"]["trust_reasons"]
    assert reasons[0] == ("runs as systemd unit orders.service: /etc/systemd/system/orders.service:11: "
                          "ExecStart=/opt/orders/venv/bin/python -m orders.worker --queue orders")
    assert reasons[1].startswith("/etc/systemd/system/orders.service:8: AWS_CA_BUNDLE=/etc/orders/ca.pem "
                                 "(Environment= of orders.service): botocore uses it")
    assert any("outranked: /home/deploy/.aws/config:2: ca_bundle = ~/certs/amazon-only.pem" in r for r in reasons)
    variable = setting(report, "/etc/systemd/system/orders.service", 8)
    assert variable["details"]["found_in"] == "systemd unit" and variable["details"]["set_for"] == ["systemd unit orders.service"]
    assert findings_of(report, variable) == [("ats-custom-bundle", "medium")]
    ca = store(report, "/etc/orders/ca.pem")
    assert ca["details"]["anchors"] == ["Starfield Class 2 Certification Authority"]
    assert "botocore 1.35.0 in /opt/orders/venv/lib/python3.11/site-packages (systemd unit orders.service)" in ca["details"]["users"]
    # the same venv run by hand (the image's own, empty, environment) uses botocore's default
    assert any(r.endswith("site-packages/certifi/cacert.pem") for r in botocore["details"]["also_runs_in"])
    assert [t for t in report["targets"] if t["location"] == "/opt/orders/venv"]  # found through the unit alone


def test_environment_file_and_drop_in_override_as_systemd_applies_them(tmp_path):
    root = orders_image(tmp_path)
    write(root / "etc" / "default" / "orders", "# Orders worker settings\nexport IGNORED=1\n"
                                               "AWS_CA_BUNDLE=\"/etc/orders/from-env-file.pem\"\n")
    write(root / "etc" / "orders" / "from-env-file.pem", anchor())
    report = scan_json("--root", root)
    botocore = client(report, "botocore", "/opt/orders/venv/")
    assert botocore["details"]["trust_store"] == "/etc/orders/from-env-file.pem"  # EnvironmentFile= overrides Environment=
    assert botocore["details"]["trust_reasons"][1].startswith(
        "/etc/default/orders:3: AWS_CA_BUNDLE=/etc/orders/from-env-file.pem (EnvironmentFile= of orders.service)")
    assert setting(report, "/etc/systemd/system/orders.service", 8)["details"]["value"] == "/etc/orders/ca.pem"  # still reported

    write(root / "etc" / "systemd" / "system" / "orders.service.d" / "override.conf",
          "[Service]\nEnvironmentFile=\nEnvironment=AWS_CA_BUNDLE=/etc/orders/drop-in.pem\n")
    report = scan_json("--root", root)
    assert client(report, "botocore", "/opt/orders/venv/")["details"]["trust_store"] == "/etc/orders/drop-in.pem"
    assert setting(report, "/etc/systemd/system/orders.service.d/override.conf", 3)["details"]["found_in"] == "systemd unit"


def test_systemd_quoting_and_specifiers_in_environment_lines():
    line = '"VAR1=word1 word2" VAR2=word3 "VAR3=$word 5 6" HOME=%h \'ODD=a"b\' CA=\\x2fetc/ca.pem'
    found = {a.name: a.value for a in environment_assignments(line, 7, {"h": "/root"})}
    assert found == {"VAR1": "word1 word2", "VAR2": "word3", "VAR3": "$word 5 6", "HOME": "/root", "ODD": 'a"b', "CA": "/etc/ca.pem"}
    assert environment_assignments("", 3, {}) is None  # an empty assignment resets the list
    (kept,) = environment_assignments('GOOD=1 "BROKEN=unclosed', 1, {})  # systemd drops the rest of the line
    assert (kept.name, kept.value) == ("GOOD", "1")
    (instance,) = environment_assignments("AWS_CA_BUNDLE=/etc/%i/ca.pem", 1, {})
    assert instance.unresolved == "%i"


def test_a_missing_required_environment_file_and_an_unknown_user_are_error_entries(tmp_path):
    root = orders_image(tmp_path)
    unit = root / "etc" / "systemd" / "system" / "orders.service"
    unit.write_text(ORDERS_UNIT.replace("EnvironmentFile=-/etc/default/orders", "EnvironmentFile=/etc/default/orders")
                    .replace("User=deploy", "User=orders"))
    report = scan_json("--root", root)
    errors = errors_at(report)
    assert any("EnvironmentFile=/etc/default/orders does not exist" in m
               for m in errors["/etc/systemd/system/orders.service:9"])
    assert any("User=orders: no such user in /etc/passwd" in m for m in errors["/etc/systemd/system/orders.service:7"])


def test_masked_units_and_aliases(tmp_path):
    root = orders_image(tmp_path)
    lib = root / "usr" / "lib" / "systemd" / "system"
    write(lib / "billing.service", "[Service]\nEnvironment=AWS_CA_BUNDLE=/etc/billing/ca.pem\nExecStart=/usr/bin/billing\n")
    (root / "etc" / "systemd" / "system" / "billing.service").symlink_to("/dev/null")  # systemctl mask billing
    (root / "etc" / "systemd" / "system" / "dbus-org.example.Orders.service").symlink_to("/etc/systemd/system/orders.service")
    report = scan_json("--root", root)
    assert not [c for c in components(report) if c["location"].endswith("billing.service")]
    assert setting(report, "/etc/systemd/system/orders.service", 8)["details"]["set_for"] == ["systemd unit orders.service"]


def test_a_shell_wrapped_system_python_runs_the_distributions_botocore_with_the_units_environment(tmp_path):
    root = image(tmp_path)
    shutil.copytree(TRUST / "debian-bookworm" / "usr", root / "usr")
    write(root / "usr" / "bin" / "python3.11", b"\x7fELF")
    (root / "usr" / "bin" / "python3").symlink_to("python3.11")
    write(root / "etc" / "systemd" / "system.conf", "[Manager]\n#LogLevel=info\nDefaultEnvironment=REQUESTS_CA_BUNDLE=/etc/pki/all.pem\n")
    write(root / "lib" / "systemd" / "system" / "billing.service",
          "[Service]\nEnvironment=AWS_CA_BUNDLE=/etc/billing/ca.pem\nExecStart=/bin/sh -c 'exec python3 -m billing'\n")
    report = scan_json("--root", root)
    botocore = client(report, "botocore", "/usr/lib/python3/dist-packages")
    assert botocore["details"]["trust_store"] == "/etc/billing/ca.pem"
    assert botocore["details"]["trust_reasons"][0].startswith("runs as systemd unit billing.service: /lib/systemd/system/billing.service:3")
    assert any("outranked: /etc/systemd/system.conf:3: REQUESTS_CA_BUNDLE=/etc/pki/all.pem" in r
               for r in botocore["details"]["trust_reasons"])
    default = setting(report, "/etc/systemd/system.conf", 3)
    assert (default["details"]["found_in"], default["details"]["set_for"]) == ("systemd unit", ["systemd unit billing.service"])


# -- 3. logins and cron ------------------------------------------------------------------------------------------

def test_etc_environment_profile_d_and_crontabs_are_each_reported_with_their_line(tmp_path):
    root = orders_image(tmp_path)
    write(root / "etc" / "environment", 'PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n'
                                        "AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt\n")
    write(root / "etc" / "profile", 'if [ -d /etc/profile.d ]; then\n  for i in /etc/profile.d/*.sh; do\n'
                                    '    if [ -r $i ]; then\n      . $i\n    fi\n  done\n  unset i\nfi\n')
    write(root / "etc" / "profile.d" / "aws.sh", "# AWS clients trust the corporate proxy\n"
                                                 "AWS_CA_BUNDLE=/etc/pki/corp/aws.pem; export AWS_CA_BUNDLE\n"
                                                 'export REQUESTS_CA_BUNDLE="$HOME/.certs/requests.pem"\n')
    write(root / "etc" / "pam.d" / "cron", DEBIAN_PAM_CRON)
    write(root / "etc" / "crontab", "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\n"
                                    "17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n")
    write(root / "etc" / "cron.d" / "orders-sync", "AWS_CA_BUNDLE = \"/etc/orders/sync.pem\"\n"
                                                   "*/5 * * * * deploy /opt/orders/venv/bin/python -m orders.sync\n")
    write(root / "var" / "spool" / "cron" / "crontabs" / "deploy",
          "# DO NOT EDIT THIS FILE - edit the master and reinstall.\n"
          "AWS_CA_BUNDLE=/home/deploy/ca.pem\n0 3 * * * /opt/orders/venv/bin/python -m orders.nightly\n", mode=0o600)
    write(root / "etc" / "orders" / "sync.pem", anchor())
    report = scan_json("--root", root)

    environment = setting(report, "/etc/environment", 2)
    assert environment["details"]["found_in"] == "/etc/environment" and environment["source"] == "pam_env file"
    assert "cron" in environment["details"]["set_for"][0]  # Debian's cron loads pam_env
    assert environment["details"]["points_to_os_store"] is False  # this image has no such bundle: checked, missing
    profile = setting(report, "/etc/profile.d/aws.sh", 2)
    assert (profile["details"]["found_in"], profile["details"]["value"]) == ("profile.d script", "/etc/pki/corp/aws.pem")
    assert profile["details"]["set_for"] == ["login shells (/etc/profile sources /etc/profile.d)"]
    requests = setting(report, "/etc/profile.d/aws.sh", 3)
    assert "trust_store" not in requests["details"]  # $HOME: the home of whoever logs in
    cron = setting(report, "/etc/cron.d/orders-sync", 1)
    assert (cron["details"]["found_in"], cron["details"]["value"]) == ("crontab", "/etc/orders/sync.pem")
    assert findings_of(report, cron) == [("ats-custom-bundle", "medium")]
    assert setting(report, "/var/spool/cron/crontabs/deploy", 2)["details"]["trust_store"] == "/home/deploy/ca.pem"

    botocore = client(report, "botocore", "/opt/orders/venv/")
    runs = botocore["details"]["also_runs_in"]
    assert "cron jobs of deploy in /etc/cron.d/orders-sync: /etc/orders/sync.pem" in runs
    assert "cron jobs of deploy in /var/spool/cron/crontabs/deploy: /home/deploy/ca.pem" in runs
    sync = store(report, "/etc/orders/sync.pem")
    assert findings_of(report, sync) == [("ats-store-trusted", "info")]


def test_cron_reads_etc_environment_only_where_its_pam_loads_pam_env(tmp_path):
    root = orders_image(tmp_path)
    write(root / "etc" / "environment", "AWS_CA_BUNDLE=/etc/ssl/corp.pem\n")
    write(root / "etc" / "cron.d" / "orders-sync", "*/5 * * * * deploy /opt/orders/venv/bin/python -m orders.sync\n")
    report = scan_json("--root", root)  # no /etc/pam.d: cron without PAM
    runs = client(report, "botocore", "/opt/orders/venv/")["details"]["also_runs_in"]
    assert any(r.startswith("cron jobs of deploy") and r.endswith("certifi/cacert.pem") for r in runs)
    write(root / "etc" / "pam.d" / "cron", DEBIAN_PAM_CRON)
    report = scan_json("--root", root)
    runs = client(report, "botocore", "/opt/orders/venv/")["details"]["also_runs_in"]
    assert "cron jobs of deploy in /etc/cron.d/orders-sync: /etc/ssl/corp.pem" in runs


# -- 4. what cannot be read ----------------------------------------------------------------------------------------

def test_unreadable_unit_environment_file_and_crontab_are_error_entries(open_tmp):  # noqa: F811
    root = orders_image(open_tmp)
    write(root / "etc" / "default" / "orders", "AWS_CA_BUNDLE=/etc/orders/secret.pem\n")
    write(root / "etc" / "systemd" / "system" / "billing.service", "[Service]\nExecStart=/usr/bin/billing\n")
    write(root / "var" / "spool" / "cron" / "crontabs" / "deploy", "0 3 * * * /usr/bin/true\n")
    for folder, _, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            if not os.path.islink(os.path.join(folder, name)):  # a link's target may be this machine's own file
                os.chmod(os.path.join(folder, name), 0o644)
    for locked in (root / "etc" / "systemd" / "system" / "billing.service", root / "etc" / "default" / "orders",
                   root / "var" / "spool" / "cron" / "crontabs" / "deploy"):
        os.chmod(locked, 0)
    report = scan_as_nobody(open_tmp, "--root", root).json
    errors = errors_at(report)
    for where in ("/etc/systemd/system/billing.service", "/etc/default/orders", "/var/spool/cron/crontabs/deploy"):
        assert any("Permission denied" in m for m in errors.get(where, [])), (where, errors)


# -- 5. the parsers, on any input ----------------------------------------------------------------------------------

SERVICE_TARGETS = MODULES["services"].TARGETS


@pytest.mark.parametrize("name", sorted(SERVICE_TARGETS))
@fuzz
@given(data=st.binary(max_size=2048))
@example(data=b"[Service]\nEnvironment=\"A=1\nB=2\\\n# c\n C\n")
@example(data=b"A=\"unclosed\nB='x\\\n")
@example(data=b"SHELL=/bin/sh\n17 * * * * root %input\n@reboot \\\n")  # atheris: entries whose command is empty
@example(data=b"[Unit]\nm\0ers \\\n ; --workers 6\nExecStart=/opt/x -m orders \\\n")  # atheris: a comment continued
@example(data=b"[Unit]\n\\\\cS\\\\\\\nExertatSc=\\\\\n")  # atheris: a line continued after two backslashes
def test_every_service_parser_takes_any_bytes(name, data):
    SERVICE_TARGETS[name](data)


FRAGMENTS = ("[Service]", "[Unit]", "Environment=", "EnvironmentFile=-", "ExecStart=", "User=", "AWS_CA_BUNDLE=", "export ",
             "=", '"', "'", "\\", "#", ";", "%h", "%i", "%%", "$HOME", "~/", "*/5 * * * *", "@reboot", "root", " ", "\t", "\\x2f")
service_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=30).flatmap(
    lambda parts: st.lists(st.sampled_from(("\n", "\r\n", "", " ")), min_size=len(parts), max_size=len(parts)).map(
        lambda ends: "".join(p + e for p, e in zip(parts, ends))))


@pytest.mark.parametrize("name", sorted(SERVICE_TARGETS))
@fuzz
@given(text=service_text)
def test_every_service_parser_takes_text_made_of_its_formats(name, text):
    SERVICE_TARGETS[name](text.encode("utf-8", "surrogatepass"))


name = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
plain_value = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="/._-:~@,+"), max_size=20)


@fuzz
@given(assignments=st.lists(st.tuples(name, plain_value | st.text(alphabet=" /ab\"'$", max_size=12)), max_size=6))
def test_environment_lines_read_back_what_systemd_quoting_wrote(assignments):
    def quoted(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    line = " ".join(quoted(f"{n}={v}") for n, v in assignments)
    found = environment_assignments(line, 4, {}) if assignments else []
    assert [(a.name, a.value) for a in found] == [(n, v) for n, v in assignments]


@fuzz
@given(assignments=st.lists(st.tuples(name, plain_value, st.sampled_from(["plain", "single", "double"])), max_size=6),
       noise=st.lists(st.sampled_from(["# comment", "; comment", "", "   ", "export SKIPPED=1", "no equals sign"]), max_size=4))
def test_environment_files_read_back_each_assignment_at_its_line(assignments, noise):
    lines = list(noise)
    expected = []
    for variable, value, style in assignments:
        written = {"plain": value, "single": f"'{value}'", "double": '"' + value.replace("\\", "\\\\") + '"'}[style]
        lines.append(f"{variable}={written}")
        expected.append((variable, value.strip() if style == "plain" else value, len(lines)))
    found = environment_file("\n".join(lines) + "\n")
    assert [(a.name, a.value, a.line) for a in found] == expected


@fuzz
@given(settings=st.lists(st.tuples(name, plain_value.filter(lambda v: v.strip() == v and v[:1] not in "'\"")), max_size=5),
       user=st.sampled_from(["root", "deploy"]))
def test_crontab_settings_apply_to_the_entries_after_them(settings, user):
    lines = [f"{n} = {v}" for n, v in settings] + [f"*/5 * * * * {user} /usr/bin/true"]
    found, entries = parse_crontab("\n".join(lines), system=True)
    assert [(s.name, s.value, s.line) for s in found] == [(n, v, i) for i, (n, v) in enumerate(settings, 1)]
    (entry,) = entries
    assert entry.user == user and entry.command == "/usr/bin/true" and entry.settings == tuple(found)


def test_pam_env_and_profile_scripts_as_their_readers_read_them():
    assert pam_environment('export A="/etc/a.pem"\nB=/etc/b.pem # a comment\nnot valid=1\n  C=\'x\'\n') == [
        ("A", "/etc/a.pem", 1), ("B", "/etc/b.pem ", 2), ("C", "x", 4)]
    found = {a.name: a for a in profile_exports(
        "AWS_CA_BUNDLE=/etc/a.pem; export AWS_CA_BUNDLE\nLOCAL=/x\nexport B=~/b.pem C=\"$(cat /x)\"\n"
        "if true; then export D='/d $x'; fi\n")}
    assert set(found) == {"AWS_CA_BUNDLE", "B", "C", "D"}  # LOCAL is never exported
    assert found["AWS_CA_BUNDLE"].line == 1 and found["B"].home_relative and found["C"].dynamic
    assert (found["D"].value, found["D"].dynamic) == ("/d $x", "")


def test_unit_files_continue_lines_and_skip_comments_inside_them():
    directives = unit_directives("[Service]\nExecStart=/usr/bin/app \\\n# a comment inside\n  --flag\nUser = deploy\n")
    assert [(d.key, d.value, d.line) for d in directives] == [("ExecStart", "/usr/bin/app  --flag", 2), ("User", "deploy", 5)]
