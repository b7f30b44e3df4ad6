"""Live probes: does an endpoint's certificate verify against one given trust store, for real?

A probe connects (directly, to a --connect-to address, or through the HTTPS_PROXY tunnel), does one
TLS handshake with SNI that verifies the chain and the hostname against the store alone, and reports
the TLS version and cipher, the chain the server sent, the path built to an anchor and which anchor,
the time of each phase, or the class of failure with its cause. This is the only part of the auditor
that uses the network apart from `auditor rules refresh`; a scan never calls it unless asked.

For a caller (e.g. `auditor scan --probe`):

    result = probe_with_store("dynamodb.eu-west-3.amazonaws.com", 443, "/path/cacert.pem", users=("botocore 1.35.0",))
    component = probe_component(result, target="…")   # kind "probe"; rule ats-probe judges it

and, for many at once, `run_probes([ProbeJob(host, port, TrustStore.load(path), users=…), …], ProbeSettings(…))`.
"""

from auditor.live_probe.handshake import TrustStore
from auditor.live_probe.result import ProbeResult, probe_component
from auditor.live_probe.run import ProbeJob, ProbeSettings, probe_with_store, run_probes

DEFAULT_ENDPOINTS = (("dynamodb.eu-west-3.amazonaws.com", 443), ("streams.dynamodb.eu-west-3.amazonaws.com", 443))

__all__ = ["DEFAULT_ENDPOINTS", "ProbeJob", "ProbeResult", "ProbeSettings", "TrustStore", "probe_component",
           "probe_with_store", "run_probes"]
