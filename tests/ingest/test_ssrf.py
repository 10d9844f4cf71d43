"""The URL policy: which URLs and resolved addresses may be connected to. No network: resolvers are injected."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from app.ingest import ResolvedUrl, UrlFetchFailed, UrlNotAllowed, UrlPolicy
from app.ingest.ssrf import Resolver


def table_resolver(table: dict[str, list[str]]) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


PUBLIC = UrlPolicy(
    resolver=table_resolver(
        {
            "media.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
            "split.example.com": ["93.184.215.14", "10.1.2.3"],
            "metadata.example.com": ["169.254.169.254"],
            "mapped.example.com": ["::ffff:192.168.1.1"],
        }
    )
)


def test_public_url_resolves_to_every_address() -> None:
    resolved = PUBLIC.check("https://media.example.com/talk.mp3?x=1")

    assert resolved == ResolvedUrl(
        url="https://media.example.com/talk.mp3?x=1",
        scheme="https",
        host="media.example.com",
        port=443,
        addresses=(ip_address("93.184.215.14"), ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")),
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://media.example.com/a.mp3", "only http and https URLs can be fetched"),
        ("file:///etc/passwd", "only http and https URLs can be fetched"),
        ("gopher://media.example.com/", "only http and https URLs can be fetched"),
        ("http://user:secret@media.example.com/a.mp3", "URLs with credentials are not accepted"),
        ("http:///a.mp3", "the URL has no host"),
        ("http://127.0.0.1/", "the host resolves to a non-public address (loopback)"),
        ("http://127.1.2.3:8080/", "the host resolves to a non-public address (loopback)"),
        ("http://[::1]/", "the host resolves to a non-public address (loopback)"),
        ("http://10.0.0.1/", "the host resolves to a non-public address (private)"),
        ("http://192.168.1.10/", "the host resolves to a non-public address (private)"),
        ("http://172.16.0.1/", "the host resolves to a non-public address (private)"),
        ("http://169.254.169.254/latest/meta-data", "the host resolves to a non-public address (link-local)"),
        ("http://100.64.0.1/", "the host resolves to a non-public address (non-global)"),
        ("http://224.0.0.1/", "the host resolves to a non-public address (multicast)"),
        ("http://0.0.0.0/", "the host resolves to a non-public address (unspecified)"),
        ("http://[::ffff:127.0.0.1]/", "the host resolves to a non-public address (loopback)"),
        ("http://[::127.0.0.1]/", "the host resolves to a non-public address (reserved)"),
        ("http://[64:ff9b::a00:1]/", "the host resolves to a non-public address (reserved)"),
        ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", "the host resolves to a non-public address (private)"),
        ("http://[2002:a9fe:a9fe::1]/", "the host resolves to a non-public address (link-local IPv4 inside IPv6)"),
        ("http://[fd00::1]/", "the host resolves to a non-public address (private)"),
        ("http://[fe80::1]/", "the host resolves to a non-public address (link-local)"),
        ("http://[ff02::1]/", "the host resolves to a non-public address (multicast)"),
        ("http://split.example.com/a.mp3", "the host resolves to a non-public address (private)"),
        ("http://metadata.example.com/", "the host resolves to a non-public address (link-local)"),
        ("http://mapped.example.com/", "the host resolves to a non-public address (private)"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    with pytest.raises(UrlNotAllowed) as caught:
        PUBLIC.check(url)

    assert caught.value.status_code == 422
    assert caught.value.error_code == "URL_NOT_ALLOWED"
    assert caught.value.details == {"url": url, "reason": reason}


def test_localhost_is_refused_through_the_system_resolver() -> None:
    with pytest.raises(UrlNotAllowed, match="loopback"):
        UrlPolicy().check("http://localhost:8000/a.mp3")


def test_allowed_network_exempts_its_addresses_only() -> None:
    policy = UrlPolicy(allowed_networks=("127.0.0.1/32",))

    assert policy.check("http://127.0.0.1:9/a.flac").addresses == (ip_address("127.0.0.1"),)
    assert policy.check("http://[::ffff:127.0.0.1]:9/").port == 9
    with pytest.raises(UrlNotAllowed):
        policy.check("http://127.0.0.2/")
    with pytest.raises(UrlNotAllowed):
        policy.check("http://[::1]/")


def test_unresolvable_host_is_a_fetch_failure() -> None:
    with pytest.raises(UrlFetchFailed) as caught:
        PUBLIC.check("http://nowhere.example.com/a.mp3")

    assert caught.value.details == {"url": "http://nowhere.example.com/a.mp3", "reason": "unresolvable host"}


def test_refusal_does_not_reveal_the_internal_address() -> None:
    with pytest.raises(UrlNotAllowed) as caught:
        PUBLIC.check("http://split.example.com/")

    assert "10.1.2.3" not in str(caught.value.details)
    assert "10.1.2.3" not in caught.value.message


def test_invalid_allowed_network_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.1/8"):
        UrlPolicy(allowed_networks=("10.0.0.1/8",))
