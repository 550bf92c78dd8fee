"""Sign-in links (``?token=``) on a real server: a confirmation page, never a silent sign-in.

A browser is played by :class:`~tests.helpers.browsing.Browser`: it keeps the cookies
a real one would and sends requests as given (no ``Authorization`` header), so each
step of the flow is checked at the HTTP level: the page load, the form's POST with and
without the XSRF token, the redirect, the cookie, and cross-site forms that must set
nothing.
"""

from __future__ import annotations

import re
from typing import Any

from tests.helpers.browsing import Browser
from tests.helpers.world import World

FILE = "acme/public/hello.txt"
CONTENT = "hello from the public project"


def browser(http_server_client: Any, jp_base_url: str) -> Browser:
    return Browser(http_server_client, jp_base_url)


def link(world: World, who: str, path: str = FILE, extra: str = "&view=1") -> str:
    return f"files/{path}?token={world.tokens[who]}{extra}"


async def test_a_link_shows_who_it_signs_in_and_sets_no_cookie(
    wsp_world: World, http_server_client: Any, jp_base_url: str
) -> None:
    (wsp_world.root / FILE).write_text(CONTENT)
    b = browser(http_server_client, jp_base_url)
    page = await b.request("GET", link(wsp_world, "admin"))
    assert page.code == 200, page
    assert not page.login_cookie_set(), page.headers.get_list("Set-Cookie")
    assert CONTENT not in page.body  # the page asked for is not served yet
    assert '<h1 id="wsp-heading">Sign in as ada (ada@acme.test)?</h1>' in page.body
    assert "ada@acme.test" in page.body and "Admin of acme" in page.body
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "same-origin"
    # /files sandboxes its answers, which would stop a browser from sending the form
    assert "frame-ancestors" in page.headers["Content-Security-Policy"]
    assert "sandbox" not in page.headers["Content-Security-Policy"]
    assert page.form_action() == f"{jp_base_url}workspace-perms/sign-in"
    form = page.form()
    assert form["sign_in_token"] == wsp_world.tokens["admin"]
    assert "token" not in form  # a field named token is never read as a credential
    assert form["next"] == f"{jp_base_url}files/{FILE}?view=1"  # the token stripped
    assert re.search(r'<a href="[^"]*" id="wsp-cancel">Cancel</a>', page.body)
    assert "_xsrf" in form and "_xsrf" in b.cookies
    # the guest sees the workspace they are a guest in
    guest = await b.request("GET", link(wsp_world, "guest"))
    assert "gus@gmail.test" in guest.body and "Guest in acme" in guest.body


async def test_the_button_signs_in_only_with_the_xsrf_token(
    wsp_world: World, http_server_client: Any, jp_base_url: str
) -> None:
    (wsp_world.root / FILE).write_text(CONTENT)
    b = browser(http_server_client, jp_base_url)
    page = await b.request("GET", link(wsp_world, "viewer"))
    form = page.form()
    without_xsrf = {k: v for k, v in form.items() if k != "_xsrf"}
    refused = await b.request("POST", "workspace-perms/sign-in", without_xsrf)
    assert refused.code == 403 and not refused.login_cookie_set()
    assert b.login_cookie() is None

    done = await b.request("POST", "workspace-perms/sign-in", form)
    assert done.code == 302, done
    assert done.location == f"{jp_base_url}files/{FILE}?view=1"
    assert done.login_cookie_set()
    [set_line] = [c for c in done.headers.get_list("Set-Cookie") if c.startswith("username-")]
    assert "SameSite=Lax" in set_line and "HttpOnly" in set_line
    served = await b.request("GET", f"files/{FILE}")
    assert (served.code, served.body) == (200, CONTENT)
    b.cookies = {k: v for k, v in b.cookies.items() if k.startswith("username-")}
    me = await b.request("GET", "api/workspace-perms/me")
    assert me.code == 200 and '"vic@acme.test"' in me.body


async def test_a_signed_in_browser_is_told_and_kept_until_it_confirms(
    wsp_world: World, http_server_client: Any, jp_base_url: str
) -> None:
    b = browser(http_server_client, jp_base_url)
    form = (await b.request("GET", link(wsp_world, "editor"))).form()
    assert (await b.request("POST", "workspace-perms/sign-in", form)).code == 302
    page = await b.request("GET", link(wsp_world, "outsider"))
    assert page.code == 200 and not page.login_cookie_set()
    assert "You are signed in as <strong>ed (ed@acme.test)</strong>" in page.body
    assert "otto@else.test" in page.body and "None yet" in page.body
    me = await b.request("GET", "api/workspace-perms/me")
    assert '"ed@acme.test"' in me.body  # still the editor


async def test_next_must_stay_on_this_server(
    wsp_world: World, http_server_client: Any, jp_base_url: str
) -> None:
    for target in ("http://evil.example/x", "//evil.example/x", "https:///evil.example"):
        b = browser(http_server_client, jp_base_url)
        form = (await b.request("GET", link(wsp_world, "viewer"))).form()
        done = await b.request("POST", "workspace-perms/sign-in", {**form, "next": target})
        assert done.code == 302 and "evil" not in done.location, (target, done.location)
        assert done.location == jp_base_url
    # nor may the page's own next and Cancel link lead elsewhere
    secret = wsp_world.tokens["viewer"]
    for odd in ("//evil.example/x", "/\\evil.example/x", f"{jp_base_url}\\evil.example"):
        page = await Browser(http_server_client, "").request("GET", f"{odd}?token={secret}")
        assert page.code == 200, (odd, page)
        assert page.form()["next"] == jp_base_url, odd
        assert f'<a href="{jp_base_url}" id="wsp-cancel">' in page.body, odd


async def test_a_token_in_a_form_or_a_query_never_signs_in(
    wsp_world: World, http_server_client: Any, jp_base_url: str
) -> None:
    """A cross-site form (with or without a victim's XSRF cookie) sets no cookie, changes
    nothing; a ``?token=`` on an API call is refused with a reason, without a cookie."""
    secret = wsp_world.tokens["editor"]
    cross_site = {"Origin": "http://evil.example", "Referer": "http://evil.example/"}
    b = browser(http_server_client, jp_base_url)
    await b.request("GET", link(wsp_world, "viewer"))  # the victim has an _xsrf cookie
    attempts = [
        ("api/contents/acme/public", {"token": secret, "type": "file"}),
        ("api/workspace-perms/tokens", {"token": secret}),
        (f"files/{FILE}", {"token": secret}),
        ("login", {"token": secret}),
        ("workspace-perms/sign-in", {"token": secret, "next": "/"}),
        ("workspace-perms/sign-in", {"sign_in_token": secret, "next": "/"}),
    ]
    for path, form in attempts:
        for headers in (cross_site, {}):
            answer = await b.request("POST", path, form, headers)
            assert not answer.login_cookie_set(), (path, headers, answer.code)
            assert answer.code in (401, 403, 404), (path, headers, answer.code, answer.body)
    assert b.login_cookie() is None
    assert [p.name for p in (wsp_world.root / "acme" / "public").iterdir()] == []
    api = await b.request("GET", f"api/workspace-perms/me?token={secret}")
    assert api.code == 401 and '"token_not_in_header"' in api.body
    assert not api.login_cookie_set()
    stock = await b.request("GET", f"api/contents?token={secret}")
    assert stock.code == 401 and not stock.login_cookie_set()


async def test_a_link_that_does_not_work_says_so_and_what_to_do(
    wsp_world: World, http_server_client: Any, jp_base_url: str, jp_serverapp: Any
) -> None:
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    snap = store.snapshot
    vic = snap.users_by_name["vic@acme.test"]
    [token_id] = [t.id for t in snap.tokens.values() if t.user_id == vic]
    with store.write("test") as w:
        w.revoke_token(token_id)
    b = browser(http_server_client, jp_base_url)
    for who_or_secret in ("wsp_" + "u" * 43, wsp_world.tokens["viewer"]):
        page = await b.request("GET", f"files/{FILE}?token={who_or_secret}")
        assert page.code == 401, page
        assert not page.login_cookie_set()
        assert "This sign-in link does not work" in page.body
        assert "not known to this server" in page.body
        assert "token create EMAIL" in page.body and 'id="wsp-login"' in page.body
        assert "Traceback" not in page.body and "<form" not in page.body
    # the confirmation's POST of a token revoked meanwhile says so too
    page = await b.request("GET", link(wsp_world, "editor"))
    form = page.form()
    [ed_token] = [
        t.id for t in snap.tokens.values() if t.user_id == snap.users_by_name["ed@acme.test"]
    ]
    with store.write("test") as w:
        w.revoke_token(ed_token)
    late = await b.request("POST", "workspace-perms/sign-in", form)
    assert late.code == 401 and "not known to this server" in late.body
    assert not late.login_cookie_set()
