"""Which of the clients a scan found read a CA variable (rules/ca-variables.toml): a variable moves the trust of AWS
calls only where an AWS client found reads it. botocore's answer is decided for each copy from the code it ships,
else its version (rules/ca-settings.toml, through client_store.setting_read), the same answer its store resolution
uses; the other kinds of client are judged as a kind."""

from __future__ import annotations

import os
from typing import Any

from auditor.fs import View
from auditor.records import record
from auditor.trust.client_store import Reads, find_package, setting_read

VARIABLES_DATA = "ca-variables.toml"
READS = ("always", "never", "per-copy", "if-openssl-default", "unknown")


class VariableDataError(ValueError):
    """rules/ca-variables.toml does not say what the trust stage needs."""


@record
class FoundClient:
    """A client the scan found, as far as the CA variables it reads go."""

    kind: str  # a [clients] key of rules/ca-variables.toml
    label: str  # "botocore 1.44.18 in /venv/lib/python3.11/site-packages"
    view: View | None = None
    package: str | None = None  # host path of its botocore package (kind botocore): the copy that is judged
    cli: str | None = None  # host path of the awscli package that runs it, which reads some settings itself
    openssl_default: bool = False  # it lets OpenSSL choose its store (boto 2 with ca_certificates_file = system)


def variable_data() -> dict[str, Any]:
    """rules/ca-variables.toml, validated: every client kind named, every answer one of READS, every entry sourced."""
    from auditor.rule_data import data_file

    data = data_file(VARIABLES_DATA)
    clients = data.get("clients")
    if not isinstance(clients, dict) or not clients:
        raise VariableDataError(f"{VARIABLES_DATA}: no [clients] table")
    for kind, client in clients.items():
        if not isinstance(client, dict) or not isinstance(client.get("name"), str) or not isinstance(client.get("aws"), bool):
            raise VariableDataError(f"{VARIABLES_DATA}: [clients.{kind}] needs name (a string) and aws (true or false)")
    for variable, entry in data.items():
        if variable == "clients":
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("read_by"), str) or not isinstance(entry.get("clients"), dict):
            raise VariableDataError(f"{VARIABLES_DATA}: [{variable}] needs read_by (a string) and a clients table")
        for kind, answer in entry["clients"].items():
            if kind not in clients:
                raise VariableDataError(f"{VARIABLES_DATA}: [{variable}.clients] names {kind!r}, not a [clients] kind")
            if not isinstance(answer, dict) or answer.get("reads") not in READS or not isinstance(answer.get("source"), str):
                raise VariableDataError(f"{VARIABLES_DATA}: [{variable}.clients] {kind}: needs reads (one of "
                                        f"{', '.join(READS)}) and source (a string)")
    return data


def variable_key(setting: str) -> str:
    """The data's name of a setting: `ca_bundle [profile]` is `ca_bundle`."""
    return setting.split(" ")[0]


def read_by(setting: str) -> str | None:
    """Who reads a CA variable, as a report says it (None: the data does not know it)."""
    entry = variable_data().get(variable_key(setting))
    return entry["read_by"] if isinstance(entry, dict) and "read_by" in entry else None


def aws_readers(setting: str, found: list[FoundClient]) -> tuple[str, ...] | None:
    """The AWS clients found that read the setting, each with why where it is not plain: "botocore 1.44.18 in …",
    "… (may read it: …)" where that cannot be told. None: the data does not know the setting."""
    data = variable_data()
    entry = data.get(variable_key(setting))
    if variable_key(setting) == "clients" or not isinstance(entry, dict):
        return None
    readers: list[str] = []
    for client in found:
        if not data["clients"].get(client.kind, {}).get("aws"):
            continue
        answer = entry["clients"].get(client.kind, {"reads": "unknown", "source": "not in the data"})
        read = _reads(variable_key(setting), client, answer)
        if read.answer is True:
            readers.append(client.label)
        elif read.answer is None:
            readers.append(f"{client.label} (may read it: {read.why})")
    return tuple(dict.fromkeys(readers))


def _reads(name: str, client: FoundClient, answer: dict[str, str]) -> Reads:
    how = answer["reads"]
    if how == "always":
        return Reads(True)
    if how == "never":
        return Reads(False, answer["source"])
    if how == "if-openssl-default":
        return Reads(client.openssl_default, answer["source"])
    if how == "per-copy" and client.view is not None and client.package is not None:
        from auditor.trust.client_store import OVERRIDES, either_reads, settings_table

        if name not in OVERRIDES:
            return Reads(None, f"{VARIABLES_DATA}: per-copy for {name}, which rules/ca-settings.toml does not hold")
        read = setting_read(client.view, client.package, "botocore", name)
        if client.cli is not None and name in settings_table("awscli"):
            read = either_reads(setting_read(client.view, client.cli, "awscli", name), read)
        return read
    return Reads(None, answer["source"])


def python_client(view: View, entries: list[str], name: str, label: str, openssl_default: bool) -> FoundClient | None:
    """The found client of an installed botocore, boto3, awscli or boto: the botocore copy it runs (a recent AWS
    CLI v1 carries its own in awscli/botocore/)."""
    if name == "boto":
        return FoundClient("boto", label, openssl_default=openssl_default)
    cli = find_package(view, entries, "awscli") if name == "awscli" else None
    carried = os.path.join(cli, "botocore") if cli else None
    if carried and view.is_file(os.path.join(carried, "__init__.py")):
        return FoundClient("botocore", label, view, carried, cli)
    package = find_package(view, entries, "botocore")
    return None if package is None else FoundClient("botocore", label, view, package, cli)
