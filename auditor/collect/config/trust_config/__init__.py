"""Trust settings written in a tree's own code and scripts.

Python files are parsed with `ast`, never imported or run: a call that creates an AWS
client (boto3.client/resource, a boto3 or aioboto3 Session's client/resource, a botocore
or aiobotocore session's create_client) with a `verify` argument, and code that sets
os.environ["AWS_CA_BUNDLE"]. botocore's Config has no `verify` option (Config(verify=…)
raises TypeError), and its client_cert and proxies_config settings concern the client's
own certificate and the proxy, not the endpoint's, so Config is not read.

Scripts (shell, Makefile, Dockerfile, CI pipelines, Jenkinsfile, PowerShell) are read
line by line: an `aws` command with --no-verify-ssl or --ca-bundle, `aws configure set
ca_bundle`, and assignments to AWS_CA_BUNDLE. Comments do not count. A command continued
over several lines is reported at the line where `aws` is written; an assignment at its
own line. Python settings are reported at the line where the call starts.

Each setting is a trust-config component whose details say its `effect`:
"disabled" (certificate validation is off), "custom-bundle" (a bundle replaces the
SDK's default store) or "unknown" (verify is computed at run time).
"""

from __future__ import annotations

import fnmatch
import os
from typing import Optional

from auditor.collect import Collected
from auditor.collect.config.trust_config.setting import Setting
from auditor.facts.setting import SettingFacts
from auditor.fs import FsError, View
from auditor.model import Component, ScanError

SOURCE_CAP = 2 * 1024 * 1024
PYTHON = "python ast"

_SCRIPT_NAMES = (
    ("Makefile", "Makefile"), ("makefile", "Makefile"), ("GNUmakefile", "Makefile"), ("*.mk", "Makefile"),
    ("Dockerfile", "Dockerfile"), ("Dockerfile.*", "Dockerfile"), ("*.Dockerfile", "Dockerfile"),
    ("*.dockerfile", "Dockerfile"), ("Containerfile", "Dockerfile"),
    ("*.sh", "shell script"), ("*.bash", "shell script"), ("*.ps1", "PowerShell script"),
    ("Jenkinsfile", "Jenkinsfile"), (".gitlab-ci.yml", "GitLab CI"), ("buildspec*.yml", "CodeBuild buildspec"),
    ("buildspec*.yaml", "CodeBuild buildspec"), ("bitbucket-pipelines.yml", "Bitbucket Pipelines"),
    ("azure-pipelines.yml", "Azure Pipelines"),
)


def source_format(directory: str, name: str) -> Optional[str]:
    """How a file is read for trust settings ('python ast', 'shell script', 'Makefile', …), or None."""
    if name.endswith(".py"):
        return PYTHON
    for pattern, label in _SCRIPT_NAMES:
        if fnmatch.fnmatchcase(name, pattern):
            return label
    if name.endswith((".yml", ".yaml")):
        parent, leaf = os.path.split(directory)
        if leaf == "workflows" and os.path.basename(parent) == ".github":
            return "GitHub Actions workflow"
        if leaf == ".circleci" and name.startswith("config."):
            return "CircleCI config"
    return None


def collect_trust_config(view: View, path: str, target: str, label: str, databases: bool = False) -> Collected:
    """Trust-config components for the settings one source file writes. `databases`: read the database clients' CA
    settings too (auditor.collect.config.trust_config.db_settings); a config file (label 'config file') is read for those alone."""
    # The parsers load only when a tree has source files: a lockfile scan does not pay for `ast`.
    from auditor.collect.config.trust_config.python_code import python_settings
    from auditor.collect.config.trust_config.scripts import script_settings

    result = Collected()
    where = view.display(path)
    try:
        data = view.read_bytes(path, SOURCE_CAP)
    except FsError as exc:
        result.errors.append(ScanError(where, f"cannot read: {exc}"))
        return result
    found_in = "python" if label == PYTHON else "script"
    if databases:
        from auditor.collect.config.trust_config.db_settings import CONFIG_LABEL, db_ca_settings

        _add(result, db_ca_settings(data), "config file" if label == CONFIG_LABEL else found_in, label, where, target)
        if label == CONFIG_LABEL:
            return result
    if label == PYTHON:
        code = python_settings(data, where)
        result.errors.extend(code.errors)
        settings, source = code.settings, code.how
    else:
        settings, source = script_settings(data, label), label
    _add(result, settings, found_in, source, where, target)
    return result


def _add(result: Collected, settings: list[Setting], found_in: str, source: str, where: str, target: str) -> None:
    for setting in settings:
        facts = SettingFacts(setting.name, setting.effect, found_in, setting.statement, setting.value, setting.call,
                             setting.service)
        result.components.append(Component("trust-config", setting.name, None, where, source, target,
                                           line=setting.line, facts=facts))
