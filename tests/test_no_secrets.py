"""No secret reaches any output. Credentials are planted where real machines keep them (requirement URLs,
index URLs of requirements files and lockfiles, proxy variables, AWS and boto config files, env files, the
process environment, scripts and code that also set a CA bundle, file names, the command line), then every
command is run in every format (auditor.report.FORMATS, so a new format is covered without a change here)
and no secret may appear on standard output, standard error or in the --output file."""

import json
import re
import shutil
import string
import textwrap
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tls_servers
from auditor.collect.config.environ import load_env_files
from auditor.report import FORMATS
from auditor.checks.rules import select_packs
from auditor.runs.scan import ScanOptions, run as run_scan
from auditor.redact import redact
from conftest import ENVS, Result, run
from fuzzing import fuzz
from tls_servers import HOST, Peers

# Each secret is unique, so a failure names the place it leaked from.
SECRETS = {
    "github token in a VCS requirement": "ghp_dHu4xGAoZYX7j3sDOvWGp4fMeRXtm1ChHO4p",
    "--index-url password": "Idx-pW-aaanVKyFqV9n",
    "--extra-index-url pypi token": "pypi-AgEIcHlwaS5vcmcCJOMbBJL2Y4Y5QTo2OsOjgR297eyX8zxND1MOF4EFxGmXHv8AZ",
    "requirements -i password in an include": "Inc-pW-36A4SmZmj5XU",
    "?token= of a wheel URL": "tok-517366cdcf1ba1cde11d",
    "X-Amz-Signature of a presigned URL": "f51cf198d4af1124d30269bfb42bc7ec02e5f2a25212efcef3c4647d7e4a9668",
    "X-Amz-Security-Token of a presigned URL": "IQoJU8JZpDE0iGXlD6gNCFbaEPFjbD0kH8Oool8DklZDOCj2ISaJiHkTj0rLGlkoMXGjtEkDnNfr",
    "password in a malformed requirement": "Bad-Req-pW-LUIRlt28USpn",
    "poetry.lock source password": "Po3try-pW-5omMtifjyeak",
    "uv.lock registry password": "Uv-pW-R1JWf3KvHPDA",
    "uv.lock git token": "glpat-cBeJQUAZKRTqIxcmcGlV",
    "Pipfile.lock source password": "Pipenv-pW-8wDeUHhKzNA7",
    "HTTPS_PROXY password": "Pr0xy-Env-pW-RJnMPfbWfka0",
    "https_proxy password": "Pr0xy-lower-pW-SAYayJ626hQW",
    "HTTP_PROXY password": "Pr0xy-http-pW-zgXOMrxkDAOn",
    "ALL_PROXY password": "Pr0xy-all-pW-ltaFMLkJ4HQO",
    "env-file HTTPS_PROXY password": "Pr0xy-File-pW-GfSpkhlAzdf0",
    "aws_access_key_id": "AKIAYLZGDQNF6ZN3UW36",
    "aws_secret_access_key": "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",
    "aws_session_token": "IQoJwjky40UVsWmflzdE1F8ResqEDusTpkr0cStY4qWB8dWKnHfDNxSIvPZZ63fFKcZjR4I0b3jR",
    "profile secret in ~/.aws/config": "taWr4/9OJFLJOqOAf1lLQSAJaiX+kU8Is2g8nprv",
    "secret on a malformed ~/.aws/config line": "EhTD3X87DYtLqmzGKlyKpFkHUnwH+AWFgh6UNbaK",
    "secret on a malformed credentials line": "53x83rzjZZZ/GeoZDMENcK+VmDGAkJiG8XnBE3Nn",
    "boto [Credentials] secret": "oQ9WmXeHH/fdeeTFJGvVvQe1sKhBN8+hXJsi6Bwh",
    "secret on a malformed boto line": "3Fs2QhX6K/xOiixgVoOnzyw2MzP+ZvzOMhfWuBBy",
    "env-file AWS_SECRET_ACCESS_KEY": "QMsm9Wcz7uW9XFOG/eMVNen5n1Ae6pWz+F1qH6Yy",
    "env-file AWS_SESSION_TOKEN": "IQoJMe4LbyoVFz8uZdZv8FuKKIBJl5dzpJn0meq7WJjjIBAzupGhv7Ib3M03NBQNSgPwlUQia1ID",
    "process AWS_SECRET_ACCESS_KEY": "6vW5dql05ha06/gIiJhgB3cxLmAx+JLJenuHjDUr",
    "process AWS_SESSION_TOKEN": "IQoJjeyxG4jDPMRCxGgcjBw56EcUngmgMsRcgizeg8Psh4487Q7j58M1cIaHZcUEqPbENqTyH5xJ",
    "secret in a script that sets AWS_CA_BUNDLE": "GraBRCjqeJg9+29deUaGjIRIDej0sxdoZaj5EDPx",
    "curl password in a script that sets AWS_CA_BUNDLE": "Curl-pW-LvJBfaKTfZwK",
    "proxy password in a script": "Pr0xy-Script-pW-ufSSqRqIfKFb",
    "secret in a boto3.client call with verify=False": "8tpqXJQ4I9dOv8GZ/fKq+OKtbgZVaMWUFuXBVjdc",
    "session token in a boto3.client call": "IQoJYVhnSg9EH6yO4GFQRC5xLRwI0b26r08QZJi6gkfsUFRDzsLb5ER8BoFzQFm2OEQ3HdAVja76",
    "secret in a Python 2 file": "RnIChtP8/KQDLM7ToThwNScgrLRWzBQCAB+gjMge",
    "aws configure set secret in a script": "cGq0pbqfi14ZgTs/OVM14tuoIZWD1IAEo+4QbKDF",
    "X-Amz-Signature in a file name": "3f8e93117ccb2a18a7413d679123db258cf9369605daee3b983f4bde709f8058",
    "JAVA_TOOL_OPTIONS trustStorePassword": "Tsp-pW-q8Vn3KcJ7wXe",
    "JAVA_TOOL_OPTIONS keyStorePassword": "Ksp-pW-Lm4Rt9ZyB2sd",
    "token in a target URL": "ghp_CFiOXr2pcUiQOhiQkPwBRMM2USrY4UvTe5Hu",
    # on script and code lines that also set a CA bundle or verify=
    "proxy password with a /": "Sl4sh/Pr0xy-pW-Hk2nQ",
    "MYSQL_PWD": "My-Pwd-9fKq2LxZ",
    "Authorization: Bearer": "eyJhbGciOiJIUzI1NiJ9.Bearer-7Tq9wX",
    "curl --user password": "CurlUser-pW-4Rt8",
    "sshpass -p password": "Sshpass-pW-8uYt3",
    "mysql -p password": "Mysql-pW-3eRt7Y",
    "--sse-c-key": "SseC-Key-0123456789abcdef01234567",
    "npm auth token": "npm_Q8wErTyUiOp1aSdFgHjKlZxCvBnM2q3W",
    "npm _auth": "ZGVwbG95OmF1dGgtcFctN3FK",
    "Slack webhook": "Sl4ckW3bh00kS3cr3tXyZ12",
    "X-Api-Key header": "ApiKey-hdr-6yHn3Ju",
    "docker login -p password": "Docker-pW-7uJm2Kl",
    "positional aws_secret_access_key": "Positional/SecretKey+5rFv8TgB6yHn",
    "parenthesised aws_secret_access_key literal": "Concat-second-part-2KdLp",
    "scheme-less proxy in a proxies dict": "Dict-Proxy-pW-5tGb",
}
ACCESS_KEY_ID = SECRETS["aws_access_key_id"]
ALL_FORMATS = tuple(FORMATS)
WINDOW = 10


def leaked(*texts: str, secrets: dict = SECRETS) -> list[str]:
    """The names of the secrets of which any 10 characters in a row are in one of the texts: a secret split
    over two lines of a wrapped table cell, or escaped in part (Markdown's \\_), still counts."""
    seen = {text[i:i + WINDOW] for text in texts for i in range(len(text) - WINDOW + 1)}
    return [name for name, secret in secrets.items()
            if any(secret[i:i + WINDOW] in seen for i in range(len(secret) - WINDOW + 1))]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def plant_project(top: Path) -> Path:
    """A service's checkout: a virtualenv, lockfiles with private indexes, scripts and code."""
    s = SECRETS
    venv = top / ".venv"
    shutil.copytree(ENVS / "trust" / "botocore-1.35.0" / "site-packages", venv / "lib" / "python3.11" / "site-packages")
    write(venv / "pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.9\n")
    write(top / "requirements.txt", f"""
        --index-url https://deploy:{s['--index-url password']}@pypi.corp.example/simple
        --extra-index-url=https://__token__:{s['--extra-index-url pypi token']}@upload.pypi.example/simple
        -r requirements-base.txt
        -r https://ci:{s['requirements -i password in an include']}@config.corp.example/requirements-extra.txt
        boto3 @ git+https://x-access-token:{s['github token in a VCS requirement']}@github.com/corp/boto3.git@1.4.0
        botocore @ https://artifacts.corp.example/botocore-0.21.0.tar.gz?token={s['?token= of a wheel URL']}
        awscli @ https://corp-wheels.s3.amazonaws.com/awscli-1.2.1.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={ACCESS_KEY_ID}%2F20261128%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token={s['X-Amz-Security-Token of a presigned URL']}&X-Amz-Signature={s['X-Amz-Signature of a presigned URL']}
        s3transfer @ https://ci:{s['password in a malformed requirement']}@pypi.corp.example/s3transfer-0.1.0.whl ; python_version <
        """)
    write(top / "requirements-base.txt", f"""
        -i https://reader:{s['--index-url password']}@pypi.corp.example/simple
        boto==2.9.0
        """)
    write(top / "locked" / "poetry" / "poetry.lock", f"""
        # This file is automatically @generated by Poetry 2.5.1 and should not be changed by hand.

        [[package]]
        name = "botocore"
        version = "0.21.0"
        description = "Low-level, data-driven core of boto 3."
        optional = false
        python-versions = "*"
        groups = ["main"]
        files = [
            {{file = "botocore-0.21.0.tar.gz", hash = "sha256:955cf87f2d4be9e9dfad2576279c27f8dcf4ece55868244416853cf72e66ee70"}},
        ]

        [package.source]
        type = "legacy"
        url = "https://ci:{s['poetry.lock source password']}@pypi.corp.example/simple"
        reference = "corp"

        [metadata]
        lock-version = "2.1"
        python-versions = ">=3.9"
        content-hash = "0c4f1b8e2a5d7f9b1c3e5a7d9f1b3c5e7a9d1f3b5c7e9a1d3f5b7c9e1a3d5f7b"
        """)
    write(top / "locked" / "uv" / "uv.lock", f"""
        version = 1
        revision = 5
        requires-python = ">=3.9"

        [[package]]
        name = "botocore"
        version = "0.21.0"
        source = {{ registry = "https://uv:{s['uv.lock registry password']}@pypi.corp.example/simple" }}
        sdist = {{ url = "https://pypi.corp.example/packages/botocore-0.21.0.tar.gz", hash = "sha256:955cf87f2d4be9e9dfad2576279c27f8dcf4ece55868244416853cf72e66ee70", size = 1000 }}

        [[package]]
        name = "boto"
        version = "2.9.0"
        source = {{ git = "https://oauth2:{s['uv.lock git token']}@gitlab.corp.example/mirrors/boto?tag=2.9.0#b09cb5a39cb6a1e2c3d4e5f60718293a4b5c6d7e" }}
        """)
    write(top / "locked" / "pipenv" / "Pipfile.lock", json.dumps({
        "_meta": {"hash": {"sha256": "72ffad1f10cb10e4e3e64e62180fc6780ab4f009ae1d3b4ad1a3e5defe721c8a"},
                  "pipfile-spec": 6, "requires": {"python_version": "3.11"},
                  "sources": [{"name": "corp", "url": f"https://pipenv:{s['Pipfile.lock source password']}@pypi.corp.example/simple",
                               "verify_ssl": True}]},
        "default": {"botocore": {"hashes": ["sha256:955cf87f2d4be9e9dfad2576279c27f8dcf4ece55868244416853cf72e66ee70"],
                                 "index": "corp", "version": "==0.21.0"},
                    "boto": {"git": f"https://x-access-token:{s['github token in a VCS requirement']}@github.com/corp/boto.git",
                             "ref": "2.9.0"}},
        "develop": {}}, indent=4))
    write(top / "scripts" / "deploy.sh", f"""
        #!/bin/sh
        set -eu
        export AWS_CA_BUNDLE=/etc/pki/corp.pem AWS_SECRET_ACCESS_KEY={s['secret in a script that sets AWS_CA_BUNDLE']}
        curl -fsS -u deploy:{s['curl password in a script that sets AWS_CA_BUNDLE']} https://vault.corp.example/ca.pem -o /tmp/ca.pem; AWS_CA_BUNDLE=/tmp/ca.pem aws s3 ls
        HTTPS_PROXY=deploy:{s['proxy password in a script']}@proxy.corp.example:3128 aws s3 sync build/ s3://corp-site --no-verify-ssl
        aws configure set aws_secret_access_key {s['aws configure set secret in a script']} && aws configure set ca_bundle /etc/pki/corp.pem
        """)
    write(top / "scripts" / "ops.sh", f"""
        #!/bin/bash
        AWS_CA_BUNDLE=/etc/pki/corp.pem http_proxy=http://ops:{s['proxy password with a /']}@proxy.corp.example:3128 aws s3 ls
        export AWS_CA_BUNDLE=/etc/pki/corp.pem MYSQL_PWD={s['MYSQL_PWD']}
        AWS_CA_BUNDLE=/etc/pki/corp.pem curl -fsS -H "Authorization: Bearer {s['Authorization: Bearer']}" https://vault.corp.example/v1/ca
        AWS_CA_BUNDLE=/etc/pki/corp.pem curl -fsS --user deploy:{s['curl --user password']} https://vault.corp.example/v1/ca
        sshpass -p {s['sshpass -p password']} ssh deploy@bastion.corp.example AWS_CA_BUNDLE=/etc/pki/corp.pem aws s3 ls
        AWS_CA_BUNDLE=/etc/pki/corp.pem mysql -h db.corp.example -u app -p{s['mysql -p password']} corp < dump.sql
        aws s3 cp backup.tar s3://corp-backups/ --sse-c AES256 --sse-c-key {s['--sse-c-key']} --ca-bundle /etc/pki/corp.pem
        AWS_CA_BUNDLE=/etc/pki/corp.pem npm config set //registry.npmjs.org/:_authToken {s['npm auth token']}
        AWS_CA_BUNDLE=/etc/pki/corp.pem npm publish --//npm.corp.example/:_auth={s['npm _auth']}
        export AWS_CA_BUNDLE=/etc/pki/corp.pem SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/{s['Slack webhook']}
        AWS_CA_BUNDLE=/etc/pki/corp.pem curl -H "X-Api-Key: {s['X-Api-Key header']}" https://api.corp.example/ca.pem
        AWS_CA_BUNDLE=/etc/pki/corp.pem docker login -u corp -p {s['docker login -p password']} registry.corp.example
        """)
    write(top / "app" / "storage.py", f"""
        import boto3
        from botocore.config import Config

        archive = boto3.client("s3", "eu-west-3", None, True, False, None, "{ACCESS_KEY_ID}", "{s['positional aws_secret_access_key']}")
        backups = boto3.client(
            "s3",
            aws_secret_access_key=("Concat-first-part-8HjWq"
                                   "{s['parenthesised aws_secret_access_key literal']}"),
            verify="/etc/pki/corp.pem",
        )
        proxied = boto3.client("s3", config=Config(proxies={{"https": "svc:{s['scheme-less proxy in a proxies dict']}@proxy.corp.example:3128"}}), verify="/etc/pki/corp.pem")
        """)
    write(top / "app" / "clients.py", f"""
        import boto3

        s3 = boto3.client(
            "s3",
            aws_access_key_id="{ACCESS_KEY_ID}",
            aws_secret_access_key="{s['secret in a boto3.client call with verify=False']}",
            aws_session_token='{s['session token in a boto3.client call']}',
            verify=False,
        )
        """)
    write(top / "app" / "legacy.py", f"""
        import boto3
        print "exporting"
        conn = boto3.client('s3', aws_secret_access_key='{s['secret in a Python 2 file']}', verify=False)
        """)
    return top


def plant_home(home: Path) -> Path:
    """~/.aws/config, ~/.aws/credentials and ~/.boto as `aws configure` and boto users write them, with a
    ca_bundle (so the files are read and reported) and lines that are not valid INI."""
    s = SECRETS
    write(home / ".aws" / "config", f"""
        [default]
        region = eu-west-3
        ca_bundle = /etc/pki/corp-config.pem
        aws_access_key_id = {ACCESS_KEY_ID}
        aws_secret_access_key = {s['aws_secret_access_key']}
        aws_session_token = {s['aws_session_token']}

        [profile prod]
        aws_secret_access_key={s['profile secret in ~/.aws/config']}
        ca_bundle = /etc/pki/corp-prod.pem
        aws_secret_access_key {s['secret on a malformed ~/.aws/config line']}
        [profile broken aws_secret_access_key={s['secret on a malformed ~/.aws/config line']}
          s3 =
            addressing_style = path
        """)
    write(home / ".aws" / "credentials", f"""
        [default]
        aws_access_key_id = {ACCESS_KEY_ID}
        aws_secret_access_key = {s['aws_secret_access_key']}
        aws_session_token = {s['aws_session_token']}
        {s['secret on a malformed credentials line']}
        """)
    write(home / ".boto", f"""
        [Credentials]
        aws_access_key_id = {ACCESS_KEY_ID}
        aws_secret_access_key = {s['boto [Credentials] secret']}

        [Boto]
        ca_certificates_file = /etc/pki/corp-boto.pem
        https_validate_certificates = False
        proxy_pass {s['secret on a malformed boto line']}
        """)
    return home


def env_lines(home: Path) -> str:
    s = SECRETS
    return textwrap.dedent(f"""
        # service environment, as systemd's EnvironmentFile= reads it
        HOME={home}
        AWS_PROFILE=prod
        AWS_ACCESS_KEY_ID={ACCESS_KEY_ID}
        export AWS_SECRET_ACCESS_KEY="{s['env-file AWS_SECRET_ACCESS_KEY']}"
        AWS_SESSION_TOKEN='{s['env-file AWS_SESSION_TOKEN']}'
        HTTPS_PROXY=http://svc:{s['env-file HTTPS_PROXY password']}@proxy.corp.example:3128
        https_proxy=svc:{s['env-file HTTPS_PROXY password']}@proxy.corp.example:3128
        ALL_PROXY=socks5h://svc:{s['env-file HTTPS_PROXY password']}@proxy.corp.example:1080
        AWS_CA_BUNDLE=/etc/pki/corp-env.pem
        BOTO_CONFIG={home}/.boto
        JAVA_TOOL_OPTIONS="-Djavax.net.ssl.trustStore=/etc/pki/corp.p12 -Djavax.net.ssl.trustStorePassword={s['JAVA_TOOL_OPTIONS trustStorePassword']} -Djavax.net.ssl.keyStorePassword={s['JAVA_TOOL_OPTIONS keyStorePassword']}"
        """)


def process_environment(monkeypatch, home: Path) -> None:
    s = SECRETS
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s["process AWS_SECRET_ACCESS_KEY"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", s["process AWS_SESSION_TOKEN"])
    monkeypatch.setenv("HTTPS_PROXY", f"http://ops:{s['HTTPS_PROXY password']}@proxy.corp.example:3128")
    monkeypatch.setenv("https_proxy", f"http://ops:{s['https_proxy password']}@proxy.corp.example:3128")
    monkeypatch.setenv("HTTP_PROXY", f"http://ops:{s['HTTP_PROXY password']}@proxy.corp.example:3128")
    monkeypatch.setenv("ALL_PROXY", f"socks5://ops:{s['ALL_PROXY password']}@proxy.corp.example:1080")
    monkeypatch.setenv("AWS_CA_BUNDLE", "/etc/pki/corp-process.pem")
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", "-Djavax.net.ssl.trustStore=/etc/pki/corp.jks "
                                            f"-Djavax.net.ssl.trustStorePassword={s['JAVA_TOOL_OPTIONS trustStorePassword']}")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    work = tmp_path_factory.mktemp("planted")
    project = plant_project(work / "service")
    home = plant_home(work / "home")
    env = write(work / "service.env", env_lines(home))
    # A requirements file saved from a presigned S3 URL keeps the query in its name (wget does this).
    signed_name = work / f"requirements.txt?X-Amz-Signature={SECRETS['X-Amz-Signature in a file name']}"
    signed_name.write_text("botocore==0.21.0\n")
    return {"work": work, "project": project, "home": home, "env": env, "signed": signed_name}


def check_every_format(args: list, tmp_path: Path, expect=(0, 1), secrets: dict = SECRETS) -> dict[str, Result]:
    """Run the command in every format, to standard output and to --output; no secret anywhere."""
    results = {}
    for fmt in ALL_FORMATS:
        shown = run(*args, "--format", fmt)
        out = tmp_path / f"out.{fmt}"
        written = run(*args, "--format", fmt, "--output", out)
        assert shown.code in expect and written.code == shown.code, (fmt, shown.err)
        assert leaked(shown.out, shown.err, written.out, written.err, out.read_text(), secrets=secrets) == [], fmt
        results[fmt] = shown
    return results


def test_scan_of_targets_with_the_secrets_of_the_process_environment(planted, tmp_path, monkeypatch):
    process_environment(monkeypatch, planted["home"])
    results = check_every_format(["scan", planted["project"], planted["signed"]], tmp_path)
    data = results["json"].json
    # The places that hold the secrets were read, and what is reported of them is masked, not dropped.
    details = {(c["name"], c["location"].rsplit("/", 1)[-1]): c["details"] for c in data["components"]}
    # A statement is the setting and its value, with the call or command that makes it: not the rest of the line.
    assert details["verify", "clients.py"]["statement"] == 'boto3.client("s3", …, verify=False)'
    assert details["verify", "legacy.py"]["statement"] == "boto3.client(…, verify=False)"
    assert {c["details"]["statement"] for c in data["components"] if c["location"].endswith("deploy.sh")} == {
        "AWS_CA_BUNDLE=/etc/pki/corp.pem", "AWS_CA_BUNDLE=/tmp/ca.pem", "aws s3 sync … --no-verify-ssl",
        "aws configure set ca_bundle /etc/pki/corp.pem"}
    ops = [c["details"]["statement"] for c in data["components"] if c["location"].endswith("ops.sh")]
    assert ops == ["AWS_CA_BUNDLE=/etc/pki/corp.pem"] * 6 + ["aws s3 cp … --ca-bundle /etc/pki/corp.pem"] \
        + ["AWS_CA_BUNDLE=/etc/pki/corp.pem"] * 5
    assert sorted((c["line"], c["details"]["statement"]) for c in data["components"] if c["location"].endswith("storage.py")) == [
        (4, 'boto3.client("s3", "eu-west-3", None, True, False, …)'),
        (5, 'boto3.client("s3", …, verify="/etc/pki/corp.pem")'), (11, 'boto3.client("s3", …, verify="/etc/pki/corp.pem")')]
    assert details["botocore", "poetry.lock"]["source"]["url"] == "https://***@pypi.corp.example/simple"
    assert details["boto", "uv.lock"]["source"]["git"].startswith("https://***@gitlab.corp.example/mirrors/boto?tag=2.9.0#")
    assert details["awscli", "requirements.txt"]["url"].endswith("X-Amz-Credential=***&X-Amz-Security-Token=***&X-Amz-Signature=***")
    assert details["botocore", "requirements.txt?X-Amz-Signature=***"]["specifier"] == "==0.21.0"
    assert details["ca_certificates_file", ".boto"]["value"] == "/etc/pki/corp-boto.pem"
    assert {"ca_bundle [default]", "ca_bundle [prod]"} <= {name for name, _ in details}
    assert details["AWS_CA_BUNDLE", "environment (the scanning process's environment)"]["value"] == "/etc/pki/corp-process.pem"
    errors = [e["message"] for e in data["errors"]]
    assert "line 8: invalid requirement 's3transfer @ https://***@pypi.corp.example/s3transfer-0.1.0.whl ; python_version <'" \
        in "\n".join(errors)
    assert any("include https://***@config.corp.example/requirements-extra.txt is remote" in m for m in errors)


def test_scan_with_an_env_file(planted, tmp_path, monkeypatch):
    process_environment(monkeypatch, planted["home"])
    results = check_every_format(["scan", planted["project"], "--env-file", planted["env"]], tmp_path)
    text = results["json"].out
    assert "/etc/pki/corp-env.pem" in text and "/etc/pki/corp-boto.pem" in text


def test_scan_of_an_image_root(planted, tmp_path):
    image = tmp_path / "image"
    write(image / "etc" / "os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                                         'VERSION_ID="12"\nID=debian\n')
    write(image / "etc" / "debian_version", "12.11\n")
    shutil.copytree(ENVS / "trust" / "debian-bookworm" / "usr", image / "usr")
    plant_home(image / "root")
    shutil.copytree(planted["project"], image / "srv" / "service", symlinks=True)
    write(image / "etc" / "boto.cfg", (planted["home"] / ".boto").read_text())
    jdk = image / "usr" / "lib" / "jvm" / "java-17-openjdk-amd64"
    write(jdk / "release", 'IMPLEMENTOR="Debian"\nJAVA_VERSION="17.0.15"\n')
    write(jdk / "bin" / "java", "")
    write(jdk / "lib" / "security" / "cacerts", (ENVS / "trust" / "botocore-1.35.0" / "site-packages" / "certifi" / "cacert.pem").read_text())
    env = write(tmp_path / "image.env", env_lines(Path("/root")))
    check_every_format(["scan", "--root", image], tmp_path)
    results = check_every_format(["scan", "--root", image, "--env-file", env], tmp_path)
    data = results["json"].json
    assert "/etc/pki/corp-env.pem" in results["json"].out
    java = [c for c in data["components"] if c["kind"] == "java"]
    # the env file's Java options were read: they name a file the image lacks, which Java 17 skips for its cacerts
    assert java and java[0]["details"]["trust_store"] == "/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts"
    assert java[0]["details"]["trust_reasons"][0].startswith("-Djavax.net.ssl.trustStore=/etc/pki/corp.p12 ")


@pytest.mark.parametrize("line", [
    f"AWS_SECRET_ACCESS_KEY: {SECRETS['env-file AWS_SECRET_ACCESS_KEY']}",  # YAML, not KEY=value
    f"{SECRETS['env-file AWS_SECRET_ACCESS_KEY']}",
    f"export AWS_SESSION_TOKEN {SECRETS['env-file AWS_SESSION_TOKEN']}",
    f"https://svc:{SECRETS['env-file HTTPS_PROXY password']}@proxy.corp.example:3128",
])
def test_a_malformed_env_file_line_is_an_error_that_does_not_quote_it(planted, tmp_path, line):
    env = write(tmp_path / "bad.env", f"HOME={planted['home']}\n{line}\n")
    result = run("scan", planted["project"], "--env-file", env)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(f"auditor: error: --env-file {env}:2: ")
    assert leaked(result.err) == []


def test_a_target_that_is_a_url_with_a_token(planted):
    url = f"https://x-access-token:{SECRETS['token in a target URL']}@raw.githubusercontent.com/corp/app/main/requirements.txt"
    result = run("scan", url)
    assert result.code == 2 and "nothing could be scanned" in result.err
    assert leaked(result.out, result.err) == []


# -- saved reports -------------------------------------------------------------------------------

def unredacted_report(planted, tmp_path) -> Path:
    """A JSON report holding every secret the scan saw, as an auditor that did not redact would have saved it:
    `report render|merge|diff` must redact what they read."""
    options = ScanOptions([str(planted["project"])], select_packs([]),
                          environ=load_env_files([str(planted["env"])]))
    report = run_scan(options)
    for component in report.components:  # scripts' whole lines, as statements were kept before they were cut down
        if component.kind == "trust-config" and component.location.endswith(".sh"):
            lines = Path(component.location).read_text().splitlines()
            component.details["statement"] = lines[component.line - 1]
    report.run["command"] = ["auditor", "scan", str(planted["project"]), "--env-file", str(planted["env"]),
                             f"--index-url=https://deploy:{SECRETS['--index-url password']}@pypi.corp.example/simple"]
    path = tmp_path / "unredacted.json"
    path.write_text(json.dumps(report.to_dict(), indent=2))
    return path


def test_report_render_merge_and_diff_of_saved_reports(planted, tmp_path):
    saved = unredacted_report(planted, tmp_path)
    assert len(leaked(saved.read_text())) >= 15  # the saved file really carries secrets
    other = tmp_path / "other.json"
    assert run("scan", "-q", ENVS / "py3-old-botocore", "--format", "json", "-o", other).code == 1
    check_every_format(["report", "render", saved], tmp_path)
    check_every_format(["report", "merge", saved, other], tmp_path)
    for fmt in ("table", "json", "markdown"):
        for before, after in ((saved, other), (other, saved)):
            result = run("report", "diff", before, after, "--format", fmt)
            assert result.code in (0, 1) and leaked(result.out, result.err) == [], fmt


def test_a_saved_report_of_a_file_whose_name_holds_a_signature_reads_back(planted, tmp_path):
    saved = tmp_path / "signed.json"
    assert run("scan", "-q", planted["signed"], "--format", "json", "-o", saved).code == 1
    assert leaked(saved.read_text()) == []
    rendered = run("report", "render", saved, "--format", "json")
    assert rendered.code == 1 and rendered.out == saved.read_text()
    assert run("report", "merge", saved, saved, "--format", "csv").code == 1


# -- the command line ------------------------------------------------------------------------------

STOREPASS = "St0re-pW-ks-1a2b"


@pytest.mark.parametrize("argv", [
    ["truststore", "{store}", "--storepass", STOREPASS],
    ["truststore", "{store}", f"--storepass={STOREPASS}"],
    ["probe", "127.0.0.1:9", "--connect-to", "127.0.0.1:{closed}", "--truststore", "{store}", "--storepass", STOREPASS,
     "--timeout", "0.5"],
])
def test_the_command_line_in_the_report_masks_passwords(argv, tmp_path):
    store = tmp_path / "cacerts.pem"
    store.write_bytes((ENVS / "trust" / "botocore-1.35.0" / "site-packages" / "certifi" / "cacert.pem").read_bytes())
    args = [a.format(store=store, closed=tls_servers.closed_port()) for a in argv]
    for fmt in ALL_FORMATS:
        result = run(*args, "--format", fmt)
        assert result.code in (0, 1), result.err
        assert STOREPASS not in result.out + result.err, fmt
    command = run(*args, "--format", "json").json["run"]["command"]
    shown = [{STOREPASS: "***", f"--storepass={STOREPASS}": "--storepass=***"}.get(a, a) for a in ["auditor", *args]]
    assert command == [*shown, "--format", "json"]


@pytest.mark.parametrize("argv", [
    ["scan", ".", "--storepass", STOREPASS],  # an option scan does not have
    ["truststore", "x.jks", f"--storepas={STOREPASS}"],  # an ambiguous abbreviation
    ["truststore", "x.jks", "--storepass", STOREPASS, "--storepass-env", "KS_PASS"],  # both
])
def test_usage_errors_do_not_echo_a_password(argv):
    result = run(*argv)
    assert result.code == 2 and STOREPASS not in result.out + result.err


# -- the probe, through a proxy that wants credentials ---------------------------------------------

no_proxy_settings, pki = tls_servers.no_proxy_settings, tls_servers.pki
PROXY_PASSWORDS = {"proxy password": "pr0xy-Basic-pW-Lk7dQ2", "a wrong proxy password": "wr0ng-pW-Zt4mX8rN",
                   "a proxy password with an unencoded @": "pr0xy@Basic-pW-Hq3vW9"}


@pytest.fixture(scope="module")
def peers(pki):
    with Peers() as running:
        running.ports = {"good": running.add_tls(pki.server_context())}
        yield running


@pytest.mark.parametrize("expected, given", [("proxy password", "proxy password"),
                                             ("proxy password", "a wrong proxy password"),
                                             ("a proxy password with an unencoded @", "a proxy password with an unencoded @")])
@pytest.mark.parametrize("template", ["http://alice:{password}@127.0.0.1:{port}", "alice:{password}@127.0.0.1:{port}"])
def test_probe_through_a_proxy_with_credentials(pki, peers, tmp_path, monkeypatch, expected, given, template):
    port = peers.add_proxy("alice", PROXY_PASSWORDS[expected])
    monkeypatch.setenv("HTTPS_PROXY", template.format(password=PROXY_PASSWORDS[given], port=port))
    args = ["probe", f"{HOST}:{peers.ports['good']}", "--ca-file", pki.store("amazon"), "--timeout", "2"]
    results = check_every_format(args, tmp_path, secrets=PROXY_PASSWORDS)
    (component,) = results["json"].json["components"]
    details = component["details"]
    assert details["outcome"] == ("pass" if expected == given else "error"), details.get("detail")
    assert details["proxy"] == f"http://***@127.0.0.1:{port}"


def test_probe_with_a_proxy_url_whose_password_holds_a_slash(pki, tmp_path, monkeypatch):
    secrets = {"proxy password with an unencoded /": "Pr0xyHalf-Rt5wE2/Kp9sLm4"}
    monkeypatch.setenv("HTTPS_PROXY", f"http://alice:{secrets['proxy password with an unencoded /']}@127.0.0.1:3128")
    args = ["probe", f"{HOST}:443", "--ca-file", pki.store("amazon"), "--timeout", "0.5"]
    results = check_every_format(args, tmp_path, secrets=secrets)
    assert results["json"].json["components"][0]["details"]["failure"] == "proxy-failed"


# -- the redaction itself, over generated lines ------------------------------------------------------

# The shapes of the secrets above, as lines of scripts and code write them; {s} is the secret. A secret given
# by position (boto3.client("s3", …, "AKIA…", "wJalr…")) has no shape: statements leave it out instead.
SHAPES = {
    "url": ["http_proxy=http://ops:{s}@proxy.corp.example:3128", "HTTPS_PROXY=http://ops:{s}@10.0.0.5:3128",
            "git clone https://oauth2:{s}@gitlab.corp.example/ops/ca.git"],
    "word": ['proxies={{"https": "svc:{s}@proxy.corp.example:3128"}}', "https_proxy=svc:{s}@proxy.corp.example:3128",
             "aws_secret_access_key={s}", 'aws_secret_access_key="{s}"', "aws_secret_access_key=b'{s}'",
             'aws_secret_access_key=("Concat-head" "{s}")', "AWS_SESSION_TOKEN: {s}", "MYSQL_PWD={s}",
             "PGPASSWORD='{s}'", 'curl -H "Authorization: Bearer {s}"', '{{"Authorization": "Basic {s}"}}',
             "curl --user deploy:{s}", "curl -fsS -u 'deploy:{s}'", "curl --proxy-user ops:{s}",
             "sshpass -p {s} ssh deploy@bastion.corp.example", "sshpass -p '{s}' scp ca.pem deploy@bastion:",
             "mysql -h db.corp.example -u app -p{s} corp", "aws s3 cp backup.tar s3://corp-backups/ --sse-c-key {s}",
             "npm config set //registry.npmjs.org/:_authToken {s}", "echo //npm.corp.example/:_authToken={s} >> .npmrc",
             "npm publish --//npm.corp.example/:_auth={s}", 'curl -H "X-Api-Key: {s}"', "docker login -u corp -p {s} registry.corp.example",
             "keytool -list -keystore corp.jks -storepass {s}", "aws configure set aws_secret_access_key {s}"],
    "alnum": ["SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/{s}", "NPM_TOKEN=npm_{s}",
              "//registry.npmjs.org/:_authToken=npm_{s}", "curl -d @msg.json https://discord.com/api/webhooks/1234567890/{s}"],
}
SHAPE_ALPHABETS = {"url": string.ascii_letters + string.digits + "-._~+=/!$*", "word": string.ascii_letters + string.digits + "-._~+=",
                   "alnum": string.ascii_letters + string.digits}
BEFORE = ["", "AWS_CA_BUNDLE=/etc/pki/corp.pem ", "export AWS_CA_BUNDLE=/etc/pki/corp.pem; ", "  - ", "RUN ",
          'boto3.client("s3", verify="/etc/pki/corp.pem", config=Config(']
AFTER = ["", " aws s3 ls --ca-bundle /etc/pki/corp.pem", " && aws s3 sync build/ s3://corp-site --no-verify-ssl", " # deploy",
         "), verify=False)", " `"]


@st.composite
def line_with_a_secret(draw) -> tuple[str, str]:
    kind = draw(st.sampled_from(sorted(SHAPES)))
    shape = draw(st.sampled_from(SHAPES[kind]))
    size = 36 if "npm_{s}" in shape else 12
    secret = draw(st.text(SHAPE_ALPHABETS[kind], min_size=size, max_size=size if size == 36 else 48)
                  .filter(lambda s: not re.match(r"\d*/", s)))  # a password starting "8443/" reads as a port and a path
    return draw(st.sampled_from(BEFORE)) + shape.format(s=secret) + draw(st.sampled_from(AFTER)), secret


@fuzz
@given(line_with_a_secret())
def test_redact_masks_every_shape_of_secret_on_a_line_that_sets_a_ca_bundle(case):
    line, secret = case
    assume(not leaked(line.replace(secret, ""), secrets={"": secret}))  # the secret is not also a part of the line
    shown = redact(line)
    assert leaked(shown, secrets={"": secret}) == [], shown
    assert redact(shown) == shown


# Words and marks the patterns look for, in several cases, and prose that only resembles them.
FRAGMENTS = ["secret", "SECRET", "pass", "Passwd", "password", "_pwd", "token", "credential", "signature", "storepass",
             "keypass", "access_key", "Access-Key", "api_key", "apikey", "private_key", "_auth", "Authorization", "auth",
             "Authority", "sig", "key", "config set ", "configure set ", "aws_secret_access_key", "bearer ", "Basic ",
             "-u", "--user", "-p", "sshpass", "mysql", "login", "hooks.slack.com/services/", "/api/webhooks/",
             "AKIAABCDEFGHIJKLMNOP", "ghp_" + "a" * 30, "npm_" + "b" * 36, "xoxb-1234567890", "=", ":", ":=", " ", "\t",
             "-", "--", "?", "&", ";", "@", "://", "'", '"', "(", "http", "proxy.example", "10.0.0.5", "_proxy", "İ"]


def every_pattern_run(text: str) -> str:
    """What redact() gives when it runs every pattern on every text, in its order."""
    from auditor import redact as module

    for name in ("userinfo", "proxy", "bare", "named", "option", "bearer", "user", "dash_p", "webhook"):
        text = module._masked(name, text)
    return module._pattern("token", False).sub(module.MASK, text)


@fuzz
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text("abcXYZ019._/-", max_size=5), max_size=12).map("".join))
def test_redact_runs_a_pattern_on_every_text_where_it_could_match(text):
    """redact() runs each pattern only on texts holding what its matches must hold: the same result as running
    every pattern on every text, so that a text passed over is one the pattern could not have changed."""
    assert redact(text) == every_pattern_run(text)


@fuzz
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text("abcXYZ019._/-", max_size=5), max_size=12).map("".join),
       st.text("0123456789abcdef", min_size=12, max_size=12))
def test_a_text_redact_may_change_is_one_its_tests_pass_whatever_an_ids_hash(text, digits):
    """redact.may_change is false only where redact() leaves the text as it is; and for an id's form (a text, ":",
    12 hexadecimal digits: the merge's new ids) its answer does not depend on the digits, so the merge asks once per
    text before the hash (auditor/report/merge.py)."""
    from auditor.redact import may_change

    assert may_change(text) or redact(text) == text
    assert may_change(text + ":" + digits) == may_change(text + ":" + "0" * 12)
    assert may_change(text + ":" + digits) or redact(text + ":" + digits) == text + ":" + digits


def test_an_id_whose_text_before_the_hash_holds_a_secret_is_redacted_in_a_merge():
    from auditor.report.merge import _Redactor

    redactor = _Redactor()
    for text in ("python-package:boto@https://user:hunter2@proxy.example:3128:0123456789ab",
                 "setting:password=hunter2@?:0123456789ab", "x:ghp_" + "a" * 36 + ":0123456789ab",
                 "rule:token: hunter2:0123456789ab"):
        assert redactor.text(text) == redact(text) != text
    assert redactor.text("python-package:botocore@0.21.0:0123456789ab") == "python-package:botocore@0.21.0:0123456789ab"


def test_redact_passes_over_no_secret_word_in_any_setting_shape():
    """The same, for every word of FRAGMENTS in every place a setting, option or query parameter puts it."""
    for word in FRAGMENTS:
        for before in ("", "x_", "--", "-", "?", "&", ";", "config set ", "curl ", '{"'):
            for after in ("=", ":", ": ", " ", "\t", '="', ":='", '": "', "_x="):
                text = f"{before}{word}{after}s3cretValue9 next"
                assert redact(text) == every_pattern_run(text), text


def test_a_component_id_with_a_four_part_version_is_not_taken_for_credentials():
    """python-package:botocore@0.21.0.0:<hash> has the shape of user:password@IPv4: it is an id, and stays whole,
    while the same shape before a port is a proxy's credentials."""
    from auditor.redact import redact

    assert redact("python-package:botocore@0.21.0.0:0123456789ab") == "python-package:botocore@0.21.0.0:0123456789ab"
    assert redact("u:s3cret-Pa55@10.0.0.1:3128") == "u:***@10.0.0.1:3128"


@pytest.mark.parametrize("kind, details", [("python-package", {}), ("sdk-manifest", {"ecosystem": "npm"})])
def test_a_secret_in_a_components_name_stays_out_of_the_cyclonedx_purl(kind, details):
    """The purl percent-encodes the name (botocore%20token%3dhunter3), where redaction would not know the secret:
    it is made from the redacted name and version. A hand-edited saved report can hold such a name."""
    from auditor.model import Component, Report
    from auditor.report import render

    report = Report("0.1.0", "2026-12-07T10:00:00Z", "2026-12-07", [])
    report.components.append(Component(kind, "botocore token=hunter3", "1.0 password=hunter4", "/srv/app/requirements.txt",
                                       "requirements.txt", "/srv/app", details=details))
    out = render(report, "cyclonedx")
    assert "hunter3" not in out and "hunter4" not in out
    (component,) = json.loads(out)["components"]
    assert component["purl"].startswith("pkg:") and "%2A%2A%2A" in component["purl"]
