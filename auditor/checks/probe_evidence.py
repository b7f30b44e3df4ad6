"""The sentences a probe's finding cites: what the probe saw, from the typed facts of its report component."""

from __future__ import annotations

from typing import Any

from auditor.facts.probe import ProbeFacts


def anchor_text(anchor: dict[str, Any] | None) -> str:
    if not anchor:
        return "not shown"
    if anchor.get("ats_anchor"):
        return f"{anchor['ats_anchor']} (ATS anchor, SHA-256 {anchor['sha256'][:16]}…)"
    if anchor.get("locally_added"):
        return (f"{anchor['name']} (SHA-256 {anchor['sha256'][:16]}…; not an ATS anchor: a CA added to this machine's "
                f"OS store, from {anchor['locally_added']})")
    return f"{anchor['name']} (SHA-256 {anchor['sha256'][:16]}…; " + (anchor.get("note") or "not an ATS anchor") + ")"


def observations(probe: ProbeFacts) -> list[str]:
    """What a probe saw, one sentence each, for a finding's evidence and a reviewer."""
    route = (f"connected to {probe.connect_to}" if probe.connect_to else
             f"through proxy {probe.proxy}" if probe.proxy else "connected directly")
    count = probe.store_certificates
    seen = [f"{probe.endpoint} probed ({route}, SNI {probe.host}) trusting only {probe.store} "
            f"({probe.store_format or '?'}, {count} certificate{'' if count == 1 else 's'})"]
    if probe.failure:
        seen.append(f"{probe.problem}: {probe.cause} Here: {probe.detail}.")
        if probe.message and probe.message not in probe.detail:
            seen.append(f"error raised: {probe.message}")
    else:
        path = " <- ".join(c["name"] for c in probe.path) or "not shown by this Python"
        seen.append(f"verified with {probe.tls_version} {probe.cipher}; path built: {path}; "
                    f"anchor: {anchor_text(probe.anchor)}")
    if probe.chain:
        seen.append("the server sent: " + "; ".join(f"{c['name']} (SHA-256 {c['sha256'][:16]}…, not after "
                                                     f"{c.get('not_after', '?')})" for c in probe.chain))
    phases = ", ".join(f"{phase} {ms:g} ms" for phase, ms in probe.timings_ms.items())
    attempts = probe.attempts
    seen.append(f"time per phase: {phases or 'none'}" + (
        f"; {len(attempts)} attempts: " + ", ".join(str(a["result"]) for a in attempts) if len(attempts) > 1 else ""))
    http = probe.http
    if http:
        seen.append(f"GET / failed: {http['error']}" if "error" in http else
                    f"GET / answered '{http['status_line']}'; the body " + ("reads" if http["healthy"] else "does not read")
                    + f" 'healthy: {probe.host}'")
    seen.extend(probe.notes)
    return seen
