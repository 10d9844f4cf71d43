"""Which URLs the service may fetch on a user's behalf (server-side request forgery protection).

A user-supplied URL must be http(s), carry no credentials, and its host must resolve only to publicly routable
addresses: one private answer among public ones is enough to refuse, because the connection could use any of them.
Operators can exempt networks (an intranet media server) with ``allowed_networks``.

The check alone does not stop DNS rebinding (a name that answers "public" to the check and "private" to the
connection); ``app.ingest.transport`` closes that gap by resolving through :meth:`UrlPolicy.resolve` at connect time
and connecting only to the addresses it just approved.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx

from app.ingest.errors import UrlFetchFailed, UrlNotAllowed

logger = logging.getLogger(__name__)

IPAddress = IPv4Address | IPv6Address
Resolver = Callable[[str, int], list[str]]
"""``(host, port) -> every address the host resolves to``, as strings; raises ``OSError`` when it cannot."""

ALLOWED_SCHEMES = ("http", "https")

_CATEGORIES = ("unspecified", "loopback", "link_local", "multicast", "site_local", "private", "reserved")


def system_resolver(host: str, port: int) -> list[str]:
    """Every IPv4 and IPv6 address the operating system resolves ``host`` to, in its preferred order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class ResolvedUrl:
    """A URL that passed the policy.

    Attributes:
        url: the URL, normalised.
        scheme: ``http`` or ``https``.
        host: the host name (or literal address) as written in the URL, IDNA-encoded.
        port: the port, explicit or the scheme's default.
        addresses: every address the host resolved to; all of them passed.
    """

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


class UrlPolicy:
    """Decides which URLs and addresses the service may connect to.

    Args:
        allowed_networks: CIDRs exempt from the public-address rule, e.g. ``("10.20.0.0/16",)`` for an intranet
            media server. Empty by default: only globally routable addresses.
        resolver: name resolution, injectable so tests can simulate any DNS answer without a network.

    Raises:
        ValueError: an entry of ``allowed_networks`` is not a CIDR (an operator's configuration error).
    """

    def __init__(self, allowed_networks: Sequence[str] = (), resolver: Resolver = system_resolver) -> None:
        self.allowed_networks: tuple[IPv4Network | IPv6Network, ...] = tuple(ip_network(n) for n in allowed_networks)
        self._resolver = resolver

    def check(self, url: str) -> ResolvedUrl:
        """Refuse a URL unless it is http(s), has no credentials, and its host resolves only to allowed addresses.

        Args:
            url: the user-supplied URL (or a redirect target).

        Returns:
            The URL with its host, port and every approved address.

        Raises:
            UrlNotAllowed: wrong scheme, credentials, no host, or any resolved address is not allowed.
            UrlFetchFailed: the host does not resolve.
        """
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise _refused(url, "not a valid URL") from exc
        if parsed.scheme not in ALLOWED_SCHEMES:
            raise _refused(url, f"only {' and '.join(ALLOWED_SCHEMES)} URLs can be fetched")
        if parsed.userinfo:
            raise _refused(url, "URLs with credentials are not accepted")
        host = parsed.raw_host.decode("ascii")
        if not host:
            raise _refused(url, "the URL has no host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = self.resolve(host, port, url=url)
        return ResolvedUrl(url=str(parsed), scheme=parsed.scheme, host=host, port=port, addresses=addresses)

    def resolve(self, host: str, port: int, *, url: str | None = None) -> tuple[IPAddress, ...]:
        """Resolve ``host`` and return its addresses, refusing unless every one of them is allowed.

        Args:
            host: a host name or a literal IPv4/IPv6 address (without brackets).
            port: the port to connect to (passed to the resolver).
            url: the URL being fetched, for the error details (defaults to ``host``).

        Returns:
            Every address, in the resolver's order; connect only to these.

        Raises:
            UrlNotAllowed: any address is not allowed.
            UrlFetchFailed: the host does not resolve.
        """
        shown = url or host
        try:
            answers = [host] if _is_literal(host) else self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise UrlFetchFailed(
                "The URL's host name could not be resolved", details={"url": shown, "reason": "unresolvable host"}
            ) from exc
        if not answers:
            raise UrlFetchFailed(
                "The URL's host name could not be resolved", details={"url": shown, "reason": "unresolvable host"}
            )
        addresses = tuple(ip_address(answer) for answer in answers)
        for address in addresses:
            reason = self.refusal(address)
            if reason is not None:
                # The address stays in the log: telling the client would let it map internal DNS names.
                logger.info("refused %s: %s resolves to %s (%s)", shown, host, address, reason)
                raise _refused(shown, f"the host resolves to a non-public address ({reason})")
        return addresses

    def refusal(self, address: IPAddress) -> str | None:
        """Why connecting to ``address`` is not allowed (e.g. ``"loopback"``), or ``None`` when it is."""
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed_networks):
            return None
        return _non_public(address)


def _non_public(address: IPAddress) -> str | None:
    for category in _CATEGORIES:
        if getattr(address, f"is_{category}", False):
            return category.replace("_", "-")
    if not address.is_global:
        return "non-global"
    # 6to4 addresses are global in Python's tables, yet route to the IPv4 address they embed (IPv4-mapped ones are
    # unwrapped by the caller; IPv4-compatible, NAT64 and Teredo ranges are already reserved or private).
    if isinstance(address, IPv6Address) and address.sixtofour is not None:
        reason = _non_public(address.sixtofour)
        if reason is not None:
            return f"{reason} IPv4 inside IPv6"
    return None


def _is_literal(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def _refused(url: str, reason: str) -> UrlNotAllowed:
    return UrlNotAllowed(f"This URL may not be fetched: {reason}", details={"url": url, "reason": reason})
