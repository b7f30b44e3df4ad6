"""Fuzz targets of the config and environment parsers: the INI reader, the AWS config file and the boto config
as a scan reads them, env files (--env-file), and the trust settings in Python code and scripts.

Each target feeds the bytes to its parser the way a scan does (the files through a View, an env file through
load_env_files) and raises AssertionError on an outcome no input may have: an exception other than the
parser's own error, a result of the wrong shape, a setting reported from a line that does not set it, an
error message that quotes the input. Files are written only below one temporary directory, removed when the
process exits. Importable without pytest: TARGETS maps a name to a callable taking bytes.
"""

from __future__ import annotations

import os
import re
from typing import Callable

from auditor.collect.config.ini import settings
from auditor.collect.config.trust_config import PYTHON
from auditor.collect.config.trust_config.python_code import python_settings
from auditor.collect.config.trust_config.scripts import script_settings
from auditor.collect.config.trust_config.setting import STATEMENT_CHARS
from auditor.collect.config.trust_settings import TrustSettings, read_trust_settings
from auditor.collect.config.environ import Environ, EnvFileError, load_env_files
from auditor.fs import View
from auditor.model import ScanError
from workdirs import workdir  # fuzz/workdirs.py: run.py puts fuzz/ on sys.path

LINE_END = re.compile(r"\r\n|\r|\n")  # the line ends the INI and env-file readers split on
SCRIPT_LABELS = ("shell script", "Makefile", "Dockerfile", "PowerShell script", "GitHub Actions workflow")
EFFECTS = ("disabled", "custom-bundle", "unknown")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

IMAGE_HOME = "/home/ops"  # the home of the image user whose config files the targets write




def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(data)
    return path


def check_errors(errors: list) -> None:
    for error in errors:
        assert isinstance(error, ScanError) and isinstance(error.message, str) and error.message, error
        assert "\n" not in error.message and "\r" not in error.message, error


def ini_settings(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    lines = LINE_END.split(text)
    for setting in settings(text):
        assert 1 <= setting.line <= len(lines), setting
        line = lines[setting.line - 1]
        assert setting.key and setting.key == setting.key.strip().lower(), setting
        assert line[:1] not in (" ", "\t") and line.strip().lower().startswith(setting.key), (setting, line)
        assert setting.value == setting.value.strip() and setting.value in line, (setting, line)


def _setting_lines(found: TrustSettings, path: str, text: str, key: str) -> None:
    """Each setting read from `path` points at a line of `text` that sets `key` to its value."""
    lines = LINE_END.split(text)
    origins = [o for o in (*found.aws_ca_bundles.values(), found.boto_ca_file, found.boto_validation_off)
               if o is not None and o.path == path]
    for origin in origins:
        line = lines[origin.line - 1]
        assert re.match(rf"{key}\s*[=:]", line.strip(), re.IGNORECASE), (origin, line)
        assert origin.value == origin.value.strip() and origin.value in line, (origin, line)


def _trust_settings(data: bytes, path: str, environ: dict) -> TrustSettings:
    """Read with the bytes at `path` of an image whose HOME is IMAGE_HOME, as `scan --root` reads an image."""
    root = workdir(path.replace("/", "-"))
    write(os.path.join(root, path.lstrip("/")), data)
    found = read_trust_settings(View(root, image=True, display_top="/"), Environ({"HOME": IMAGE_HOME, **environ}))
    assert isinstance(found, TrustSettings)
    check_errors(found.errors)
    return found


def aws_config(data: bytes) -> None:
    """The bytes as ~/.aws/config: only `ca_bundle` lines of a profile are reported, at their line."""
    path = f"{IMAGE_HOME}/.aws/config"
    found = _trust_settings(data, path, {})
    if found.errors:
        assert found.aws_config == "" and not found.aws_ca_bundles, found
        return
    assert found.aws_config == path
    _setting_lines(found, path, data.decode("utf-8-sig"), "ca_bundle")
    assert all(profile and origin.note.endswith(f" in profile {profile}") for profile, origin in found.aws_ca_bundles.items())


def aws_credentials(data: bytes) -> None:
    """The bytes as ~/.aws/credentials, named by AWS_CONFIG_FILE (a mistake users make): read as a config file,
    and still nothing but `ca_bundle` reported from it."""
    path = f"{IMAGE_HOME}/.aws/credentials"
    found = _trust_settings(data, path, {"AWS_CONFIG_FILE": path})
    if not found.errors:
        _setting_lines(found, path, data.decode("utf-8-sig"), "ca_bundle")


def boto_config(data: bytes) -> None:
    """The bytes as ~/.boto: only ca_certificates_file and https_validate_certificates of [Boto] are reported."""
    path = f"{IMAGE_HOME}/.boto"
    found = _trust_settings(data, path, {})
    if found.errors:
        assert found.boto_ca_file is None and found.boto_validation_off is None, found
        return
    assert found.boto_configs == [path]
    text = data.decode("utf-8-sig")
    if found.boto_ca_file is not None:
        _setting_lines(TrustSettings(found.environ, boto_ca_file=found.boto_ca_file), path, text, "ca_certificates_file")
    if found.boto_validation_off is not None:
        assert found.boto_validation_off.value.lower() != "true"
        _setting_lines(TrustSettings(found.environ, boto_validation_off=found.boto_validation_off), path, text,
                       "https_validate_certificates")


def env_file(data: bytes) -> None:
    """The bytes as an --env-file: variables, or EnvFileError whose message names the file and the line, never
    what the line says (it may hold a secret)."""
    path = write(os.path.join(workdir("env"), "service.env"), data)
    try:
        environ = load_env_files([path])
    except EnvFileError as exc:
        message = str(exc)
        parse_error = re.fullmatch(rf"{re.escape(path)}:(\d+): not a NAME=value line", message)
        assert parse_error or re.fullmatch(rf"{re.escape(path)}: not valid UTF-8 \(byte \d+\)", message), message
        if parse_error:  # a line that is not blank, a comment, NAME alone or NAME=value
            bad = LINE_END.split(data.decode("utf-8-sig"))[int(parse_error.group(1)) - 1].strip()
            assert bad and not bad.startswith("#") and not ENV_NAME.fullmatch(bad), bad
            assert not re.match(r"(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=", bad), bad
        return
    assert isinstance(environ, Environ) and environ.origin == f"--env-file {path}"
    assert all(ENV_NAME.fullmatch(name) and isinstance(value, str) for name, value in environ.variables.items())


def _check_code_settings(found: list, text: str) -> None:
    lines = re.split(r"\r\n|\r|\n", text)  # the line breaks of Python's tokenizer, whose numbers a setting carries
    for setting in found:
        assert 1 <= setting.line <= len(lines), setting
        assert setting.effect in EFFECTS, setting
        assert setting.value is None or isinstance(setting.value, str), setting
        assert "\n" not in setting.statement and len(setting.statement) <= STATEMENT_CHARS, setting


def python_code(data: bytes) -> None:
    code = python_settings(data, "app/clients.py")
    found, how, errors = code.settings, code.how, code.errors
    check_errors(errors)
    assert how in (PYTHON, "python line search"), how
    assert how == PYTHON or errors, "a line search is always explained by an error entry"
    assert all(s.name in ("verify", "AWS_CA_BUNDLE") for s in found), found
    _check_code_settings(found, data.decode("utf-8", "replace"))


def script(data: bytes) -> None:
    """The first byte picks the kind of script, the rest is the script."""
    label = SCRIPT_LABELS[data[0] % len(SCRIPT_LABELS)] if data else SCRIPT_LABELS[0]
    found = script_settings(data[1:], label)
    assert all(s.name in ("--no-verify-ssl", "--ca-bundle", "ca_bundle", "AWS_CA_BUNDLE") for s in found), found
    assert all((s.value is None) == (s.name == "--no-verify-ssl") for s in found), found
    _check_code_settings(found, data[1:].decode("utf-8", "replace"))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "ini": ini_settings,
    "aws-config": aws_config,
    "aws-credentials": aws_credentials,
    "boto-config": boto_config,
    "env-file": env_file,
    "python-code": python_code,
    "script": script,
}


AWS_CONFIG = (b"[default]\nregion = eu-west-3\nca_bundle = /etc/pki/tls/certs/corp-ca.pem\n\n"
              b"[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = default\n"
              b"ca_bundle=/opt/certs/proxy.pem\ns3 =\n  max_concurrent_requests = 20\n")
AWS_CREDENTIALS = (b"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                   b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
                   b"ca_bundle = /etc/ssl/certs/ca-certificates.crt\n")
BOTO_CONFIG = (b"[Credentials]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\n[Boto]\ndebug = 0\nnum_retries = 10\n"
               b"https_validate_certificates = False\nca_certificates_file = /etc/boto/cacerts.txt\n")
PYTHON_CODE = (b'import os\nimport boto3\n\nos.environ["AWS_CA_BUNDLE"] = "/etc/pki/corp-ca.pem"\n'
               b'BUNDLE = os.environ.get("CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")\n'
               b'session = boto3.session.Session()\ns3 = session.client("s3", verify=False)\n'
               b'ddb = boto3.resource("dynamodb", region_name="eu-west-3", verify="/opt/certs/ddb.pem")\n'
               b'sqs = boto3.client("sqs", verify=BUNDLE)\n')
PYTHON_2_CODE = b'import boto3\nprint "starting"\nclient = boto3.client(\'s3\', verify=False)\n'  # line search
SCRIPTS = (  # one per SCRIPT_LABELS entry, in its order: the first byte picks the kind
    b"#!/bin/sh\nexport AWS_CA_BUNDLE=/etc/pki/corp-ca.pem\naws s3 cp s3://orders/key . --no-verify-ssl\n"
    b"aws --ca-bundle /opt/certs/proxy.pem sts get-caller-identity\naws configure set ca_bundle /etc/ssl/corp.pem\n",
    b"deploy:\n\taws s3 sync build/ s3://orders-site --ca-bundle $(CA_BUNDLE)\n"
    b"\tAWS_CA_BUNDLE=/etc/certs/ca.pem ./deploy.sh\n",
    b"FROM python:3.11-slim\nENV AWS_CA_BUNDLE=/usr/local/share/ca-certificates/corp.crt\n"
    b"RUN aws s3 cp s3://artifacts/app.tar.gz /tmp/ --no-verify-ssl\n",
    b'$env:AWS_CA_BUNDLE = "C:\\certs\\corp-ca.pem"\naws s3 ls --ca-bundle C:\\certs\\proxy.pem\n',
    b"name: deploy\non: push\nenv:\n  AWS_CA_BUNDLE: /etc/ssl/certs/corp.pem\njobs:\n  deploy:\n"
    b"    runs-on: ubuntu-latest\n    steps:\n      - run: aws s3 sync site/ s3://orders-site --no-verify-ssl\n",
)


def seeds() -> dict[str, list[bytes]]:
    """Inputs written as users write these files, for the first corpus: without them the fuzzer rarely gets past
    the word a parser looks for first (python-code reads nothing without AWS_CA_BUNDLE, or verify and boto)."""
    return {
        "ini": [AWS_CONFIG, BOTO_CONFIG],
        "aws-config": [AWS_CONFIG],
        "aws-credentials": [AWS_CREDENTIALS],
        "boto-config": [BOTO_CONFIG],
        "env-file": [b"# service.env\nAWS_DEFAULT_REGION=eu-west-3\n"
                     b'export AWS_CA_BUNDLE="/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"\n'
                     b"REQUESTS_CA_BUNDLE='/etc/ssl/certs/ca-certificates.crt'\nEMPTY=\n"],
        "python-code": [PYTHON_CODE, PYTHON_2_CODE],
        "script": [bytes([number]) + script for number, script in enumerate(SCRIPTS)],
    }
