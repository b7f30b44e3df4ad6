"""Running probes: one attempt is a sequence of phases (dns, connect, proxy, handshake, http), each with
its own timeout and all within the run's deadline; transient failures are retried when asked; many
probes run at once, at most `workers` open, on one thread (loop.py), and come back in the order given."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from typing import Mapping, Sequence

from auditor.live_probe import chain
from auditor.live_probe.classify import RETRYABLE, ProbeFailure, TunnelError, classify
from auditor.live_probe.connect import host_port, open_tcp, proxy_for, resolve, tunnel
from auditor.live_probe.handshake import TrustStore, get_root, handshake
from auditor.live_probe.loop import Task, run_all
from auditor.live_probe.result import ProbeResult
from auditor.records import record

DEFAULT_TIMEOUT = 5.0  # seconds, per phase
DEFAULT_JOBS = 16
DEFAULT_DEADLINE = 60.0  # seconds, for a whole run


@record
class ProbeSettings:
    timeout: float = DEFAULT_TIMEOUT  # per phase
    retries: int = 0  # further attempts after a transient failure (classify.RETRYABLE)
    http: bool = False  # also GET / once verified
    environ: Mapping[str, str] | None = None  # where HTTPS_PROXY / NO_PROXY are read; default: this process's


@record
class ProbeJob:
    host: str
    port: int
    store: TrustStore
    connect_to: tuple[str, int | None] | None = None  # connect here instead (no port: `port`); host stays the SNI
    users: tuple[str, ...] = ()  # who uses the store, for the report


def run_probes(jobs: Sequence[ProbeJob], settings: ProbeSettings = ProbeSettings(), workers: int = DEFAULT_JOBS,
               deadline: float | None = DEFAULT_DEADLINE) -> list[ProbeResult]:
    """Probe every job with at most `workers` at a time; the whole run ends within `deadline` seconds (a probe
    not started by then reports class `deadline`). Results are in the order of `jobs`."""
    until = None if deadline is None else time.monotonic() + deadline
    return run_all([probe(job, settings, until) for job in jobs], workers)


def probe_with_store(host: str, port: int, store: str | os.PathLike[str] | Sequence[bytes], *, password: str | None = None,
                     label: str = "certificates given", users: Sequence[str] = (), connect_to: tuple[str, int] | None = None,
                     timeout: float = DEFAULT_TIMEOUT, retries: int = 0, http: bool = False,
                     environ: Mapping[str, str] | None = None, deadline: float | None = None) -> ProbeResult:
    """Probe host:port trusting only `store`: a path (PEM or DER file, hashed directory, JKS/JCEKS/PKCS#12
    keystore opened with `password`) or DER certificates, shown as `label`. `users` name the clients that
    use the store; `deadline` (seconds) bounds the whole probe, retries included."""
    if isinstance(store, (str, os.PathLike)):
        trust = TrustStore.load(os.fspath(store), password)
    else:
        trust = TrustStore(label, list(store))
    job = ProbeJob(host, port, trust, connect_to, tuple(users))
    return run_probes([job], ProbeSettings(timeout, retries, http, environ), 1, deadline)[0]


def probe(job: ProbeJob, settings: ProbeSettings, run_until: float | None = None) -> Task[ProbeResult]:
    """One job: attempts until one passes, fails for a reason a retry cannot change, or retries run out."""
    attempts: list[dict[str, str | float]] = []
    for _ in range(settings.retries + 1):
        result = yield from _attempt(job, settings, run_until)
        attempts.append({"result": result.failure or "pass", "elapsed_ms": result.elapsed_ms})
        if result.failure not in RETRYABLE or (run_until is not None and time.monotonic() >= run_until):
            break
    result.attempts = attempts
    return result


class _Phases:
    """Each phase's deadline (its timeout, cut short by the run's deadline) and its duration.

    Phases follow one another without a gap, each starting when the previous one ended, and the connect
    phase ends when the kernel reported the connection open, not when the loop got round to it. So the
    times add up to the attempt's, the connect time is the network's, and the handshake's timeout runs from
    the moment the connection was open, time this probe spent queued behind others included, as a
    client's own socket timeout would count it."""

    def __init__(self, timeout: float, run_until: float | None, timings: dict[str, float]):
        self.timeout, self.run_until, self.timings = timeout, run_until, timings
        self.name, self.started, self.clipped, self.open = "proxy", time.monotonic(), False, False
        self.ended: float | None = None

    def begin(self, name: str) -> float:
        self.name, self.open = name, True
        self.started = time.monotonic() if self.ended is None else self.ended
        until = self.started + self.timeout
        self.clipped = self.run_until is not None and self.run_until < until
        return self.run_until if self.run_until is not None and self.clipped else until

    def end(self, at: float | None = None) -> None:
        if self.open:
            ended = self.ended = time.monotonic() if at is None else at
            self.timings[self.name] = round((ended - self.started) * 1000, 1)
            self.open = False


def _attempt(job: ProbeJob, settings: ProbeSettings, run_until: float | None) -> Task[ProbeResult]:
    store = job.store
    connect_to = job.connect_to and (job.connect_to[0], job.connect_to[1] or job.port)
    result = ProbeResult(job.host, job.port, store.label, store.format, len(store.certificates), job.users,
                         connect_to=host_port(*connect_to) if connect_to else None, notes=_notes(store))
    started = time.monotonic()
    if not store.certificates:
        return _failed(result, ProbeFailure("store-unusable", "; ".join(store.problems) or "the store is empty"), started)
    if run_until is not None and started >= run_until:
        return _failed(result, ProbeFailure("deadline", "not started: the run's deadline had passed"), started)
    phases = _Phases(settings.timeout, run_until, result.timings_ms)
    proxy = sock = shake = None
    try:
        if connect_to is None:
            proxy = proxy_for(job.host, job.port, os.environ if settings.environ is None else settings.environ)
            result.proxy = proxy.shown if proxy else None
        address = connect_to or ((proxy.host, proxy.port) if proxy else (job.host, job.port))
        addresses = yield from resolve(*address, phases.begin("dns"))
        phases.end()
        sock, opened = yield from open_tcp(addresses, phases.begin("connect"))
        phases.end(opened)
        if proxy:
            yield from tunnel(sock, proxy, job.host, job.port, phases.begin("proxy"))
            phases.end()
        shake = yield from handshake(sock, store, job.host, phases.begin("handshake"))
        phases.end()
        result.chain = [chain.describe(der) for der in shake.sent or []]
        if shake.error is not None:
            raise shake.error
        cipher = shake.tls.cipher()  # None only before a handshake
        result.tls_version, result.cipher = shake.tls.version(), cipher[0] if cipher else None
        if shake.verified:
            result.path = [chain.describe(der) for der in shake.verified]
            result.anchor = chain.anchor(shake.verified[-1], dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"))
        if settings.http:
            result.http = yield from get_root(shake.tls, job.host, phases.begin("http"))
            phases.end()
    except (OSError, TunnelError, ValueError) as exc:  # socket, resolver and ssl errors are OSError; a bad name ValueError
        phases.end()
        failure = classify(phases.name, exc, timeout=settings.timeout, by_run_deadline=phases.clipped,
                           proxy=result.proxy, sent=shake.sent if shake else None, store=store.certificates,
                           host=job.host)
        _failed(result, failure, started)
    finally:
        for connection in (shake.tls if shake else None, sock):
            if connection is not None:
                connection.close()
    result.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    return result


def _failed(result: ProbeResult, failure: ProbeFailure, started: float) -> ProbeResult:
    result.failure, result.detail, result.message = failure.failure, failure.detail, failure.message
    result.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    return result


def _notes(store: TrustStore) -> list[str]:
    notes = [f"store: {problem}" for problem in store.problems[:3]]
    if store.skipped:
        notes.append(f"{store.skipped} certificates of the store could not be loaded by OpenSSL and were left out")
    if sys.version_info < (3, 10):
        notes.append("Python 3.9 shows neither the chain the server sent nor the path built; only the server's own "
                     "certificate, on success")
    return notes
