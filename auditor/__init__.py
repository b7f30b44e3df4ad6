"""auditor: will your software still trust AWS endpoints that use Amazon Trust Services certificates?

The library API (docs/api.md): `auditor.scan(...)`, `auditor.check_store(...)` and `auditor.probe(...)` return a
`Report`; `auditor.render(report, format)` writes it as the command would. The names in `__all__` are the stable
surface; they are imported on first use, so `import auditor` (and the command's start-up) stays cheap."""

from __future__ import annotations

from auditor.version import __version__ as __version__

TYPE_CHECKING = False  # not typing's: importing typing costs `auditor --version` a third of its time
if TYPE_CHECKING:  # for type checkers: the names below, imported on first use at run time
    from typing import Any

    from auditor.api import AuditorError as AuditorError
    from auditor.api import IncompleteScan as IncompleteScan
    from auditor.api import ProbeOptions as ProbeOptions
    from auditor.api import UsageError as UsageError
    from auditor.api import check_store as check_store
    from auditor.api import load_report as load_report
    from auditor.api import probe as probe
    from auditor.api import render as render
    from auditor.api import scan as scan
    from auditor.model import ClientVerdict as ClientVerdict
    from auditor.model import Component as Component
    from auditor.model import Finding as Finding
    from auditor.model import Reason as Reason
    from auditor.model import Report as Report
    from auditor.model import ScanError as ScanError
    from auditor.model import Target as Target

__all__ = ["AuditorError", "ClientVerdict", "Component", "Finding", "IncompleteScan", "ProbeOptions", "Reason",
           "Report", "ScanError", "Target", "UsageError", "__version__", "check_store", "load_report", "probe",
           "render", "scan"]
_API = ("AuditorError", "IncompleteScan", "ProbeOptions", "UsageError", "check_store", "load_report", "probe",
        "render", "scan")
_WHERE = {name: "auditor.api" if name in _API else "auditor.model" for name in __all__ if name != "__version__"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'auditor' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once imported, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
