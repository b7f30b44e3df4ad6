"""Trust stores: the certificates a client would trust, as DER bytes, from any store format.

The format is told by content, never by name: Java keystores by their magic number,
PKCS#12 by its PFX header, then PEM or DER.
"""

from __future__ import annotations

import hashlib
import os

from auditor.records import field, mutable_record
from auditor.trust.formats.jks import is_java_keystore, read_java_keystore
from auditor.trust.formats.pem import certificates_in_file
from auditor.trust.formats.pkcs12 import is_pkcs12, read_pkcs12
from auditor.fs import FsError
from auditor.model import ScanError

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from auditor.fs import StoreView
    from typing import Any

STORE_CAP = 64 * 1024 * 1024
MAX_DIRECTORY_FILES = 20_000  # a CA directory holds hundreds; more is an accident or an attack
MAX_FILE_ERRORS = 20  # per directory; the rest are counted in one entry


@mutable_record
class Store:
    """A trust store as read: its format, its certificates (DER), and what could not be read of it."""

    format: str  # pem | der | directory | jks | jceks | pkcs12
    certificates: list[bytes] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    keystore: dict[str, Any] = field(default_factory=dict)  # for keystores: integrity and entry counts
    unread: bool = False  # it could not be read at all (a read error, not its contents): what it holds is not known
    sha256: str | None = None  # of a store file's bytes as read (a directory has none): the store as it was scanned


def read_store(view: StoreView, path: str, password: str | None = None) -> Store:
    """Read a bundle file, a single DER certificate, a Java keystore (JKS, JCEKS, PKCS#12),
    or an OpenSSL hashed directory. A keystore whose password is wrong yields no certificates."""
    if view.is_dir(path):
        return _read_directory(view, path)
    store = Store("pem")
    try:
        data = view.read_bytes(path, STORE_CAP)
    except FsError as exc:
        store.errors.append(ScanError(view.display(path), str(exc)))
        store.unread = True
        return store
    store.sha256 = hashlib.sha256(data).hexdigest()
    if is_java_keystore(data) or is_pkcs12(data):
        keystore = (read_java_keystore if is_java_keystore(data) else read_pkcs12)(data, password)
        store.format = keystore.format
        store.certificates = [] if keystore.integrity == "failed" else keystore.certificates
        store.keystore = {"integrity": keystore.integrity, "entries": keystore.entries}
        problems = keystore.problems
    else:
        store.format, store.certificates, problems = certificates_in_file(data)
    store.errors.extend(ScanError(view.display(path), problem) for problem in problems)
    return store


def _read_directory(view: StoreView, directory: str) -> Store:
    """Every certificate file of a directory such as /etc/ssl/certs, each certificate once."""
    store = Store("directory")
    seen: set[bytes] = set()
    try:
        entries = [e for e in view.list_dir(directory)
                   if e.name.endswith((".pem", ".crt", ".cer", ".der")) or _is_hash_name(e.name)]
    except FsError as exc:
        store.errors.append(ScanError(view.display(directory), f"cannot list directory: {exc}"))
        store.unread = True
        return store
    if len(entries) > MAX_DIRECTORY_FILES:
        store.errors.append(ScanError(view.display(directory), f"{len(entries)} certificate files; only the first "
                                                               f"{MAX_DIRECTORY_FILES} (by name) are read"))
        entries = entries[:MAX_DIRECTORY_FILES]
    file_errors: list[ScanError] = []
    read: set[str] = set()  # real paths: a hash link and the .pem it names are one file, read once
    unread = 0
    for entry in entries:
        path = os.path.join(directory, entry.name)
        try:
            real = view.resolve(path)
            if real in read:
                continue
            read.add(real)
            _, certificates, problems = certificates_in_file(view.read_bytes(real, STORE_CAP))
        except FsError as exc:
            certificates, problems = [], [str(exc)]
            unread += 1
        file_errors.extend(ScanError(view.display(path), problem) for problem in problems)
        for der in certificates:
            if der not in seen:
                seen.add(der)
                store.certificates.append(der)
    store.unread = bool(read) and unread == len(read)
    store.errors.extend(file_errors[:MAX_FILE_ERRORS])
    if len(file_errors) > MAX_FILE_ERRORS:
        store.errors.append(ScanError(view.display(directory), f"{len(file_errors) - MAX_FILE_ERRORS} more problems "
                                                               f"in its files, not listed"))
    return store


def _is_hash_name(name: str) -> bool:
    """OpenSSL's c_rehash names: eight hex digits, a dot, a number (5ad8a5d6.0)."""
    stem, dot, number = name.partition(".")
    return len(stem) == 8 and dot == "." and number.isdigit() and all(c in "0123456789abcdef" for c in stem)
