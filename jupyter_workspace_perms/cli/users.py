"""``user create|list``: people known to the policy, members or not.

Most commands create a user on the fly from an email (``member set``,
``collaborator set``, ``token create``). ``user create`` is for someone who is
nobody's member yet: a colleague who will join by domain invite, a guest before
their first grant. Such a user has no access until a role or a grant gives it.
"""

from __future__ import annotations

import time

from traitlets import Unicode
from traitlets.config.application import StrDict

from ..errors import Conflict, InvalidInput, NotFound
from .base import PROG, Command, Result, table

#: Column sizes of ``users``: longer values are refused here rather than by the database.
MAX_EMAIL, MAX_PROVIDER, MAX_NAME = 255, 64, 255


def _bounded(what: str, value: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit or not value.isprintable():
        raise InvalidInput(f"invalid {what}: at most {limit} printable characters")
    return value


class UserCreate(Command):
    """``user create EMAIL [--provider P] [--name NAME]``."""

    name = f"{PROG} user create"
    description = (
        "Create a user from an email without giving them any access (e.g. someone who will "
        "join by domain invite, or a guest before their first grant). The email counts as "
        "verified: the operator vouches for it. An existing user is refused."
    )
    arguments = ("EMAIL",)

    provider = Unicode("", config=True, help="Login provider of the user (default: token).")
    display_name = Unicode(
        "", config=True, help="Display name (default: the part of the email before the @)."
    )
    aliases: StrDict = {
        **Command.aliases,
        "provider": "UserCreate.provider",
        "name": "UserCreate.display_name",
    }

    def run(self) -> Result:
        (email,) = self.args
        email = _bounded("email", email, MAX_EMAIL)
        provider = _bounded("--provider", self.provider, MAX_PROVIDER)
        display_name = _bounded("--name", self.display_name, MAX_NAME)
        with self.writing() as writer:
            try:
                existing = writer.user(email)
            except NotFound:
                pass
            else:
                raise Conflict(f"user {existing.username!r} already exists", "exists")
            user = writer.ensure_user(email, provider or None, display_name=display_name)
            answer = {
                "user": user.username,
                "email": user.email,
                "name": user.display_name,
                "login_provider": user.login_provider,
                "email_verified": user.email_verified,
            }
        return answer

    def render(self, result: Result) -> str:
        return f"created user {result['user']} (provider {result['login_provider']})"


class UserList(Command):
    """``user list``."""

    name = f"{PROG} user list"
    description = (
        "List every user with their login provider, workspace roles and project grants "
        "(grants that have expired are left out)."
    )
    writes = False

    def run(self) -> Result:
        snap, now = self.store.snapshot, time.time()
        roles: dict[int, list[dict[str, str]]] = {}
        for (ws_id, user_id), role in snap.memberships.items():
            slug = snap.workspaces[ws_id].slug
            roles.setdefault(user_id, []).append({"workspace": slug, "role": role.name})
        grants: dict[int, list[dict[str, str]]] = {}
        for (project_id, user_id), grant in snap.grants.items():
            if grant.active(now):
                project = snap.projects[project_id]
                where = f"{snap.workspaces[project.workspace_id].slug}/{project.name}"
                grants.setdefault(user_id, []).append({"project": where, "role": grant.role.name})
        users = [
            {
                "user": user.username,
                "email": user.email,
                "name": user.display_name,
                "login_provider": user.login_provider,
                "email_verified": user.email_verified,
                "workspaces": sorted(roles.get(user.id, []), key=lambda r: r["workspace"]),
                "projects": sorted(grants.get(user.id, []), key=lambda g: g["project"]),
            }
            for user in sorted(snap.users.values(), key=lambda u: u.username)
        ]
        return {"users": users}

    def render(self, result: Result) -> str:
        rows = [
            [
                u["user"],
                u["login_provider"],
                ", ".join(f"{r['workspace']} ({r['role']})" for r in u["workspaces"]),
                ", ".join(f"{g['project']} ({g['role']})" for g in u["projects"]),
            ]
            for u in result["users"]
        ]
        return table(("USER", "PROVIDER", "WORKSPACES", "PROJECTS"), rows)
