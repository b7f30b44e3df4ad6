"""Trust settings written in a tree's code and scripts: verify= in AWS SDK calls, AWS CLI options, AWS_CA_BUNDLE."""

import os
import textwrap
from pathlib import Path

import pytest

from conftest import ENVS, FIXTURES, run, scan_json

SHOP = FIXTURES / "trust-config" / "shop-api"

# (file, line, setting, effect, value, source); CLI options sit on the line where `aws` is written
SHOP_SETTINGS = {
    (".github/workflows/deploy.yml", 13, "--no-verify-ssl", "disabled", None, "GitHub Actions workflow"),
    ("Dockerfile", 3, "AWS_CA_BUNDLE", "custom-bundle", "/usr/local/share/ca-certificates/corp-root.crt", "Dockerfile"),
    ("Makefile", 5, "--ca-bundle", "custom-bundle", "/etc/pki/corp.pem", "Makefile"),
    ("app/legacy/export_latin1.py", 5, "verify", "custom-bundle", "/etc/pki/entrepôt.pem", "python ast"),
    ("app/legacy/report_py2.py", 4, "verify", "disabled", "False", "python line search"),
    ("app/sessions.py", 14, "verify", "custom-bundle", "/usr/local/share/ca-certificates/corp-root.pem", "python ast"),
    ("app/sessions.py", 17, "verify", "disabled", "False", "python ast"),
    ("app/sessions.py", 25, "verify", "unknown", "settings.AWS_VERIFY", "python ast"),
    ("app/sessions.py", 30, "verify", "disabled", "False", "python ast"),
    ("app/storage.py", 11, "verify", "disabled", "False", "python ast"),
    ("app/storage.py", 13, "verify", "custom-bundle", "/etc/pki/corp.pem", "python ast"),
    ("scripts/deploy.sh", 5, "AWS_CA_BUNDLE", "custom-bundle", "/etc/ssl/certs/corp-bundle.pem", "shell script"),
    ("scripts/deploy.sh", 7, "--no-verify-ssl", "disabled", None, "shell script"),
    ("scripts/deploy.sh", 11, "--ca-bundle", "custom-bundle", "/etc/ssl/certs/corp-bundle.pem", "shell script"),
    ("scripts/restore.ps1", 2, "AWS_CA_BUNDLE", "custom-bundle", "C:\\certs\\corp-root.pem", "PowerShell script"),
}
SEVERITY = {"disabled": ("ats-validation-disabled", "high"), "custom-bundle": ("ats-custom-bundle", "medium"),
            "unknown": ("ats-verify-from-code", "medium")}


def settings(report: dict, top: Path) -> list[dict]:
    found = [c for c in report["components"] if c["kind"] == "trust-config"]
    for component in found:
        component["file"] = str(Path(component["location"]).relative_to(top))
    return found


def rows(report: dict, top: Path) -> set[tuple]:
    return {(c["file"], c["line"], c["name"], c["details"]["effect"], c["details"].get("value"), c["source"])
            for c in settings(report, top)}


def write(path: Path, text, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else textwrap.dedent(text).encode(encoding))
    return path


def test_a_project_tree_reports_every_setting_at_its_file_and_line():
    report = scan_json(SHOP)
    assert rows(report, SHOP) == SHOP_SETTINGS
    for component in settings(report, SHOP):
        line = (SHOP / component["file"]).read_bytes().decode("latin-1").splitlines()[component["line"] - 1]
        marker = {"verify": "client(", "AWS_CA_BUNDLE": "AWS_CA_BUNDLE"}.get(component["name"], "aws ")
        assert marker in line or "resource(" in line, (component["file"], line)
        assert component["target"] == str(SHOP)
        assert component["details"]["found_in"] == ("python" if component["file"].endswith(".py") else "script")
    tree = next(t for t in report["targets"] if t["kind"] == "tree")
    assert tree["details"]["source_files"] == 11  # .venv is not walked; README.md is no source


def test_each_setting_has_one_finding_whose_severity_follows_its_effect():
    report = scan_json(SHOP)
    for component in settings(report, SHOP):
        (finding,) = [f for f in report["findings"] if f["component"] == component["id"]]
        assert (finding["rule"], finding["severity"]) == SEVERITY[component["details"]["effect"]]
        observed = [e for e in finding["evidence"] if e["type"] == "observed"]
        assert (observed[0]["source"], observed[0]["line"]) == (component["location"], component["line"])
        assert "amazontrust.com/repository" in finding["remediation"] or component["details"]["effect"] == "unknown"
    assert report["summary"]["findings"]["high"] == 6
    assert run("scan", "-q", SHOP).code == 1


def test_what_is_not_an_aws_trust_setting_is_not_reported():
    """verify=True, requests' verify=False, botocore Config (client_cert is no trust store), comments, SDK code in a venv."""
    report = scan_json(SHOP)
    files = {c["file"] for c in settings(report, SHOP)}
    assert "app/notify.py" not in files
    assert not any(f.startswith(".venv") for f in files)
    storage = {c["line"] for c in settings(report, SHOP) if c["file"] == "app/storage.py"}
    assert storage == {11, 13}  # not the Config line (8), not verify=True (18)
    workflow = [c["line"] for c in settings(report, SHOP) if c["file"] == ".github/workflows/deploy.yml"]
    assert workflow == [13]  # the commented-out step (15) does not count


def test_a_python_2_file_is_searched_line_by_line_and_said_so():
    report = scan_json(SHOP)
    (error,) = report["errors"]
    assert error["location"].endswith("app/legacy/report_py2.py")
    assert "does not parse as Python 3 (line 5:" in error["message"] and "line by line" in error["message"]


def test_the_table_lists_the_settings():
    out = run("scan", "-q", "--width", "400", SHOP).out  # wide: no cell wrapped, whatever the paths
    assert "Trust configuration" in out
    assert "scripts/deploy.sh:7" in out.replace("\n", "")


PYTHON_CASES = {
    "module call": ('import boto3\ns3 = boto3.client("s3", verify=False)\n', [(2, "disabled", "False", "boto3.client")]),
    "imported function, aliased": (
        'from boto3 import resource as make\nt = make("dynamodb", region_name="eu-west-3", verify="/etc/pki/corp.pem")\n',
        [(2, "custom-bundle", "/etc/pki/corp.pem", "boto3.resource")]),
    "session variable": (
        'import boto3\nsession = boto3.session.Session(profile_name="prod")\nsqs = session.client("sqs", verify=False)\n',
        [(3, "disabled", "False", "boto3.session.Session().client")]),
    "session assigned after use in the file": (
        'import boto3\ndef q():\n    return s.client("sqs", verify=False)\ns = boto3.Session()\n',
        [(3, "disabled", "False", "boto3.Session().client")]),
    "positional verify": (
        '# verify is the fifth argument\nimport botocore.session\n'
        'c = botocore.session.get_session().create_client("s3", "eu-west-1", None, True, "/ca.pem")\n',
        [(3, "custom-bundle", "/ca.pem", "botocore.session.get_session().create_client")]),
    "aioboto3": (
        'import aioboto3\nasync def f():\n    async with aioboto3.Session().client("s3", verify=False) as s3:\n        pass\n',
        [(3, "disabled", "False", "aioboto3.Session().client")]),
    "aiobotocore": (
        'from aiobotocore.session import get_session\nsession = get_session()\n'
        'async def f():\n    async with session.create_client("s3", verify=CA) as c:\n        pass\n',
        [(4, "unknown", "CA", "aiobotocore.session.get_session().create_client")]),
    "module constant": (
        'import boto3\nCA_BUNDLE = "/etc/ssl/corp.pem"\nddb = boto3.client("dynamodb", verify=CA_BUNDLE)\n',
        [(3, "custom-bundle", "/etc/ssl/corp.pem", "boto3.client")]),
    "constant reassigned: unknown": (
        'import boto3\nCA = "/a.pem"\nif DEV:\n    CA = False\nddb = boto3.client("dynamodb", verify=CA)\n',
        [(5, "unknown", "CA", "boto3.client")]),
    "set from the environment": (
        'import os, boto3\ns3 = boto3.client("s3", verify=os.environ.get("S3_CA_BUNDLE"))\n',
        [(2, "unknown", 'os.environ.get("S3_CA_BUNDLE")', "boto3.client")]),
    "session passed in, file imports boto3": (
        'import boto3\n\nclass Repo:\n    def __init__(self, session):\n        self.table = session.resource("dynamodb", verify=False).Table("t")\n',
        [(5, "disabled", "False", "session.resource")]),
    "AWS_CA_BUNDLE set in code": (
        'import os\nos.environ["AWS_CA_BUNDLE"] = "/etc/ssl/corp.pem"\nos.environ.setdefault("AWS_CA_BUNDLE", CA)\n',
        [(2, "custom-bundle", "/etc/ssl/corp.pem", "os.environ"), (3, "custom-bundle", "CA", "os.environ")]),
    "verify=True, None, certifi.where()": (
        'import boto3, certifi\nboto3.client("s3", verify=True)\nboto3.client("s3", verify=None)\n'
        'boto3.client("s3", verify=certifi.where())\nboto3.client("s3", **options)\n', []),
    "not an AWS client": (
        'import boto3, requests, httpx\nrequests.get(url, verify=False)\nhttpx.Client(verify=False)\n'
        'requests.Session().get(url, verify=False)\n', []),
    "session passed in, no SDK imported": (
        '# uses a boto session passed in\ndef make(session):\n    return session.client("s3", verify=False)\n', []),
    "botocore Config has no verify": (
        'from botocore.config import Config\ncfg = Config(client_cert="/etc/c.pem", proxies_config={"proxy_ca_bundle": "/p.pem"})\n'
        '# verify\n', []),
}


@pytest.mark.parametrize("code,expected", PYTHON_CASES.values(), ids=PYTHON_CASES.keys())
def test_python_calls(tmp_path, code, expected):
    write(tmp_path / "app.py", code)
    report = scan_json(tmp_path)
    found = sorted((c["line"], c["details"]["effect"], c["details"].get("value"), c["details"]["call"])
                   for c in settings(report, tmp_path))
    assert found == expected
    assert report["errors"] == []


SCRIPT_CASES = {
    "continuation: the line of aws": ("deploy.sh", """\
        #!/bin/sh
        aws s3 cp build/ s3://bucket/ \\
            --recursive \\
            --no-verify-ssl
        """, [(2, "--no-verify-ssl", None)]),
    "CRLF continuation": ("deploy.sh", b"aws s3 ls \\\r\n  --ca-bundle /c.pem\r\n", [(1, "--ca-bundle", "/c.pem")]),
    "comments do not count": ("deploy.sh", """\
        # aws s3 ls --no-verify-ssl
        echo "# not a comment" && aws s3 ls --no-verify-ssl  # but this is: --ca-bundle /x.pem
        aws s3 cp a b \\
        #  --no-verify-ssl
        """, [(2, "--no-verify-ssl", None)]),
    "other commands and reads of the variable": ("ci.sh", """\
        ./other-tool --no-verify-ssl
        aws-vault exec prod -- aws s3 ls --no-verify-ssl
        cat /etc/aws/config && curl --cacert /x.pem https://example.com
        echo "$AWS_CA_BUNDLE" "${AWS_CA_BUNDLE:-none}"
        unset AWS_CA_BUNDLE
        """, [(2, "--no-verify-ssl", None)]),
    "variable set for one command, and by aws configure": ("setup.bash", """\
        AWS_CA_BUNDLE=/etc/corp.pem aws s3 ls
        aws configure set default.ca_bundle "/etc/corp root.pem"
        """, [(1, "AWS_CA_BUNDLE", "/etc/corp.pem"), (2, "ca_bundle", "/etc/corp root.pem")]),
    "GitLab CI list": (".gitlab-ci.yml", """\
        deploy:
          variables:
            AWS_CA_BUNDLE: ${CI_PROJECT_DIR}/certs/corp.pem
          script:
            - aws s3 sync public/ s3://site --no-verify-ssl
        """, [(3, "AWS_CA_BUNDLE", "${CI_PROJECT_DIR}/certs/corp.pem"), (5, "--no-verify-ssl", None)]),
    "GitHub Actions secret": (".github/workflows/ci.yaml", """\
        env:
          AWS_CA_BUNDLE: ${{ secrets.CA_BUNDLE_PATH }}
        """, [(2, "AWS_CA_BUNDLE", "${{ secrets.CA_BUNDLE_PATH }}")]),
    "Jenkinsfile": ("Jenkinsfile", """\
        pipeline { agent any; stages { stage('up') { steps {
            // sh 'aws s3 ls --no-verify-ssl'
            sh 'aws s3 cp dist s3://b --recursive --no-verify-ssl'
        } } } }
        """, [(3, "--no-verify-ssl", None)]),
    "Makefile recipe": ("Makefile", "up:\n\t-aws s3 cp x s3://b --ca-bundle=$(CA)\n", [(2, "--ca-bundle", "$(CA)")]),
    "Dockerfile ENV and RUN": ("Dockerfile.prod", """\
        FROM amazon/aws-cli
        ENV AWS_REGION=eu-west-1 AWS_CA_BUNDLE=/certs/corp.pem
        RUN aws s3 cp s3://b/seed.json /seed.json \\
              --no-verify-ssl
        """, [(2, "AWS_CA_BUNDLE", "/certs/corp.pem"), (3, "--no-verify-ssl", None)]),
    "PowerShell backtick continuation": ("sync.ps1", """\
        aws s3 sync . s3://b `
            --no-verify-ssl
        """, [(1, "--no-verify-ssl", None)]),
    "a yml outside CI folders is not read": ("config/app.yml", "run: aws s3 ls --no-verify-ssl\n", []),
}


@pytest.mark.parametrize("name,text,expected", SCRIPT_CASES.values(), ids=SCRIPT_CASES.keys())
def test_scripts(tmp_path, name, text, expected):
    write(tmp_path / name, text)
    found = sorted((c["line"], c["name"], c["details"].get("value")) for c in settings(scan_json(tmp_path), tmp_path))
    assert found == expected


def test_undecodable_python_is_an_error_not_a_crash(tmp_path):
    write(tmp_path / "latin.py", "import boto3\n# équipe\ns3 = boto3.client('s3', verify=False)\n", encoding="latin-1")
    write(tmp_path / "cookie.py", "# coding: no-such-codec\nimport boto3\nboto3.client('s3', verify=False)\n")
    report = scan_json(tmp_path)
    assert settings(report, tmp_path) == []
    assert sorted(Path(e["location"]).name for e in report["errors"]) == ["cookie.py", "latin.py"]
    assert all("cannot decode the source" in e["message"] for e in report["errors"])


def test_a_source_file_over_the_cap_is_not_read(tmp_path):
    write(tmp_path / "generated.py", b"import boto3\nboto3.client('s3', verify=False)\n" + b"#" * (2 * 1024 * 1024))
    (error,) = scan_json(tmp_path)["errors"]
    assert "over the 2097152-byte limit" in error["message"]


def test_a_lambda_bundle_reports_its_handler_not_its_sdk(tmp_path):
    write(tmp_path / "bundle" / "boto3-1.35.0.dist-info" / "METADATA", "Metadata-Version: 2.1\nName: boto3\nVersion: 1.35.0\n")
    write(tmp_path / "bundle" / "boto3" / "session.py", "import botocore\nclient = boto3.client('s3', verify=False)\n")
    write(tmp_path / "bundle" / "lambda_function.py", "import boto3\nddb = boto3.resource('dynamodb', verify=False)\n")
    report = scan_json(tmp_path)
    assert [(c["file"], c["line"]) for c in settings(report, tmp_path)] == [("bundle/lambda_function.py", 2)]


def test_sdk_code_in_installed_environments_is_never_reported():
    report = scan_json(ENVS)
    assert [c for c in report["components"] if "found_in" in c.get("details", {})] == []


def test_a_symlink_out_of_the_target_is_not_followed(tmp_path):
    outside = write(tmp_path / "outside" / "deploy.sh", "aws s3 ls --no-verify-ssl\n")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "deploy.sh").symlink_to(outside)
    report = scan_json(tmp_path / "repo")
    assert settings(report, tmp_path / "repo") == []
    assert "leaves the scanned target" in report["errors"][0]["message"]


def test_settings_from_the_environment_are_judged_like_those_in_code(tmp_path):
    """AWS_CA_BUNDLE given with --env-file, beside a botocore that reads it: medium for a custom bundle, info when it
    names the OS bundle itself."""
    import shutil

    shutil.copytree(ENVS / "trust" / "botocore-1.35.0" / "site-packages", tmp_path / "tree" / "site-packages")
    report = scan_json(tmp_path / "tree", "--env-file", write(tmp_path / "service.env", "AWS_CA_BUNDLE=/etc/ssl/corp.pem\n"))
    (variable,) = [c for c in report["components"] if c["kind"] == "trust-config"]
    assert (variable["source"], variable["details"]["found_in"]) == ("environment variable", "environment")
    assert [(f["rule"], f["severity"]) for f in report["findings"] if f["component"] == variable["id"]] == [
        ("ats-custom-bundle", "medium")]
    if not os.path.isfile("/etc/ssl/certs/ca-certificates.crt"):
        return
    report = scan_json(tmp_path / "tree", "--env-file",
                       write(tmp_path / "os.env", "AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt\n"))
    (variable,) = [c for c in report["components"] if c["kind"] == "trust-config"]
    (finding,) = [f for f in report["findings"] if f["component"] == variable["id"]]
    assert (finding["rule"], finding["severity"]) == ("ats-custom-bundle", "info")
    assert any("operating system's own bundle" in e["summary"] for e in finding["evidence"])
    assert finding["remediation"].startswith("Nothing to change")
