"""Trust stores: the certificates a client would trust, as DER bytes, from any store format."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from auditor.collect.truststore.pem import certificates_in_file
from auditor.fs import FsError, View
from auditor.model import ScanError

STORE_CAP = 64 * 1024 * 1024


@dataclass
class Store:
    format: str  # pem | der | directory
    certificates: list[bytes] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)


def read_store(view: View, path: str) -> Store:
    """Read a bundle file, a single DER certificate, or an OpenSSL hashed directory."""
    if view.is_dir(path):
        return _read_directory(view, path)
    store = Store("pem")
    try:
        store.format, store.certificates, problems = certificates_in_file(view.read_bytes(path, STORE_CAP))
    except FsError as exc:
        store.errors.append(ScanError(view.display(path), str(exc)))
        return store
    store.errors.extend(ScanError(view.display(path), problem) for problem in problems)
    return store


def _read_directory(view: View, directory: str) -> Store:
    """Every certificate file of a directory such as /etc/ssl/certs, each certificate once."""
    store = Store("directory")
    seen: set[bytes] = set()
    try:
        entries = view.list_dir(directory)
    except FsError as exc:
        store.errors.append(ScanError(view.display(directory), f"cannot list directory: {exc}"))
        return store
    for entry in entries:
        if not entry.name.endswith((".pem", ".crt", ".cer", ".der")) and not _is_hash_name(entry.name):
            continue
        path = os.path.join(directory, entry.name)
        try:
            _, certificates, problems = certificates_in_file(view.read_bytes(path, STORE_CAP))
        except FsError as exc:
            store.errors.append(ScanError(view.display(path), str(exc)))
            continue
        store.errors.extend(ScanError(view.display(path), problem) for problem in problems)
        for der in certificates:
            if der not in seen:
                seen.add(der)
                store.certificates.append(der)
    return store


def _is_hash_name(name: str) -> bool:
    """OpenSSL's c_rehash names: eight hex digits, a dot, a number (5ad8a5d6.0)."""
    stem, dot, number = name.partition(".")
    return len(stem) == 8 and dot == "." and number.isdigit() and all(c in "0123456789abcdef" for c in stem)
