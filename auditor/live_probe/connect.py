"""Reaching an endpoint: name resolution with a timeout, TCP, and an HTTP CONNECT tunnel through the
proxy HTTPS_PROXY names unless NO_PROXY exempts the host. Every step ends by an absolute deadline
(time.monotonic()); the proxy's credentials go into the CONNECT request only, never into a result."""

from __future__ import annotations

import base64
import errno
import functools
import ipaddress
import os
import re
import socket
import threading
import time
from typing import Mapping, Sequence
from urllib.parse import unquote, urlsplit

from auditor.live_probe.classify import TunnelError
from auditor.live_probe.loop import READ, WRITE, Task, Wait, when_ready
from auditor.records import record
from auditor.redact import redact

MAX_PROXY_ANSWER = 16 * 1024


@record
class Proxy:
    host: str
    port: int
    authorization: str | None  # the Proxy-Authorization header value
    shown: str  # the URL with its credentials redacted


def host_port(host: str, port: int) -> str:
    """host:port as a URL or CONNECT request writes it: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def proxy_for(host: str, port: int, environ: Mapping[str, str]) -> Proxy | None:
    """The proxy a client honouring HTTPS_PROXY / NO_PROXY (lower case first, as curl and requests read them)
    would use for host:port. Without a port the proxy's is 80, as urllib3 (requests, botocore) assumes."""
    url = environ.get("https_proxy") or environ.get("HTTPS_PROXY")
    if not url or bypassed(host, port, environ.get("no_proxy") or environ.get("NO_PROXY") or ""):
        return None
    url = url if "://" in url else f"http://{url}"
    try:
        parts = urlsplit(url)
        proxy_port = parts.port or 80
    except ValueError:  # its message would quote what it took for the port: maybe half a password
        raise TunnelError("the proxy URL in HTTPS_PROXY is not valid (a '/', '@' or ':' in its user name or "
                          "password must be percent-encoded)") from None
    if parts.scheme != "http" or not parts.hostname:
        raise TunnelError(f"proxy {redact(url)}: only http:// proxies are supported")
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(credentials).decode("ascii")
    shown = f"http://{'***@' if parts.username is not None else ''}{host_port(parts.hostname, proxy_port)}"
    return Proxy(parts.hostname, proxy_port, authorization, shown)


def bypassed(host: str, port: int, no_proxy: str) -> bool:
    """Whether NO_PROXY exempts host:port: `*`, a domain and its subdomains (with or without a leading dot),
    an IP address or CIDR range, each optionally with :port."""
    host = host.lower().strip("[]")
    for entry in re.split(r"[,\s]+", no_proxy.lower()):
        name, entry_port = entry, ""
        if entry.startswith("["):  # [::1]:443
            name, _, rest = entry[1:].partition("]")
            entry_port = rest.lstrip(":")
        elif entry.count(":") == 1:
            name, entry_port = entry.split(":")
        if not name or (entry_port and entry_port != str(port)):
            continue
        if name == "*" or _matches(host, name.lstrip(".")):
            return True
    return False


def _matches(host: str, name: str) -> bool:
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(name, strict=False)
    except ValueError:
        return host == name or host.endswith("." + name)


# One answer of getaddrinfo: (family, type, protocol, canonical name, address)
AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str,
                 "tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes]"]


def resolve(host: str, port: int, until: float) -> Task[Sequence[AddrInfo]]:
    """Addresses of host:port. getaddrinfo cannot be interrupted, so a name is resolved in a daemon thread
    that wakes the probe loop through a socket pair, and is abandoned at the deadline (it ends when the
    resolver gives up). An IP address is used as it is."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        if address.version == 4:
            return [(socket.AF_INET, socket.SOCK_STREAM, 0, "", (str(address), port))]
        return [(socket.AF_INET6, socket.SOCK_STREAM, 0, "", (str(address), port, 0, 0))]
    found: list[Sequence[AddrInfo]] = []  # the answer, or the error, set by the thread before it wakes the probe
    failed: list[OSError] = []
    answered, answer = socket.socketpair()

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)
        with answer:
            try:
                answer.send(b".")
            except OSError:
                pass  # the probe gave up waiting

    threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
    with answered:
        try:
            yield Wait(answered, READ, until)
        except TimeoutError:
            raise TimeoutError(f"no answer from the resolver for {host}") from None
    if failed:
        raise failed[0]
    return found[0]


def open_tcp(addresses: Sequence[AddrInfo], until: float) -> Task[tuple[socket.socket, float]]:
    """A connected non-blocking socket to the first address that accepts, and the time it was seen open;
    the last error if none does."""
    error: OSError = OSError("no address to connect to")
    for family, kind, protocol, _, address in addresses:
        sock = socket.socket(family, kind, protocol)
        sock.setblocking(False)
        try:
            code, opened = sock.connect_ex(address), time.monotonic()
            if code in (errno.EINPROGRESS, errno.EWOULDBLOCK):
                opened = yield Wait(sock, WRITE, until)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                raise OSError(code, os.strerror(code))  # the subclass for the code: ConnectionRefusedError, …
            return sock, opened
        except OSError as exc:
            sock.close()
            error = exc
            if isinstance(exc, TimeoutError):
                break  # the phase's time is spent
        except BaseException:
            sock.close()
            raise
    raise error


def tunnel(sock: socket.socket, proxy: Proxy, host: str, port: int, until: float) -> Task[None]:
    """Ask the proxy for a tunnel to host:port (HTTP CONNECT); TunnelError unless it answers 200."""
    target = host_port(host, port)
    request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
    if proxy.authorization:
        request += f"Proxy-Authorization: {proxy.authorization}\r\n"
    yield from send_all(sock, (request + "\r\n").encode("ascii"), until)
    answer = b""
    while b"\r\n\r\n" not in answer:
        if len(answer) > MAX_PROXY_ANSWER:
            raise TunnelError(f"proxy {proxy.shown}: no end to its answer's headers in {MAX_PROXY_ANSWER} bytes")
        data = yield from when_ready(lambda: sock.recv(4096), sock, READ, until)
        if not data:
            raise TunnelError(f"proxy {proxy.shown} closed the connection without answering CONNECT")
        answer += data
    status = answer.split(b"\r\n", 1)[0].decode("latin-1")
    fields = status.split(" ", 2)
    if len(fields) < 2 or fields[1] != "200":
        hint = ": it wants credentials, or other ones" if len(fields) > 1 and fields[1] == "407" else ""
        raise TunnelError(f"proxy {proxy.shown} answered '{status}' to CONNECT {target}{hint}")


def send_all(sock: socket.socket, data: bytes, until: float) -> Task[None]:
    """Send every byte of `data` on a non-blocking socket (plain or TLS)."""
    view = memoryview(data)
    while view:
        sent = yield from when_ready(functools.partial(sock.send, view), sock, WRITE, until)
        view = view[sent:]
