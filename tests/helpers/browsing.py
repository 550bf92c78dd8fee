"""A browser played at the HTTP level: its cookie jar, Referer and forms, no redirects followed.

Each step of a sign-in flow is then checked as a browser would meet it: the page
load, the form's POST with and without the XSRF token, the redirect, the cookies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlencode


@dataclass
class Page:
    """An answer as a browser sees it."""

    code: int
    body: str
    headers: Any

    @property
    def location(self) -> str:
        return str(self.headers.get("Location", ""))

    def set_cookies(self) -> dict[str, str]:
        """Cookies this answer sets (name -> value; an empty value clears)."""
        found = {}
        for line in self.headers.get_list("Set-Cookie"):
            name, _, rest = line.partition("=")
            found[name] = rest.split(";")[0]
        return found

    def login_cookie_set(self) -> bool:
        """Whether a login cookie is set (clearing one sets ``""``)."""
        cookies = self.set_cookies().items()
        return any(n.startswith("username-") and v not in ("", '""') for n, v in cookies)

    def form(self) -> dict[str, str]:
        """The hidden fields of the page's form."""
        fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', self.body)
        return {unescape(n): unescape(v) for n, v in fields}

    def form_action(self) -> str:
        [action] = self.form_actions()
        return action

    def form_actions(self) -> list[str]:
        """Where each of the page's forms posts to."""
        found = re.findall(r'<form method="post" action="([^"]+)"', self.body)
        return [unescape(action) for action in found]


@dataclass
class Browser:
    """Requests with a browser's cookie jar and Referer, without following redirects."""

    client: Any
    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    page_url: str = ""  # the page the next request is made from (its Referer)

    async def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Page:
        url = self.base_url + path
        referer = {"Referer": self.page_url} if self.page_url else {}
        all_headers = {"Authorization": "", **referer, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        r = await self.client.fetch(
            url,
            method=method,
            body=body,
            headers=all_headers,
            raise_error=False,
            follow_redirects=False,
        )
        page = Page(r.code, (r.body or b"").decode("utf-8", "replace"), r.headers)
        if r.code != 302:
            self.page_url = self.client.get_url(url)
        for name, value in page.set_cookies().items():
            if value and value != '""':
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return page

    def login_cookie(self) -> str | None:
        return next((v for n, v in self.cookies.items() if n.startswith("username-")), None)
