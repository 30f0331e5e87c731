"""The client's address: from the reverse proxy's header only when the request comes from that proxy.

``TRUSTED_PROXIES`` lists the proxies' addresses or networks; ``CLIENT_ADDRESS_HEADER`` names the header they
set (``X-Forwarded-For`` by default). A request from anywhere else is taken at its REMOTE_ADDR, so a
client cannot choose its own address by sending the header. In the header the address nearest the end that
is not one of our proxies is the client: everything left of it was written by the client itself.
"""

import functools
import ipaddress

from django.conf import settings

IPv4_PREFIX, IPv6_PREFIX = 32, 64


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def trusted_networks() -> tuple:
    return _networks(tuple(settings.TRUSTED_PROXIES))


def _parse(text: str):
    text = (text or "").strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1 and "." in text:
        text = text.split(":", 1)[0]  # "203.0.113.7:51234"
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address) -> bool:
    return any(address in network for network in trusted_networks())


def client_address(request) -> str:
    """The client's IP address as text ("" when the request gives none)."""
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    if not _trusted(peer):
        return str(peer)
    header = "HTTP_" + settings.CLIENT_ADDRESS_HEADER.upper().replace("-", "_")
    hops = [_parse(part) for part in request.META.get(header, "").split(",")]
    for hop in reversed(hops):
        if hop is None:
            # A hop our proxy wrote cannot be garbage: the header was not set by it. Trust the proxy alone.
            return str(peer)
        if not _trusted(hop):
            return str(hop)
    return str(peer)


def client_network(address: str) -> str:
    """What rate limits count by: the IPv4 address, or the /64 an IPv6 address lies in (one household's line)."""
    parsed = _parse(address)
    if parsed is None:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    prefix = IPv6_PREFIX if parsed.version == 6 else IPv4_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))


def axes_client_address(request) -> str | None:
    """django-axes counts login failures by the same client, an IPv6 /64 as one (its first address)."""
    network = client_network(client_address(request))
    if network == "unknown":
        return None
    return network.split("/", 1)[0]
