"""The facts of an OpenSSL build (an "openssl" component): its version text, and where it was read from: a shared
object's bytes, a Python interpreter's ssl module, or the `openssl version` command."""

from __future__ import annotations

from typing import Any

from auditor.records import record



@record
class SslModule:
    """What a Python interpreter's ssl module is built with: the running interpreter's, or one run with --runtime."""

    python: str  # the interpreter, as shown
    python_version: str
    sni: bool  # ssl.HAS_SNI
    tls1_2: bool  # ssl.HAS_TLSv1_2 (ssl.PROTOCOL_TLSv1_2 before Python 3.7)
    base_stdlib: tuple[str, ...] = ()  # the base standard library folders put on a virtualenv interpreter's path

    def capability(self, name: str) -> bool | None:
        """Whether the module has the capability a rule names (sni, tls1_2); None for a name it does not know."""
        return {"sni": self.sni, "tls1_2": self.tls1_2}.get(name)


@record
class OpenSSLFacts:
    """One OpenSSL build, as auditor.collect.platform.openssl read it; the component's version is parsed from the
    version text. The source says which of the four kinds it is: a shared object (`library`), the running
    interpreter's or a --runtime interpreter's ssl module (`ssl_module`), or `openssl version` (neither)."""

    version_text: str | None  # "OpenSSL 1.0.1e-fips 11 Feb 2013"; None where an ssl module gave an empty one
    library: str | None = None  # the shared object's file name: libcrypto.so.1.0.0
    ssl_module: SslModule | None = None

    def to_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"version_text": self.version_text}
        if self.library is not None:
            details["library"] = self.library
        module = self.ssl_module
        if module is not None:
            details.update(python=module.python, python_version=module.python_version, sni=module.sni,
                           tls1_2=module.tls1_2)
            if module.base_stdlib:
                details["base_stdlib"] = list(module.base_stdlib)
        return details

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> OpenSSLFacts:
        module = None
        if "python_version" in details:
            module = SslModule(details["python"], details["python_version"], details["sni"], details["tls1_2"],
                               tuple(details.get("base_stdlib", ())))
        return cls(details.get("version_text"), details.get("library"), module)
