"""The fleet flow of contrib/ansible, end to end: the real playbook run by ansible-core (`python -m ansible playbook`,
the local connection, no SSH) over seven inventory hosts, each pointed at an OS root of its own, with a wheel built
from this checkout and installed offline from a wheelhouse built once.

Scanned on the host (each with a venv of its own): `legacy` (an old botocore and awscli, awscli's finding waived by a
waiver file copied to it), `broken` (a root whose second target does not exist: auditor exits 2 and still writes its
report) and `workstation` (a folder, no root: the one kind of scan that reads its process's environment). Scanned
from the controller over their files: `orders` (a service whose environment file sets AWS_CA_BUNDLE; --fail-on medium
on that host alone), `proxied` (a Debian host behind a TLS-inspecting proxy), `nopython` (no Python 3.9 found on it)
and `gone` (its files are not where the inventory says: no report at all).

Every report the play fetches must equal a scan of the same root made here directly with `auditor scan`, and the
merged fleet report the merge of those direct scans; the play must fail, after every report is fetched, naming the
hosts that fail --fail-on high and those not fully scanned, and pass when run over the hosts that pass.

Ansible reads and writes nothing of the user's: its config, home, temporary folders and HOME are in tmp_path, and
its environment carries CA variables and a proxy of the "controller" that no scan may take.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ENVS, FIXTURES
from test_local_cas import debian_root, interception_ca
from test_service_env import image, orders_image, venv

REPO = Path(__file__).resolve().parent.parent
PLAYBOOK = REPO / "contrib" / "ansible" / "fleet.yml"
AS_OF = "2026-12-01"
FLEET_FAIL_ON = "high"
SEVERITIES = ("critical", "high", "medium", "low", "info")
SCAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # the role's auditor_path
# What the controller's own environment holds and a host's scan must not take.
CONTROLLER_VARIABLES = {"AWS_CA_BUNDLE": "/nonexistent/controller-ca.pem", "REQUESTS_CA_BUNDLE": "/nonexistent/controller-ca.pem",
                        "SSL_CERT_FILE": "/nonexistent/controller-ca.pem", "HTTPS_PROXY": "http://controller-proxy.invalid:3128"}

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ansible") is None and not os.environ.get("AUDITOR_REQUIRE_ANSIBLE"),
                                reason="ansible-core is not installed (pip install '.[test]'); AUDITOR_REQUIRE_ANSIBLE=1 "
                                       "makes this a failure")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    """The auditor wheel of this checkout, and a wheelhouse of its dependencies, built once (pip's own configuration
    and cache: this is the one step that may reach the index)."""
    if importlib.util.find_spec("ansible") is None:
        pytest.fail("AUDITOR_REQUIRE_ANSIBLE is set and ansible-core is not installed (pip install '.[test]')")
    base = tmp_path_factory.mktemp("wheels")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", base / "dist", REPO], check=True, timeout=600)
    (wheel,) = (base / "dist").glob("auditor-*.whl")
    subprocess.run([*pip, "wheel", "-w", base / "wheelhouse", wheel], check=True, timeout=600)
    return wheel, base / "wheelhouse"


def _roots(base: Path) -> dict[str, Path]:
    pem, _ = interception_ca()
    legacy = image(base / "legacy")
    venv(legacy, "/opt/legacy/venv", site=ENVS / "py3-old-botocore" / "lib" / "python3.11" / "site-packages")
    return {"legacy": legacy, "orders": orders_image(base / "orders"), "proxied": debian_root(base / "proxied", pem)}


def _hosts(base: Path) -> dict[str, dict]:
    """Each host's inventory variables (beside the fleet's), and the `auditor scan` options that scan it directly."""
    roots = _roots(base / "roots")
    waivers = base / "waivers.toml"
    waivers.write_text('[[waivers]]\nrule = "ats-python-sdk-before-cutoff"\ncomponent = "awscli"\n'
                       'reason = "The legacy CLI goes with the batch host in Q1 2027 (OPS-1234)"\n'
                       'owner = "platform-team@example.com"\nexpires = 2027-03-31\n')
    service_env = base / "orders.env"
    service_env.write_text("AWS_CA_BUNDLE=/etc/orders/ca.pem\n")
    workstation = ENVS / "trust" / "botocore-1.35.0"
    never_mounted = base / "snapshots" / "gone"
    return {
        "legacy": {"vars": {"auditor_root": str(roots["legacy"]), "auditor_waivers": waivers.name},  # relative: to the play's cwd
                   "scan": ["--root", roots["legacy"], "--waivers", waivers]},
        "orders": {"vars": {"auditor_mode": "controller", "auditor_controller_root": str(roots["orders"]),
                            "auditor_env_file": str(service_env), "auditor_fail_on": "medium"},
                   "scan": ["--root", roots["orders"], "--env-file", service_env]},
        "broken": {"vars": {"auditor_root": str(FIXTURES / "os-roots" / "debian-12"), "auditor_targets": ["/etc", "/srv/missing"]},
                   "scan": ["--root", FIXTURES / "os-roots" / "debian-12", "/etc", "/srv/missing"]},
        "workstation": {"vars": {"auditor_targets": [str(workstation)]}, "scan": [workstation]},
        "proxied": {"vars": {"auditor_mode": "controller", "auditor_controller_root": str(roots["proxied"])},
                    "scan": ["--root", roots["proxied"]]},
        "nopython": {"vars": {"auditor_python": "/nonexistent/python3",
                              "auditor_controller_root": str(FIXTURES / "os-roots" / "amzn-2023")},
                     "scan": ["--root", FIXTURES / "os-roots" / "amzn-2023"]},
        "gone": {"vars": {"auditor_mode": "controller", "auditor_controller_root": str(never_mounted)},
                 "scan": ["--root", never_mounted]},
    }


class Fleet:
    def __init__(self, base: Path, wheel: Path, wheelhouse: Path):
        self.base, self.hosts = base, _hosts(base)
        self.fleet_dir = base / "controller" / "fleet"
        self.scan_home = base / "scan-home"
        self.scan_home.mkdir()
        inventory = {"all": {
            "vars": {"ansible_connection": "local", "auditor_wheel": os.path.relpath(wheel, base),
                     "auditor_wheelhouse": str(wheelhouse),
                     "auditor_fleet_dir": str(self.fleet_dir), "auditor_fleet_fail_on": FLEET_FAIL_ON,
                     "auditor_environment": {"HOME": str(self.scan_home)}, "auditor_scan_args": ["--as-of", AS_OF]},
            # A folder of its own for each host: its wheel, venv and report.
            "hosts": {name: {"auditor_dir": str(base / "hosts" / name), **host["vars"]} for name, host in self.hosts.items()}}}
        self.inventory = base / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump(inventory, sort_keys=False))
        config = base / "ansible.cfg"
        config.write_text("[defaults]\nretry_files_enabled = False\n")
        home = base / "home"
        home.mkdir()
        self.environment = {name: value for name, value in os.environ.items()
                            if not name.startswith(("ANSIBLE_", "PIP_")) and name not in ("PYTHONPATH", "HOME")}
        self.environment.update(CONTROLLER_VARIABLES, HOME=str(home), PIP_CONFIG_FILE=os.devnull, ANSIBLE_CONFIG=str(config),
                                ANSIBLE_HOME=str(base / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(base / "ansible-local"),
                                ANSIBLE_REMOTE_TEMP=str(base / "ansible-remote"), ANSIBLE_RETRY_FILES_ENABLED="False",
                                ANSIBLE_COLLECTIONS_PATH=str(base / "collections"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                                ANSIBLE_FORKS="10", ANSIBLE_PIPELINING="True", ANSIBLE_NOCOLOR="1",
                                ANSIBLE_DEPRECATION_WARNINGS="False", ANSIBLE_LOCALHOST_WARNING="False",
                                PATH=f"{Path(sys.executable).parent}{os.pathsep}{SCAN_PATH}")

    def start_play(self, *options: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "ansible", "playbook", "-i", self.inventory, PLAYBOOK, *options],
                                env=self.environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=self.base)

    def play(self, *options: str) -> subprocess.CompletedProcess:
        return finished(self.start_play(*options))

    def direct(self, name: str, scan: list | None = None, environment: dict | None = None,
               out: str = "direct") -> tuple[int, Path]:
        """`auditor scan` of this checkout over what the inventory points the host at (or `scan`), with the
        environment the role gives a scan (PATH and auditor_environment) unless told another."""
        fail_on = self.hosts[name]["vars"].get("auditor_fail_on", "high")
        report = self.base / out / f"{name}.json"
        report.parent.mkdir(exist_ok=True)
        env = environment or {"PATH": SCAN_PATH, "HOME": str(self.scan_home)}
        done = subprocess.run([sys.executable, "-m", "auditor", "scan", "--format", "json", "--quiet", "--host-name", name,
                               "--fail-on", fail_on, "--as-of", AS_OF, "--output", report,
                               *(self.hosts[name]["scan"] if scan is None else scan)],
                              env={**env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300)
        return done.returncode, report


def finished(play: subprocess.Popen) -> subprocess.CompletedProcess:
    try:
        out, err = play.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        play.kill()
        raise
    return subprocess.CompletedProcess(play.args, play.returncode, out, err)


@pytest.fixture(scope="module")
def fleet(wheels, tmp_path_factory):
    fleet = Fleet(tmp_path_factory.mktemp("fleet"), *wheels)
    play = fleet.start_play()
    fleet.direct_scans = {name: fleet.direct(name) for name in fleet.hosts}  # while the play runs: they share nothing
    fleet.first = finished(play)
    return fleet


def _comparable(report: dict) -> dict:
    """A report less what differs between two runs of the same scan: when, the command line, and the folder of the
    waiver file (the host reads its copy)."""
    for finding in report["findings"]:
        if "waiver" in finding:
            finding["waiver"]["file"] = Path(finding["waiver"]["file"]).name
    return {key: value for key, value in report.items() if key not in ("generated_at", "run")}


def _failing_hosts(report: dict, fail_on: str) -> set[str]:
    severities = SEVERITIES[:SEVERITIES.index(fail_on) + 1]
    host_of = {c["id"]: c["host"] for c in report["components"]}
    return {host_of[f["component"]] for f in report["findings"] if f["severity"] in severities and not f["waived"]}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_each_fetched_report_is_the_scan_of_its_hosts_root(fleet):
    reports = fleet.fleet_dir / "reports"
    with_report = [name for name in fleet.hosts if name != "gone"]
    assert sorted(p.stem for p in reports.glob("*.json")) == sorted(with_report)
    assert not fleet.direct_scans["gone"][1].exists()  # a root that is not there: nothing to report, here too
    for name in with_report:
        fetched, direct = _load(reports / f"{name}.json"), _load(fleet.direct_scans[name][1])
        assert fetched["run"]["host"] == name
        assert _comparable(fetched) == _comparable(direct), name
    # What the inventory sets reached the scans: the waiver file, the service's environment file, --fail-on.
    legacy = _load(reports / "legacy.json")
    names = {c["id"]: c["name"] for c in legacy["components"]}
    assert sorted((names[f["component"]], f["waived"]) for f in legacy["findings"]
                  if f["rule"] == "ats-python-sdk-before-cutoff") == [("awscli", True), ("botocore", False)]
    orders = _load(reports / "orders.json")
    without_env_file = fleet.direct("orders", fleet.hosts["orders"]["scan"][:2], out="other")[1]
    assert orders["fail_on"] == "medium" and _comparable(orders) != _comparable(_load(without_env_file))


def test_the_fleet_report_is_the_merge_of_the_direct_scans(fleet):
    merged = _load(fleet.fleet_dir / "fleet.json")
    order = [name for name in fleet.hosts if name != "gone"]  # the inventory's order, as the play merges
    direct = fleet.base / "direct-fleet.json"
    done = subprocess.run([sys.executable, "-m", "auditor", "report", "merge", "--quiet", "--fail-on", FLEET_FAIL_ON,
                           "--format", "json", "--output", direct, *(fleet.direct_scans[n][1] for n in order)],
                          env={"PATH": SCAN_PATH, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert [source["host"] for source in merged["run"]["merged"]] == order
    assert _comparable(merged) == _comparable(_load(direct))
    verdicts = {(v["host"], v["answer"]) for v in merged["verdicts"]}
    assert ("proxied", "no") in verdicts and ("legacy", "at risk") in verdicts and ("workstation", "yes") in verdicts
    assert all(f"<td>{name}</td>" in (fleet.fleet_dir / "fleet.html").read_text(encoding="utf-8") for name in order)
    assert (fleet.fleet_dir / "fleet.md").read_text(encoding="utf-8").startswith("#")


def test_the_play_fails_after_every_report_naming_the_failing_and_the_unscanned_hosts(fleet):
    result = fleet.first
    assert result.returncode == 2, result.stdout[-3000:]
    merged = _load(fleet.fleet_dir / "fleet.json")
    failing = _failing_hosts(merged, FLEET_FAIL_ON)
    # What the direct scans say fails --fail-on high; orders fails its own --fail-on medium (exit 1) and is not one.
    assert failing == {"legacy", "proxied"} and fleet.direct_scans["orders"][0] == 1
    # The fleet's result is said once, by the play's first host, delegated to the controller.
    (message,) = re.findall(r"^fatal: \[legacy -> localhost\]: FAILED! => (\{.*auditor fleet: FAIL.*)$", result.stdout, flags=re.M)
    message = json.loads(message)["msg"]
    assert f"Hosts failing --fail-on high: {', '.join(sorted(failing))}. " in message
    assert "broken: Run auditor scan on the host: auditor: error: /srv/missing: no such file or directory" in message
    assert f"gone: Run auditor scan from the controller over the host's files: auditor: error: --root " \
           f"{fleet.hosts['gone']['scan'][1]}: not a directory; no report" in message
    assert not re.search(r"(orders|workstation|nopython)[:,]", message)
    # Exit 1 and exit 2 are told apart: only auditor's exit 2 failed a task (rescued: the host goes on to the merge).
    recap = dict(re.findall(r"^(\w+)\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=(\d+) .*rescued=", result.stdout, re.M))
    assert recap == {name: "0" for name in fleet.hosts} | {"legacy": "1"}
    assert re.search(r"^fatal: \[broken\]: FAILED! .*auditor: error: /srv/missing", result.stdout, flags=re.M)
    assert result.stdout.index("auditor fleet: FAIL") > result.stdout.rindex("TASK [auditor_scan : Fetch the host's report")
    assert "nopython: scanned from the controller, auditor exit 0" in result.stdout
    assert "legacy: scanned on the host, auditor exit 1" in result.stdout


def test_a_target_that_cannot_be_read_is_an_error_entry_of_its_host(fleet):
    merged = _load(fleet.fleet_dir / "fleet.json")
    assert {"location": "/srv/missing", "message": "no such file or directory", "target": "/srv/missing",
            "host": "broken"} in merged["errors"]
    assert {"kind": "unreadable", "location": "/srv/missing", "host": "broken",
            "details": {"reason": "no such file or directory"}} in merged["targets"]
    assert fleet.direct_scans["broken"][0] == 2 and fleet.direct_scans["gone"][0] == 2


def test_no_scan_takes_the_controllers_environment(fleet):
    # The folder scan is the one that reads its process's environment: with the controller's, it would judge
    # another store (and a proxy); the play's scan is the direct scan with none of it.
    polluted = fleet.direct("workstation", environment={"PATH": SCAN_PATH, "HOME": str(fleet.scan_home),
                                                        **CONTROLLER_VARIABLES}, out="other")[1]
    fetched = _load(fleet.fleet_dir / "reports" / "workstation.json")
    assert _comparable(fetched) != _comparable(_load(polluted))
    assert "/nonexistent/controller-ca.pem" not in json.dumps(fetched)
    assert "controller-proxy.invalid" not in (fleet.fleet_dir / "fleet.json").read_text(encoding="utf-8")


def test_a_fleet_that_passes_passes_and_a_second_run_installs_nothing(fleet):
    passing = ["orders", "workstation", "nopython"]
    result = fleet.play("--limit", ",".join(passing))
    assert result.returncode == 0, result.stdout[-3000:]
    merged = _load(fleet.fleet_dir / "fleet.json")
    assert [source["host"] for source in merged["run"]["merged"]] == passing  # no report of the first run merged
    assert sorted(p.stem for p in (fleet.fleet_dir / "reports").glob("*.json")) == sorted(passing)
    installs = re.findall(r"^TASK \[auditor_scan : Install the wheel\] \*+\n(.*?)(?=^TASK )", result.stdout, flags=re.M | re.S)
    assert len(installs) == 2 and all("changed:" not in block and "skipping:" in block for block in installs), installs
    assert _comparable(_load(fleet.fleet_dir / "reports" / "orders.json")) == _comparable(_load(fleet.direct_scans["orders"][1]))


def test_the_example_inventory_and_playbook_are_what_the_docs_show():
    docs = (REPO / "docs" / "fleet.md").read_text(encoding="utf-8")
    defaults = yaml.safe_load((PLAYBOOK.parent / "roles" / "auditor_scan" / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((PLAYBOOK.parent / "roles" / "auditor_scan" / "meta" / "argument_specs.yml").read_text())
    assert sorted(defaults) == sorted(specs["argument_specs"]["main"]["options"])
    assert [name for name in defaults if f"`{name}`" not in docs] == []
