"""The sentences a probe's finding cites: what the probe saw, from the details of its report component."""

from __future__ import annotations

from typing import Any


def anchor_text(anchor: dict[str, Any] | None) -> str:
    if not anchor:
        return "not shown"
    if anchor.get("ats_anchor"):
        return f"{anchor['ats_anchor']} (ATS anchor, SHA-256 {anchor['sha256'][:16]}…)"
    return f"{anchor['name']} (SHA-256 {anchor['sha256'][:16]}…; " + (anchor.get("note") or "not an ATS anchor") + ")"


def observations(details: dict[str, Any]) -> list[str]:
    """What a probe saw, one sentence each, for a finding's evidence and a reviewer."""
    route = (f"connected to {details['connect_to']}" if details.get("connect_to") else
             f"through proxy {details['proxy']}" if details.get("proxy") else "connected directly")
    count = details.get("store_certificates", 0)
    seen = [f"{details['endpoint']} probed ({route}, SNI {details['host']}) trusting only {details['store']} "
            f"({details.get('store_format', '?')}, {count} certificate{'' if count == 1 else 's'})"]
    if details.get("failure"):
        seen.append(f"{details['problem']}: {details['cause']} Here: {details['detail']}.")
        if details.get("message") and details["message"] not in details["detail"]:
            seen.append(f"error raised: {details['message']}")
    else:
        path = " <- ".join(c["name"] for c in details.get("path", [])) or "not shown by this Python"
        seen.append(f"verified with {details.get('tls_version')} {details.get('cipher')}; path built: {path}; "
                    f"anchor: {anchor_text(details.get('anchor'))}")
    if details.get("chain"):
        seen.append("the server sent: " + "; ".join(f"{c['name']} (SHA-256 {c['sha256'][:16]}…, not after "
                                                     f"{c.get('not_after', '?')})" for c in details["chain"]))
    phases = ", ".join(f"{phase} {ms:g} ms" for phase, ms in details.get("timings_ms", {}).items())
    attempts = details.get("attempts", [])
    seen.append(f"time per phase: {phases or 'none'}" + (
        f"; {len(attempts)} attempts: " + ", ".join(a["result"] for a in attempts) if len(attempts) > 1 else ""))
    http = details.get("http")
    if http:
        seen.append(f"GET / failed: {http['error']}" if "error" in http else
                    f"GET / answered '{http['status_line']}'; the body " + ("reads" if http["healthy"] else "does not read")
                    + f" 'healthy: {details['host']}'")
    seen.extend(details.get("notes", []))
    return seen
