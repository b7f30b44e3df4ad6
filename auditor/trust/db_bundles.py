"""Database CA bundles: a PEM file a database client verifies its server with, read against the table of Amazon
RDS CAs (rules/rds-cas.toml). A file becomes a db-ca-bundle component when its name is one RDS gives its downloads
(global-bundle.pem, <region>-bundle.pem, rds-combined-ca-bundle.pem, rds-ca-2019-root.pem) or when it holds an RDS CA.

An RDS CA is recognised by its subject (organization, unit and a common-name pattern), not by fingerprint: no official
copy of the RDS bundle could be fetched and checked when the table was written (its header says so), so a self-made
certificate named like an RDS CA counts as one. The component says so in its details (`matched_by`).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from auditor.collect import Collected
from auditor.fs import FsError
from auditor.model import Component, ScanError
from auditor.rule_data import data_file
from auditor.trust.formats.pem import certificates_in_file

if TYPE_CHECKING:
    from auditor.fs import StoreView

CAS_DATA = "rds-cas.toml"
BUNDLE_CAP = 16 * 1024 * 1024  # the bundle for all Regions is some hundred kilobytes
MATCHED_BY = "subject (organization, unit, common name); no fingerprint could be verified"


class RdsCa(NamedTuple):
    id: str
    generation: str  # old | new
    organization: str
    unit: str
    common_names: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=1)
def rds_cas() -> tuple[RdsCa, ...]:
    return tuple(RdsCa(entry["id"], entry["generation"], entry["organization"], entry["unit"],
                       tuple(re.compile(pattern) for pattern in entry["common_names"]))
                 for entry in data_file(CAS_DATA)["cas"])


@lru_cache(maxsize=1)
def _bundle_names() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in data_file(CAS_DATA)["bundles"]["names"])


def named_as_rds_bundle(name: str) -> bool:
    return any(pattern.fullmatch(name) for pattern in _bundle_names())


def classify(certificates: list[bytes]) -> tuple[dict[str, list[str]], int]:
    """The RDS CAs among the DER certificates: {CA id: [common names]}, and how many could not be parsed."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    found: dict[str, list[str]] = {}
    unparsable = 0
    for der in certificates:
        if b"Amazon RDS" not in der:  # the unit every RDS CA carries: most certificates of a bundle are skipped unparsed
            continue
        try:
            subject = x509.load_der_x509_certificate(der).subject
        except (ValueError, TypeError):
            unparsable += 1
            continue

        def value(oid: x509.ObjectIdentifier, name: x509.Name = subject) -> str:
            values = name.get_attributes_for_oid(oid)
            return str(values[0].value) if len(values) == 1 else ""

        common_name = value(NameOID.COMMON_NAME)
        for ca in rds_cas():
            if (value(NameOID.ORGANIZATION_NAME) == ca.organization and value(NameOID.ORGANIZATIONAL_UNIT_NAME) == ca.unit
                    and any(pattern.fullmatch(common_name) for pattern in ca.common_names)):
                found.setdefault(ca.id, []).append(common_name)
                break
    return found, unparsable


def read_db_bundle(view: StoreView, path: str, target: str) -> Collected:
    """The db-ca-bundle component of a PEM file, if it is one (by name or by content); a file named like one that
    cannot be read is an error entry."""
    result = Collected()
    where = view.display(path)
    named = named_as_rds_bundle(os.path.basename(path))
    try:
        data = view.read_bytes(path, BUNDLE_CAP)
    except FsError as exc:
        if named:
            result.errors.append(ScanError(where, f"cannot read this database CA bundle: {exc}"))
        return result
    if not named and b"-----BEGIN CERTIFICATE-----" not in data:
        return result  # a key or a CSR: not a bundle
    form, certificates, problems = certificates_in_file(data)
    held, unparsable = classify(certificates)
    if not named and not held:
        return result
    generations = {ca.id: ca.generation for ca in rds_cas()}
    details = {"format": form, "certificates": len(certificates), "named_as_rds_bundle": named,
               "rds_cas": {ca: len(names) for ca, names in sorted(held.items())},
               "old_cas": sorted(ca for ca in held if generations[ca] == "old"),
               "new_cas": sorted(ca for ca in held if generations[ca] == "new"),
               "matched_by": MATCHED_BY}
    if unparsable:
        details["unparsable"] = unparsable
    result.errors.extend(ScanError(where, problem) for problem in problems)
    result.components.append(Component("db-ca-bundle", os.path.basename(path), None, where,
                                       "file name" if named else "certificates held", target, details=details))
    return result
