"""Java KeyStore (JKS) and JCEKS files, read from the format keytool writes; no library.

Layout, big-endian: magic (0xFEEDFEED for JKS, 0xCECECECE for JCEKS), version (1 or
2), entry count, then the entries, then a 20-byte SHA-1 digest. Each entry is a tag,
an alias (Java "modified UTF-8": a 2-byte length and the bytes) and an 8-byte
timestamp, then:
  tag 1, private key: length + protected key bytes, certificate count, and per
         certificate (version 2: a type string such as "X.509") length + DER;
  tag 2, trusted certificate: (version 2: type string) length + DER;
  tag 3, secret key (JCEKS only): a serialized Java object, whose length can only be
         known by deserializing it; reading stops there.
The digest is SHA-1 over the password as UTF-16BE, the bytes "Mighty Aphrodite", and
everything before the digest. Certificates can be read without the password; with it,
the digest proves the file is the one the password's owner wrote.
"""

from __future__ import annotations

import hashlib
import struct

from auditor.records import field, mutable_record


JKS_MAGIC = 0xFEEDFEED
JCEKS_MAGIC = 0xCECECECE
_SMALLEST_ENTRY = 4 + 2 + 8 + 4  # tag, empty alias, timestamp, a length


class _Truncated(Exception):
    pass


@mutable_record
class Keystore:
    """What a keystore reader found; PKCS#12 stores are read into one too."""

    format: str  # jks | jceks | pkcs12
    certificates: list[bytes] = field(default_factory=list)
    entries: dict[str, int] = field(default_factory=dict)  # entry kind ("trusted certificate", ...) -> count
    integrity: str = "not checked"  # verified | failed | not checked | none (a PKCS#12 store without a MAC)
    problems: list[str] = field(default_factory=list)


def is_java_keystore(data: bytes) -> bool:
    return len(data) >= 4 and struct.unpack(">I", data[:4])[0] in (JKS_MAGIC, JCEKS_MAGIC)


def read_java_keystore(data: bytes, password: str | None = None) -> Keystore:
    magic = struct.unpack(">I", data[:4])[0] if len(data) >= 4 else None
    store = Keystore("jceks" if magic == JCEKS_MAGIC else "jks")
    if magic not in (JKS_MAGIC, JCEKS_MAGIC):
        store.problems.append(f"not a Java KeyStore (magic {data[:4].hex() or 'missing'})")
        return store
    if len(data) < 12 + 20:
        store.problems.append("truncated: shorter than a keystore header and digest")
        return store
    version, count = struct.unpack(">II", data[4:12])
    if version not in (1, 2):
        store.problems.append(f"unknown keystore version {version}")
        return store
    body = len(data) - 20
    if count > (body - 12) // _SMALLEST_ENTRY:
        store.problems.append(f"declares {count} entries, more than {body - 12} bytes can hold; the file is corrupt")
        return store
    reader = _Reader(data, 12, body)
    try:
        for _ in range(count):
            if not _read_entry(reader, version, store):
                break
        if reader.offset != body and not store.problems:
            store.problems.append(f"{body - reader.offset} unexplained bytes before the digest")
    except _Truncated as exc:
        store.problems.append(f"truncated entry at byte {exc}: certificates after it are not read")
    if password is not None:
        _check_integrity(data, password, store)
    return store


def _read_entry(reader: "_Reader", version: int, store: Keystore) -> bool:
    """Read one entry into `store`; False when reading has to stop there (the problem is recorded)."""
    start, tag = reader.offset, reader.u32()
    if tag not in (1, 2, 3) or (tag == 3 and store.format != "jceks"):
        store.problems.append(f"unknown entry tag {tag} at byte {start}; entries after it are not read")
        return False
    alias = reader.utf().decode("utf-8", "replace")  # modified UTF-8: the same for all but rare characters
    reader.take(8)  # timestamp
    if tag == 3:
        store.problems.append(f"entry {alias!r} is a secret key (a serialized Java object), not supported; "
                              f"entries after it are not read")
        return False
    if tag == 1:
        reader.take(reader.u32())  # the protected private key
    empty = 0
    for _ in range(reader.u32() if tag == 1 else 1):  # a key's chain, or the one trusted certificate
        der = _certificate(reader, version)
        if der:
            store.certificates.append(der)
        else:
            empty += 1
    if empty:
        store.problems.append(f"entry {alias!r} holds {empty} empty certificates; they are skipped")
    kind = "private key" if tag == 1 else "trusted certificate"
    store.entries[kind] = store.entries.get(kind, 0) + 1
    return True


def _certificate(reader: "_Reader", version: int) -> bytes:
    if version == 2:
        reader.utf()  # certificate type, "X.509"
    return reader.take(reader.u32())


def _check_integrity(data: bytes, password: str, store: Keystore) -> None:
    # Java hashes the password's chars as they are; a lone surrogate (argv or environment bytes that are
    # not UTF-8, PEP 383) is a char too.
    chars = password.encode("utf-16-be", "surrogatepass")
    digest = hashlib.sha1(chars + b"Mighty Aphrodite" + data[:-20]).digest()
    if digest == data[-20:]:
        store.integrity = "verified"
    else:
        store.integrity = "failed"
        store.problems.append("keystore password incorrect, or the file was altered: the integrity check failed")


class _Reader:
    def __init__(self, data: bytes, offset: int, end: int):
        self.data, self.offset, self.end = data, offset, end

    def take(self, size: int) -> bytes:
        if size > self.end - self.offset:
            raise _Truncated(self.offset)
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def utf(self) -> bytes:
        return self.take(struct.unpack(">H", self.take(2))[0])
