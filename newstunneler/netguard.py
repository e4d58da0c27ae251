"""Outbound URL safety (SSRF guard) shared by everything that fetches a URL someone typed in
(feeds, webhooks), and the HTTP clients they share. Only http(s); hosts must resolve to public
addresses unless allowed.

`check_url` answers early, with a clear reason, whether a URL may be fetched. The guard itself is in
the clients' connections (`VettedBackend`): every new connection resolves its host once, refuses it
unless every address is public, and connects to the address it checked. So a host whose DNS answers
a public address to the check and a private one to the connection (DNS rebinding) is refused, on
every redirect hop too."""

import ipaddress
import socket
import threading
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings


class BlockedURL(ValueError):
    """The URL is not allowed: bad scheme, no host, or a host resolving to a non-public address."""

    def __init__(self, message: str, kind: str = "blocked_address"):
        super().__init__(message)
        self.kind = kind


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved)


def check_url_syntax(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute http(s) URL, else BlockedURL(kind='invalid_url')."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedURL(f"not a valid URL: {exc}", kind="invalid_url") from None
    if parts.scheme not in ("http", "https"):
        raise BlockedURL(f"only http and https URLs are allowed, not {parts.scheme or 'no scheme'!r}", "invalid_url")
    if not parts.hostname:
        raise BlockedURL("the URL has no host", kind="invalid_url")
    if parts.username or parts.password:
        raise BlockedURL("credentials in the URL are not allowed", kind="invalid_url")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_url(url: str, allow_private: bool | None = None) -> None:
    """Raise BlockedURL unless `url` is http(s) and every address its host resolves to is public."""
    _, host, port = check_url_syntax(url)
    if allow_private is None:
        allow_private = settings.ALLOW_PRIVATE_URLS
    if not allow_private:
        vetted_addresses(host, port)


def vetted_addresses(host: str, port: int) -> list[str]:
    """Resolve `host` once; its addresses if every one is public, else BlockedURL (kind 'dns' when it
    does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BlockedURL(f"cannot resolve {host}: {exc.strerror}", kind="dns") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not _is_public(address):
            raise BlockedURL(f"{host} resolves to {address}, a private, loopback, link-local or reserved address")
        addresses.append(str(address))
    return addresses


class VettedBackend(httpcore.SyncBackend):
    """Opens each connection to an address that was checked in the same step: resolve, refuse unless
    every address is public (unless NT_ALLOW_PRIVATE_FEEDS), connect to the first. TLS still verifies
    the certificate against the host name (httpcore uses the URL's host for SNI and the check)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if not settings.ALLOW_PRIVATE_URLS:
            host = vetted_addresses(host, port)[0]
        return super().connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                   socket_options=socket_options)


DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool opening connections through VettedBackend."""

    def __init__(self, limits: httpx.Limits = DEFAULT_LIMITS):
        super().__init__(limits=limits, trust_env=False)
        # The pool httpx.HTTPTransport builds (no proxy), plus the vetting network backend. (httpx has no
        # option for a network backend; tests/articles/test_ssrf.py fails if this stops taking effect.)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=VettedBackend(),
        )


_clients: dict[str, httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_client(purpose: str, *, guarded: bool = True, limits: httpx.Limits | None = None,
                  **options) -> httpx.Client:
    """One httpx client per purpose per process (thread-safe), built on first use with `options`:
    building one loads the CA bundle (~45 ms), too slow to do per request. A guarded client (the
    default, for URLs from outside) connects only to vetted public addresses and ignores proxy
    environment variables (a proxy would connect on its own terms). Redirects are never followed
    unless a caller follows them itself."""
    with _clients_lock:
        if purpose not in _clients:
            if guarded:
                options["transport"] = GuardedTransport(**({"limits": limits} if limits else {}))
            elif limits:
                options["limits"] = limits
            _clients[purpose] = httpx.Client(follow_redirects=False, **options)
        return _clients[purpose]
