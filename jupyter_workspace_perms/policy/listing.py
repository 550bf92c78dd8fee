"""Listing queries of the policy core: what a user can list, who can see a project.

These answer the other two directions of a policy question (after "can U do A
on O"): ``list_objects`` (which workspaces and projects U sees) and
``list_users`` (who holds a permission on O, who belongs to a workspace). Pure,
like :mod:`.decisions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .decisions import (
    RoleResolution,
    check_workspace,
    is_guest,
    project_role,
    workspace_role,
)
from .facts import GrantFacts, PolicySnapshot, ProjectFacts, Subject, UserFacts, WorkspaceFacts
from .permissions import PROJECT_BUNDLES, ProjectAccess, Role


@dataclass(frozen=True, slots=True)
class ProjectListing:
    """A project as one user may list it.

    ``name_only`` marks a private project listed for governance: the user may
    know its name and creator, never open its files. ``source`` says where the role
    comes from (``membership``, ``grant``, ``membership+grant``; empty without a
    role) and ``grant`` is the active collaborator grant behind it, if any, so people
    can see how they got their role and until when.
    """

    project: ProjectFacts
    role: Role | None
    name_only: bool
    source: str = ""
    grant: GrantFacts | None = None


@dataclass(frozen=True, slots=True)
class WorkspaceListing:
    """A workspace as one user may list it."""

    workspace: WorkspaceFacts
    role: Role | None  # None for guests and SSO-blocked members
    guest: bool
    sso_blocked: bool


@dataclass(frozen=True, slots=True)
class PersonListing:
    """A member or guest of a workspace, judged with the login provider they last used.

    ``grants`` are their active grants on the workspace's projects that the asker
    may see, by project name.
    """

    user: UserFacts
    role: Role | None  # the workspace role; None for guests
    owner: bool
    guest: bool
    sso_blocked: bool
    grants: tuple[tuple[ProjectFacts, GrantFacts], ...]


def workspace_people(
    snap: PolicySnapshot,
    workspace_id: int,
    now: float,
    visible_project_ids: frozenset[int] | None = None,
) -> list[PersonListing]:
    """Members and guests of a workspace, by username.

    A guest is a user without a membership who holds an active grant on a project
    of the workspace; an expired grant makes nobody a guest. With
    ``visible_project_ids`` (what the asker may read), only grants on those
    projects are shown or make a guest, so nobody learns who shares a project they
    cannot see; without it (the operator) every project counts.
    """
    people = set(snap.members_of.get(workspace_id, ()))
    for project_id in snap.projects_of.get(workspace_id, ()):
        if visible_project_ids is None or project_id in visible_project_ids:
            people.update(snap.grantees_of.get(project_id, ()))
    found = (workspace_person(snap, workspace_id, u, now, visible_project_ids) for u in people)
    return sorted((p for p in found if p is not None), key=lambda p: p.user.username)


def workspace_person(
    snap: PolicySnapshot,
    workspace_id: int,
    user_id: int,
    now: float,
    visible_project_ids: frozenset[int] | None = None,
) -> PersonListing | None:
    """One user as :func:`workspace_people` lists them, or None when it leaves them out."""
    workspace = snap.workspaces[workspace_id]
    user = snap.users[user_id]
    grants = []
    for project_id in snap.grants_of.get(user_id, ()):
        project = snap.projects[project_id]
        grant = snap.grants[(project_id, user_id)]
        shown = visible_project_ids is None or project_id in visible_project_ids
        if project.workspace_id == workspace_id and shown and grant.active(now):
            grants.append((project, grant))
    role = snap.memberships.get((workspace_id, user_id))
    if role is None and not grants:
        return None  # only expired grants, or grants the asker may not see
    blocked = workspace_role(snap, Subject(user_id, user.login_provider), workspace)[1]
    return PersonListing(
        user,
        role,
        workspace.owner_id == user_id,
        role is None,
        blocked,
        tuple(sorted(grants, key=lambda g: g[0].name)),
    )


def visible_workspaces(
    snap: PolicySnapshot, subject: Subject, now: float
) -> list[WorkspaceListing]:
    """Workspaces the subject belongs to (even if SSO-blocked) or is a guest of, by slug."""
    ids = set(snap.workspaces_of.get(subject.user_id, ()))
    ids.update(
        snap.projects[p].workspace_id
        for p in snap.grants_of.get(subject.user_id, ())
        if snap.grants[(p, subject.user_id)].active(now)
    )
    listings = []
    for ws_id in ids:
        workspace = snap.workspaces[ws_id]
        role, blocked = workspace_role(snap, subject, workspace)
        guest = is_guest(snap, subject.user_id, ws_id, now)
        listings.append(WorkspaceListing(workspace, role, guest, blocked))
    return sorted(listings, key=lambda w: w.workspace.slug)


def visible_projects(
    snap: PolicySnapshot, subject: Subject, workspace_id: int, now: float
) -> list[ProjectListing]:
    """Projects of a workspace the subject may list, by name.

    Projects with an effective role are listed in full; private projects are
    listed name-only to holders of ``workspace:audit``; everything else is left out.
    """
    governance = check_workspace(snap, subject, workspace_id, "workspace:audit", now).allowed
    listings = []
    for project_id in snap.projects_of.get(workspace_id, ()):
        project = snap.projects[project_id]
        resolution = project_role(snap, subject, project, now)
        if resolution.role is not None:
            listings.append(project_listing(project, resolution))
        elif governance and project.access is ProjectAccess.none:
            listings.append(ProjectListing(project, None, True))
    return sorted(listings, key=lambda p: p.project.name)


def project_listing(project: ProjectFacts, resolution: RoleResolution) -> ProjectListing:
    """A project listed with a role: where the role comes from, and the grant behind it."""
    grant = resolution.grant if "grant" in resolution.source else None
    return ProjectListing(project, resolution.role, False, resolution.source, grant)


def holds_anywhere(snap: PolicySnapshot, subject: Subject, permission: str, now: float) -> bool:
    """Whether the subject holds a ``workspace:*`` permission in at least one workspace."""
    return any(
        check_workspace(snap, subject, ws_id, permission, now).allowed
        for ws_id in snap.workspaces_of.get(subject.user_id, ())
    )


def readable_project_ids(snap: PolicySnapshot, subject: Subject, now: float) -> frozenset[int]:
    """Ids of every project the subject may read, across all workspaces."""
    ids: set[int] = set()
    for ws_id in snap.workspaces_of.get(subject.user_id, ()):
        ids.update(snap.projects_of.get(ws_id, ()))
    ids.update(snap.grants_of.get(subject.user_id, ()))
    return frozenset(
        p for p in ids if project_role(snap, subject, snap.projects[p], now).role is not None
    )


def users_with_permission(
    snap: PolicySnapshot, project_id: int, permission: str, now: float
) -> list[tuple[int, Role]]:
    """Every user holding ``permission`` on a project, with their effective role.

    Each user is judged with the login provider they last signed in with, so a
    member blocked by enforced SSO is left out unless a grant lets them in.
    """
    project = snap.projects[project_id]
    workspace = snap.workspaces[project.workspace_id]
    candidates = set(snap.members_of.get(workspace.id, ()))
    candidates.update(snap.grantees_of.get(project_id, ()))
    holders = []
    for user_id in sorted(candidates):
        subject = Subject(user_id, snap.users[user_id].login_provider)
        role = project_role(snap, subject, project, now).role
        if role is not None and permission in PROJECT_BUNDLES[(role, workspace.settings)]:
            holders.append((user_id, role))
    return holders
