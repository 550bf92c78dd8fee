"""The sign-in confirmation page, and the page that says why a sign-in link does not work.

A link ``…/lab?token=wsp_…`` must never sign a browser in by itself: anyone can
send a link, and a browser signed into the sender's account works (and saves,
and runs code) as the sender — a login CSRF. So a page load with ``?token=``
shows who the link would sign in (name, email, workspace roles) with a button
that POSTs the token, under another field name and with the XSRF token, to
:class:`~.sign_in.SignInHandler`, which then sets the login cookie. A link that
does not work (unknown, revoked, expired token) gets a page saying so and what to
do next, with status 401.

Both pages extend Jupyter's own ``page.html`` (the login page's look) through
the server's Jinja environment, which escapes every value; values that come from
users are escaped explicitly as well, so a changed ``jinja_environment_options``
cannot turn them into markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jupyter_server.base.handlers import AuthenticatedHandler
from tornado.web import RequestHandler

from ..policy import PolicySnapshot, Subject, visible_workspaces

SIGN_IN_PATH = "workspace-perms/sign-in"  # below the server's base URL
SIGN_IN_FIELD = "sign_in_token"  # never "token": Jupyter reads that field as a credential
LINK_ARGUMENT = "token"


@dataclass(frozen=True)
class TokenProblem:
    """Why a presented token does not sign anyone in: a reason code and words for people."""

    reason: str  # unknown_token, expired_token
    message: str

    @property
    def what_next(self) -> str:
        """What the person holding the token can do about it."""
        return (
            "Ask whoever gave you the link or token for a new one (operators create tokens "
            "with `jupyter workspace-perms token create EMAIL`), or sign in on the sign-in page."
        )


def unknown_token() -> TokenProblem:
    """A token-shaped secret the server does not know (mistyped, cut off, or revoked)."""
    return TokenProblem(
        "unknown_token",
        "This token is not known to this server: it may be mistyped, cut off or revoked.",
    )


def expired_token(expires_at: float) -> TokenProblem:
    """A known token past its expiry."""
    when = datetime.fromtimestamp(expires_at, timezone.utc).isoformat(timespec="seconds")
    return TokenProblem("expired_token", f"This token expired at {when.replace('+00:00', 'Z')}.")


@dataclass(frozen=True)
class SignInPerson:
    """Who a sign-in link would sign the browser in as, in words."""

    name: str
    email: str
    login_provider: str
    roles: tuple[str, ...]


def roles_in_words(snap: PolicySnapshot, subject: Subject, now: float) -> tuple[str, ...]:
    """``("Admin of acme", "Guest in beta")``: every workspace the person would act in."""
    words = []
    for listing in visible_workspaces(snap, subject, now):
        slug = listing.workspace.slug
        if listing.sso_blocked:
            needs = listing.workspace.enforced_sso_provider
            words.append(f"Member of {slug}, blocked until signed in with {needs}")
        elif listing.role is not None:
            words.append(f"{listing.role.name.capitalize()} of {slug}")
        elif listing.guest:
            words.append(f"Guest in {slug} (shared projects only)")
    return tuple(words)


def link_target(handler: Any) -> str:
    """The URL the link asked for, without its ``token`` argument(s), on this server.

    It becomes the form's ``next`` (checked again on the POST) and the Cancel link,
    so a path that a browser would read as another host (``//evil.example/``, a
    backslash) or that is outside the server's base URL becomes the base URL.
    """
    base_url = str(handler.base_url)
    parts = urlsplit(handler.request.uri or "/")
    path = parts.path or "/"
    if path.startswith("//") or "\\" in path or not (path + "/").startswith(base_url):
        return base_url
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != LINK_ARGUMENT
    ]
    return urlunsplit(("", "", path, urlencode(query), ""))


_PAGE = """{% extends "page.html" %}
{% block title %}{{ title|e }}{% endblock %}
{% block meta %}<meta name="referrer" content="same-origin">{% endblock meta %}
{% block stylesheet %}
<style>
  .wsp-sign-in { max-width: 40em; margin: 2em auto; }
  .wsp-sign-in dl { margin: 1em 0; }
  .wsp-sign-in dt { font-weight: bold; margin-top: 0.5em; }
  .wsp-sign-in .wsp-actions { margin-top: 1.5em; }
  .wsp-sign-in .wsp-actions a { margin-left: 1em; }
</style>
{% endblock stylesheet %}
{% block site %}
<main id="jupyter-main-app" class="container wsp-sign-in" aria-labelledby="wsp-heading">
  <h1 id="wsp-heading">{{ title|e }}</h1>
  {% if person %}
  <p>This link signs this browser in as:</p>
  <dl>
    <dt>Name</dt><dd id="wsp-name">{{ person.name|e }}</dd>
    <dt>Email</dt><dd id="wsp-email">{{ person.email|e }}</dd>
    <dt>Signs in with</dt><dd>{{ person.login_provider|e }}</dd>
    <dt>Workspace roles</dt>
    <dd>{% if person.roles %}<ul id="wsp-roles">{% for role in person.roles %}
      <li>{{ role|e }}</li>{% endfor %}</ul>{% else %}None yet{% endif %}</dd>
  </dl>
  {% if current %}
  <p>You are signed in as <strong>{{ current|e }}</strong> in this browser now; signing in
    replaces that.</p>
  {% endif %}
  <p>Continue only if this link is meant for you: everything you do after signing in is done
    as {{ person.name|e }}.</p>
  <form method="post" action="{{ action|e }}" class="wsp-actions">
    {{ xsrf_form_html() | safe }}
    <input type="hidden" name="{{ field|e }}" value="{{ secret|e }}">
    <input type="hidden" name="next" value="{{ next_url|e }}">
    <button type="submit" class="btn btn-primary" id="wsp-sign-in">Sign in as
      {{ person.name|e }}</button>
    <a href="{{ next_url|e }}" id="wsp-cancel">Cancel</a>
  </form>
  {% else %}
  <p role="alert" id="wsp-problem">{{ problem.message|e }}</p>
  <p>{{ problem.what_next|e }}</p>
  <p><a href="{{ login_url|e }}" id="wsp-login">Go to the sign-in page</a></p>
  {% endif %}
</main>
{% endblock site %}
"""


def _render(handler: Any, status: int, **values: Any) -> None:
    """Write one of the two pages, rendered with Jupyter's page template."""
    # nobody is signed in by this response (and page.html asks whether someone is)
    handler.current_user = handler._jupyter_current_user = None
    template = handler.settings["jinja2_env"].from_string(_PAGE)
    namespace = {
        **handler.template_namespace,
        # the page shows where the link pointed (/lab, /tree, …), whose handlers serve
        # their own static files: the page's styles, icon and logo are the server's
        "static_url": lambda path, **kw: RequestHandler.static_url(handler, path, **kw),
    }
    write_page(handler, status, template.render(**namespace, **values))


def write_page(handler: Any, status: int, html: str) -> None:
    """Finish with ``html``: a page whose URL may hold a secret, with a form to post.

    Kept out of caches, frames and other sites' Referer headers (this server's own
    pages need a Referer: /files checks it), under the server's own content security
    policy without a route's additions (/files adds "sandbox", which would stop the
    form from being sent).
    """
    handler.set_status(status)
    handler.set_header("Content-Type", "text/html; charset=UTF-8")
    handler.set_header("Cache-Control", "no-store")
    handler.set_header("Referrer-Policy", "same-origin")
    handler.set_header("X-Frame-Options", "DENY")
    server_policy: property = vars(AuthenticatedHandler)["content_security_policy"]
    handler.set_header("Content-Security-Policy", server_policy.__get__(handler))
    RequestHandler.finish(handler, html)  # not a subclass's finish (an API's sets JSON)


def render_confirmation(
    handler: Any, person: SignInPerson, secret: str, next_url: str, current: str | None
) -> None:
    """The "Sign in as …?" page (200): the token travels on only in the form's POST."""
    _render(
        handler,
        200,
        title=f"Sign in as {person.name} ({person.email})?",
        person=person,
        current=current,
        action=handler.base_url + SIGN_IN_PATH,
        field=SIGN_IN_FIELD,
        secret=secret,
        next_url=next_url,
    )


def render_problem(handler: Any, problem: TokenProblem, next_url: str | None = None) -> None:
    """The page (401) for a sign-in link or token that signs nobody in."""
    login_url = handler.base_url + "login"
    if next_url:
        login_url += "?" + urlencode({"next": next_url})
    _render(
        handler,
        401,
        title="This sign-in link does not work",
        person=None,
        problem=problem,
        login_url=login_url,
    )
