"""The scraper's address policy, checked on URLs and resolved addresses without connecting.

Nothing here opens a socket: each row is the policy's own answer for a URL (any numeric form
a resolver accepts is read as the address it stands for) or for what a name resolved to.
"""

from __future__ import annotations

import ipaddress

import pytest

from trove.config import SettingsError, load_settings
from trove.scraper.policy import AllowList, Refused, check_addresses, check_url, refusal

NOBODY = AllowList()

# (URL, the words the refusal must contain)
REFUSED = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://017700000001/", "loopback"),
    ("http://127.0.0.2:8080/", "loopback"),
    ("http://0/", "unspecified"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://0300.0250.0.1/", "private"),
    ("http://3232235777/", "private"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://0xa9fea9fe/", "metadata"),
    ("http://169.254.1.1/", "link-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://192.0.2.1/", "documentation"),
    ("http://[::1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[fc00::1]/", "unique-local"),
    ("http://[fd12:3456::1]/", "unique-local"),
    ("http://[fd00:ec2::254]/", "metadata"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fec0::1]/", "site-local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[::127.0.0.1]/", "loopback"),
    ("http://[64:ff9b::10.0.0.1]/", "private"),
    ("http://[64:ff9b:1::1]/", "NAT64"),
    ("http://[2002:c0a8:101::1]/", "private"),
    ("http://[2002:7f00:1::]/", "loopback"),
    ("http://[2001:0:4136:e378::1]/", "Teredo"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[100::1]/", "discard"),
    ("http://[fe80::1%25eth0]/", "zone id"),
    ("ftp://example.com/file", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("gopher://example.com/", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("http://user:secret@example.com/", "credentials"),
    ("http://example.com@10.0.0.1/", "credentials"),
    ("http://%31%32%37.0.0.1/", "not a valid host"),
    ("http://1.2.3.4.5/", "neither a host name nor an IPv4"),
    ("http://0x100000000/", "out of range"),
    ("http://256.1.1.1/", "not a valid URL"),
    ("http://08.0.0.1/", "octal"),
    ("http://example.1/", "neither a host name nor an IPv4"),
    ("http://exa_mple.com/", "not a valid host"),
]

ALLOWED = [
    "http://example.com/",
    "https://example.com:8443/a?b=c#d",
    "http://EXAMPLE.com./",
    "http://bücher.example/",
    "http://8.8.8.8/",
    "http://134744072/",  # 8.8.8.8
    "http://[2606:4700:4700::1111]/",
    "http://[::ffff:8.8.8.8]/",
    "http://[64:ff9b::8.8.8.8]/",
    "http://[2002:0808:0808::1]/",
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_a_url_to_a_non_public_address_in_any_spelling_is_refused_with_its_reason(url, reason):
    with pytest.raises(Refused, match=reason):
        check_url(url, allow=NOBODY)


@pytest.mark.parametrize("url", ALLOWED)
def test_a_url_to_a_public_name_or_address_passes(url):
    target = check_url(url, allow=NOBODY)
    assert target.scheme in {"http", "https"}
    assert not target.allowed


def test_numeric_forms_are_read_as_the_address_a_resolver_makes_of_them():
    forms = ["http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/"]
    allow = AllowList.parse("127.0.0.1")
    assert {str(check_url(url, allow=allow).literal) for url in forms} == {"127.0.0.1"}
    assert check_url("http://[::ffff:7f00:1]/", allow=NOBODY.parse("[::ffff:127.0.0.1]")).allowed


def test_a_name_is_refused_when_any_address_it_resolves_to_is_not_public():
    target = check_url("http://shop.example/", allow=NOBODY)
    public, private = ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.1.2.3")
    assert check_addresses(target, [public, ipaddress.ip_address("2606:2800::1")]) == public
    with pytest.raises(Refused, match=r"shop.example resolves to 10.1.2.3.*private"):
        check_addresses(target, [public, private])
    with pytest.raises(Refused, match="metadata"):
        check_addresses(target, [ipaddress.ip_address("::ffff:169.254.169.254")])
    with pytest.raises(Refused, match="no address"):
        check_addresses(target, [])


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.53", "loopback"),
        ("10.255.255.255", "private"),
        ("172.31.0.1", "private"),
        ("100.127.255.254", "CGNAT"),
        ("100.100.100.200", "metadata"),
        ("169.254.169.254", "metadata"),
        ("::ffff:192.168.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "metadata"),
        ("fd00::1", "unique-local"),
        ("::1", "loopback"),
    ],
)
def test_resolved_addresses_are_judged_without_connecting(address, reason):
    assert reason in (refusal(ipaddress.ip_address(address)) or "")


def test_an_allowed_host_passes_on_its_port_only_and_not_by_the_address_it_resolves_to():
    allow = AllowList.parse("intranet.lan:8080, [::1], 127.0.0.1:9000")
    target = check_url("http://intranet.lan:8080/wiki", allow=allow)
    assert target.allowed
    check_addresses(target, [ipaddress.ip_address("192.168.0.10")])  # allowed explicitly
    with pytest.raises(Refused):
        other_port = check_url("http://intranet.lan:8081/", allow=allow)
        check_addresses(other_port, [ipaddress.ip_address("192.168.0.10")])
    assert check_url("http://[::1]:1234/", allow=allow).allowed
    assert check_url("http://127.1:9000/", allow=allow).allowed
    with pytest.raises(Refused, match="loopback"):
        check_url("http://127.0.0.2:9000/", allow=allow)


def test_the_allow_list_comes_from_the_environment_and_a_bad_entry_names_the_setting(tmp_path):
    settings = load_settings(
        environ={"XDG_DATA_HOME": str(tmp_path), "TROVE_SCRAPER_ALLOW_HOSTS": "wiki.lan, [::1]:81"}
    )
    assert AllowList.parse(settings.scraper_allow_hosts).entries == {
        ("wiki.lan", None),
        ("::1", 81),
    }
    with pytest.raises(SettingsError, match="TROVE_SCRAPER_ALLOW_HOSTS"):
        load_settings(environ={"TROVE_SCRAPER_ALLOW_HOSTS": "wiki.lan:notaport"})
