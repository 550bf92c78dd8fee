"""The demo's landing page: one card per persona, each a one-click sign-in.

Served only in demo mode (``c.WorkspacePermsExtension.demo_mode``), where the
demo's personas (:data:`~.world.PERSONAS`) are public by design: anyone who may use
the server may be any of them. Who may use the server is decided by the server's
own token, the one Binder (or ``jupyter workspace-perms demo``) puts in the URL it
opens: that token never signs anybody in, but it proves the visitor was handed this
server. So:

- ``GET workspace-perms/demo?token=<server token>`` (compared in constant time)
  sets a signed, HttpOnly cookie scoped to the base URL and redirects to the page
  without the token (it stays out of the history and of Referer headers). The
  cookie holds an HMAC of the base URL keyed by the token, and its name carries the
  host and port, like Jupyter's login cookie: a new token voids it, and another
  server of the same user (same cookie secret) does not take it;
- with that cookie the page shows the cards; without it, a page saying where the
  right link comes from (403);
- ``POST workspace-perms/demo/sign-in`` (XSRF-checked; the cookie required) with a
  persona's key replaces the login cookie with that persona's and goes to where the
  persona starts (a JSON answer when asked for one: the lab extension's switcher);
- ``GET workspace-perms/demo/personas`` lists the personas for the switcher.

A persona's sign-in is an ordinary login cookie: the identity provider re-reads the
user on every request, and every permission is decided by the policy as for anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler

from ..identity.pages import write_page
from ..identity.provider import WorkspaceIdentityProvider, WorkspaceUser, user_from_facts
from .world import PERSONAS, Persona

DEMO_PATH = "workspace-perms/demo"  # below the server's base URL
SIGN_IN_PATH = f"{DEMO_PATH}/sign-in"
PERSONAS_PATH = f"{DEMO_PATH}/personas"
DEMO_COOKIE = "workspace-perms-demo"  # the prefix: the host and port follow
#: How long the demo cookie lasts (days): a Binder session is shorter.
COOKIE_DAYS = 1
#: The page-config key that tells the lab extension the server runs the demo.
PAGE_CONFIG_KEY = "workspacePermsDemo"

PERSONAS_BY_KEY = {p.key: p for p in PERSONAS}

TOKEN_NEEDED = (
    "This page needs the link that started the demo: on Binder, launch the repository "
    "again (its badge opens this page); with `jupyter workspace-perms demo`, open the "
    "persona page it printed."
)


class DemoHandler(JupyterHandler):
    """What the demo's routes share: the cookie check, personas, answers."""

    @property
    def demo_cookie_name(self) -> str:
        """One name per host and port, as Jupyter names its login cookie."""
        return re.sub(r"[^A-Za-z0-9]", "-", f"{DEMO_COOKIE}-{self.request.host}")

    def demo_proof(self) -> str:
        """What the demo cookie holds: the base URL, signed with the server's token."""
        token = _server_token(self).encode()
        return hmac.new(token, self.base_url.encode(), hashlib.sha256).hexdigest()

    def has_demo_access(self) -> bool:
        """Whether this browser opened the landing page with the server's token."""
        if not _server_token(self):
            return False
        value = self.get_secure_cookie(self.demo_cookie_name, max_age_days=COOKIE_DAYS)
        return value is not None and hmac.compare_digest(value, self.demo_proof().encode())

    def persona_user(self, persona: Persona) -> WorkspaceUser | None:
        """The persona as a signed-in user, or None when the demo world lacks them."""
        provider = self.identity_provider
        if not isinstance(provider, WorkspaceIdentityProvider) or provider.store is None:
            return None
        facts = provider.store.snapshot.user_named(persona.email)
        return None if facts is None else user_from_facts(facts, persona.provider, None)

    def signed_in_as(self) -> str | None:
        """The username this browser is signed in as now, if any."""
        user = self.current_user
        return user.username if isinstance(user, WorkspaceUser) else None

    def personas(self) -> list[dict[str, Any]]:
        """The personas of the demo world, as the page and the switcher show them."""
        current = self.signed_in_as()
        found = []
        for persona in PERSONAS:
            user = self.persona_user(persona)
            if user is None:
                continue
            found.append(
                {
                    "key": persona.key,
                    "name": user.display_name,
                    "email": persona.email,
                    "shows": persona.shows,
                    "tries": persona.tries,
                    "current": user.username == current,
                }
            )
        return found

    def wants_json(self) -> bool:
        return "application/json" in self.request.headers.get("Accept", "")

    def answer_json(self, model: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(model))

    def refuse(self, status: int, message: str, reason: str) -> None:
        """``{"message", "reason"}`` to a script; a page saying so to a person."""
        if self.wants_json():
            self.answer_json({"message": message, "reason": reason}, status)
        else:
            render(self, status, title="The demo cannot do that", problem=message)


class LandingHandler(DemoHandler):
    """``GET workspace-perms/demo``: the persona cards."""

    @allow_unauthenticated
    def get(self) -> None:
        token = self.get_query_argument("token", "")
        if token:
            if not _is_server_token(self, token):
                self.refuse(
                    403, "This link's token is not this server's. " + TOKEN_NEEDED, "bad_token"
                )
                return
            self.set_secure_cookie(
                self.demo_cookie_name,
                self.demo_proof(),
                expires_days=COOKIE_DAYS,
                path=self.base_url,
                httponly=True,
                samesite="Lax",
                secure=self.request.protocol == "https" or None,
            )
            self.redirect(self.base_url + DEMO_PATH)
            return
        if not self.has_demo_access():
            self.refuse(403, TOKEN_NEEDED, "demo_token_needed")
            return
        personas = self.personas()
        if not personas:
            problem = (
                "The demo world is not built on this server's policy database: run "
                "`jupyter workspace-perms demo-world ROOT` with the server's database first."
            )
            render(self, 500, title="The demo world is missing", problem=problem)
            return
        render(
            self,
            200,
            title="Try jupyter-workspace-perms",
            personas=personas,
            action=self.base_url + SIGN_IN_PATH,
        )


class PersonaSignInHandler(DemoHandler):
    """``POST workspace-perms/demo/sign-in`` ``persona=KEY``: sign in as that persona."""

    @allow_unauthenticated
    def post(self) -> None:
        if not self.has_demo_access():
            self.refuse(403, TOKEN_NEEDED, "demo_token_needed")
            return
        key = self.get_body_argument("persona", "", strip=False)
        persona = PERSONAS_BY_KEY.get(key)
        user = None if persona is None else self.persona_user(persona)
        if persona is None or user is None:
            choices = ", ".join(PERSONAS_BY_KEY)
            self.refuse(
                404, f"no persona {key!r} in this demo: use one of {choices}", "unknown_persona"
            )
            return
        self.identity_provider.set_login_cookie(self, user)
        self.log.info("demo: this browser now signs in as %s", user.username)
        url = self.base_url + persona.start
        if self.wants_json():
            self.answer_json({"persona": key, "username": user.username, "url": url})
        else:
            self.redirect(url)


class PersonasHandler(DemoHandler):
    """``GET workspace-perms/demo/personas``: the lab extension's persona switcher."""

    @allow_unauthenticated
    def get(self) -> None:
        if not self.has_demo_access():
            # 200: a browser signed in by a personal link may still ask; it learns how
            self.answer_json({"personas": [], "message": TOKEN_NEEDED})
            return
        self.answer_json(
            {
                "personas": self.personas(),
                "sign_in_url": self.base_url + SIGN_IN_PATH,
                "landing_url": self.base_url + DEMO_PATH,
            }
        )


def _server_token(handler: JupyterHandler) -> str:
    """The server's own token, which the identity provider keeps off every page."""
    provider = handler.identity_provider
    if isinstance(provider, WorkspaceIdentityProvider):
        return provider.server_token or str(provider.token or "")
    return ""


def _is_server_token(handler: JupyterHandler, given: str) -> bool:
    """``given`` is the server's own token (never when the server has none)."""
    expected = _server_token(handler)
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


_PAGE = """{% extends "page.html" %}
{% block title %}{{ title|e }}{% endblock %}
{% block meta %}<meta name="referrer" content="same-origin">{% endblock meta %}
{% block stylesheet %}
<style>
  .wsp-demo { max-width: 60em; margin: 2em auto; padding: 0 1em; }
  .wsp-demo-cards { display: grid; gap: 1em;
    grid-template-columns: repeat(auto-fill, minmax(17em, 1fr)); margin: 1.5em 0; }
  .wsp-demo-card { border: 1px solid #ccc; border-radius: 6px; padding: 1em;
    display: flex; flex-direction: column; }
  .wsp-demo-card h2 { font-size: 1.2em; margin: 0 0 0.2em; }
  .wsp-demo-card .wsp-demo-role { font-weight: bold; margin: 0.2em 0 0.6em; }
  .wsp-demo-card .wsp-demo-email { color: #555; margin: 0; }
  .wsp-demo-card p.wsp-demo-tries { flex: 1; }
  .wsp-demo-card.wsp-demo-current { border-color: #1976d2; border-width: 2px; }
  .wsp-demo-card button { align-self: flex-start; }
</style>
{% endblock stylesheet %}
{% block site %}
<main id="jupyter-main-app" class="wsp-demo" aria-labelledby="wsp-heading">
  <h1 id="wsp-heading">{{ title|e }}</h1>
  {% if problem %}
  <p role="alert" id="wsp-problem">{{ problem|e }}</p>
  {% else %}
  <p>A team workspace, <strong>acme</strong>, with every role. Pick who to be: each
    button signs this browser in as that person and opens JupyterLab. Everything they may
    and may not do is decided by the server.</p>
  <p>Switch later from the name in JupyterLab's status bar. One browser is one person at a
    time: to be two personas at once, use two browser profiles (or a private window).</p>
  <div class="wsp-demo-cards">
  {% for p in personas %}
    <section class="wsp-demo-card{% if p.current %} wsp-demo-current{% endif %}"
      aria-labelledby="wsp-persona-{{ p.key|e }}" data-persona="{{ p.key|e }}">
      <h2 id="wsp-persona-{{ p.key|e }}">{{ p.name|e }}</h2>
      <p class="wsp-demo-email">{{ p.email|e }}</p>
      <p class="wsp-demo-role">{{ p.shows|e }}</p>
      <p class="wsp-demo-tries">{{ p.tries|e }}</p>
      <form method="post" action="{{ action|e }}">
        {{ xsrf_form_html() | safe }}
        <input type="hidden" name="persona" value="{{ p.key|e }}">
        <button type="submit" class="btn btn-primary">{% if p.current %}Continue as{% else
          %}Sign in as{% endif %} {{ p.name|e }}</button>
      </form>
    </section>
  {% endfor %}
  </div>
  {% endif %}
</main>
{% endblock site %}
"""


def render(handler: DemoHandler, status: int, **values: Any) -> None:
    """Write the landing page (or its problem page) with Jupyter's page template."""
    values.setdefault("problem", None)
    template = handler.settings["jinja2_env"].from_string(_PAGE)
    write_page(handler, status, template.render(**handler.template_namespace, **values))


default_handlers: list[tuple[str, Any]] = [
    (f"/{DEMO_PATH}", LandingHandler),
    (f"/{SIGN_IN_PATH}", PersonaSignInHandler),
    (f"/{PERSONAS_PATH}", PersonasHandler),
]


def page_config(config: dict[str, Any]) -> None:
    """Tell JupyterLab's pages (through their page config) that this server runs the demo."""
    config[PAGE_CONFIG_KEY] = True
