"""Outbound URL safety (SSRF guard) shared by everything that fetches a URL someone typed in
(feeds, webhooks), and the HTTP clients they share. Only http(s); hosts must resolve to public
addresses unless allowed."""

import ipaddress
import socket
import threading
from urllib.parse import urlsplit

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
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BlockedURL(f"cannot resolve {host}: {exc.strerror}", kind="dns") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not _is_public(address):
            raise BlockedURL(f"{host} resolves to {address}, a private, loopback, link-local or reserved address")


_clients: dict[str, httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_client(purpose: str, **options) -> httpx.Client:
    """One httpx client per purpose per process (thread-safe), built on first use with `options`:
    building one loads the CA bundle (~45 ms), too slow to do per request. Redirects are never
    followed unless a caller follows them itself, checking each hop (a redirect could lead past
    check_url)."""

    with _clients_lock:
        if purpose not in _clients:
            _clients[purpose] = httpx.Client(follow_redirects=False, **options)
        return _clients[purpose]
