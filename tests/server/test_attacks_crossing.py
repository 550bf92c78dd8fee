"""Attacks that cross from one project to another (threats T4, T5, T10, T13 of
docs/design.md#authorizer): ``copy_from``, renames, sessions and kernels joined across
projects, and access that must end on the very next request once it is revoked.

``wsp_world``: workspace ``acme`` with projects ``public`` (full, creator ed), ``locked``
(view) and ``private`` (none, creator ed: ed is its project admin); gus is a viewer
collaborator on ``public``. Every refusal is checked for its status, its ``reason`` and for
changing nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.helpers.http import SECRET, Http, notebook_text, plant, put_file, start_session, tree
from tests.helpers.world import World


def files_of(root: Any) -> None:
    for project in ("public", "locked", "private"):
        plant(
            root, f"acme/{project}/{project}.ipynb", notebook_text(f"print('{SECRET} {project}')")
        )


# -- T4: copy_from needs read on the source and write on the target -----------------------

# (who, source project, target project, status, reason)
COPIES = [
    ("guest", "public", "private", 404, "not_found"),  # target unknown to the guest
    ("guest", "public", "public", 403, "role_too_low"),  # a viewer grant
    ("guest", "locked", "public", 404, "not_found"),  # source unknown to the guest
    ("viewer", "private", "public", 404, "not_found"),
    ("viewer", "public", "public", 403, "role_too_low"),
    ("contributor", "public", "public", 403, "role_too_low"),
    ("contributor", "private", "public", 404, "not_found"),
    ("editor", "private", "public", 201, None),  # ed reads private (creator) and writes public
    ("editor", "public", "private", 201, None),
    ("editor", "public", "locked", 403, "role_too_low"),  # locked: members view
    ("editor", "locked", "public", 201, None),
    ("admin", "private", "public", 404, "not_found"),  # private stays unknown to Admins
    ("admin", "public", "private", 404, "not_found"),
    ("admin", "public", "locked", 201, None),  # Admins can always edit a locked project
    ("outsider", "public", "public", 404, "not_found"),
]


@pytest.mark.parametrize(("who", "source", "target", "status", "reason"), COPIES)
async def test_copy_from_needs_read_on_the_source_and_write_on_the_target(
    http: Http, wsp_world: World, who: str, source: str, target: str, status: int, reason: str
) -> None:
    root = wsp_world.root
    files_of(root)
    folder = root / "acme" / target
    before = tree(folder)
    body = {"copy_from": f"acme/{source}/{source}.ipynb"}
    reply = await http(who, "POST", f"api/contents/acme/{target}", body)
    assert (reply.code, reply.reason) == (status, reason), reply
    if status == 201:
        copy = folder / reply.json["name"]
        assert f"{SECRET} {source}" in copy.read_text()
    else:
        assert tree(folder) == before
    # ``copy_from`` in a PUT is no way round (Jupyter itself only copies with POST)
    reply = await http(who, "PUT", f"api/contents/acme/{target}/via-put.ipynb", body)
    assert reply.code in ((400,) if status == 201 else (400, 403, 404)), reply
    assert not (folder / "via-put.ipynb").exists()


# -- T5: renames and moves need write (remove) on the source and write on the target -------

# (who, source path, target path, status, reason)
RENAMES = [
    ("admin", "acme/private/private.ipynb", "acme/public/stolen.ipynb", 404, "not_found"),
    ("guest", "acme/private/private.ipynb", "acme/public/stolen.ipynb", 404, "not_found"),
    ("viewer", "acme/private/private.ipynb", "acme/public/stolen.ipynb", 404, "not_found"),
    ("guest", "acme/public/public.ipynb", "acme/public/renamed.ipynb", 403, "role_too_low"),
    ("contributor", "acme/public/public.ipynb", "acme/public/renamed.ipynb", 403, "role_too_low"),
    ("admin", "acme/public/public.ipynb", "acme/private/planted.ipynb", 404, "not_found"),
    ("editor", "acme/public/public.ipynb", "acme/locked/planted.ipynb", 403, "role_too_low"),
    ("editor", "acme/locked/locked.ipynb", "acme/public/taken.ipynb", 403, "role_too_low"),
    ("editor", "acme/public/public.ipynb", "acme/planted.ipynb", 403, "role_too_low"),
    ("editor", "acme/public/public.ipynb", "planted.ipynb", 404, "not_found"),
    ("admin", "acme/public/public.ipynb", "acme/private/../x.ipynb", 404, "path_refused"),
    ("editor", "acme/private/private.ipynb", "acme/public/moved.ipynb", 200, None),
    ("admin", "acme/locked/locked.ipynb", "acme/public/moved.ipynb", 200, None),
    ("admin", "acme/public/public.ipynb", "acme/moved.ipynb", 200, None),  # workspace file
]


@pytest.mark.parametrize(("who", "source", "target", "status", "reason"), RENAMES)
async def test_renames_need_write_on_both_ends(
    http: Http, wsp_world: World, who: str, source: str, target: str, status: int, reason: str
) -> None:
    root = wsp_world.root
    files_of(root)
    before = tree(root)
    reply = await http(who, "PATCH", f"api/contents/{source}", {"path": target})
    assert (reply.code, reply.reason) == (status, reason), reply
    if status == 200:
        assert not (root / source).exists() and SECRET in (root / target).read_text()
    else:
        assert tree(root) == before


# -- T10: kernels and sessions never join two projects -----------------------------------


def bindings(sessions: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """What a session binds: its id, path and kernel (not the kernel's activity, which
    moves while a kernel starts)."""
    return sorted((s["id"], s["path"], s["kernel"]["id"]) for s in sessions)


async def test_sessions_and_kernels_never_cross_projects(
    http: Http, wsp_world: World, jp_serverapp: Any, jp_ws_fetch: Any
) -> None:
    public = await start_session(http, "editor", "acme/public/a.ipynb")
    private = await start_session(http, "editor", "acme/private/b.ipynb")
    private_kernel = private["kernel"]["id"]
    km = jp_serverapp.kernel_manager
    sm = jp_serverapp.session_manager
    sessions_before = bindings(await sm.list_sessions())
    kernels_before = {k["id"] for k in km.list_kernels()}

    # attach a notebook of public to private's kernel; rebind or move a session
    attacks = [
        (
            "POST",
            "api/sessions",
            {
                "path": "acme/public/x.ipynb",
                "type": "notebook",
                "name": "x",
                "kernel": {"id": private_kernel},
            },
        ),
        ("PATCH", f"api/sessions/{public['id']}", {"path": "acme/private/y.ipynb"}),
        ("PATCH", f"api/sessions/{public['id']}", {"kernel": {"id": private_kernel}}),
        (
            "POST",
            "api/kernels",
            {"name": "python3", "path": "acme/public", "kernel_id": private_kernel},
        ),
    ]
    # ed may run code in both projects, so he learns why; for the others private's kernel
    # and folder do not exist
    for who, status, reason in (
        ("editor", 403, "cross_project"),
        ("admin", 404, "not_found"),
        ("contributor", 404, "not_found"),
    ):
        for method, url, body in attacks:
            reply = await http(who, method, url, body)
            assert (reply.code, reply.reason) == (status, reason), (who, method, url, body, reply)
    # a session's project can be moved within its project only
    reply = await http(
        "viewer", "PATCH", f"api/sessions/{public['id']}", {"path": "acme/public/z.ipynb"}
    )
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply
    reply = await http(
        "editor", "PATCH", f"api/sessions/{public['id']}", {"path": "acme/locked/z.ipynb"}
    )
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply  # locked: ed views

    assert bindings(await sm.list_sessions()) == sessions_before
    assert {k["id"] for k in km.list_kernels()} == kernels_before

    # private's kernel socket: refused to whoever may not run code in private
    for who in ("admin", "contributor", "viewer", "guest", "outsider"):
        with pytest.raises(HTTPClientError) as caught:
            await jp_ws_fetch(
                "api", "kernels", private_kernel, "channels", headers=wsp_world.auth(who)
            )
        assert caught.value.code == 404, who
    # ... and its session is invisible to the workspace Admin in every listing
    for url in ("api/sessions", "api/kernels"):
        listed = (await http.get("admin", url)).json
        assert private_kernel not in str(listed) and "acme/private" not in str(listed), url
    reply = await http.get("admin", f"api/sessions/{private['id']}")
    assert (reply.code, reply.reason) == (404, "not_found")

    # within one project, the same moves are fine
    reply = await http(
        "editor", "PATCH", f"api/sessions/{public['id']}", {"path": "acme/public/c.ipynb"}
    )
    assert reply.code == 200 and reply.json["path"] == "acme/public/c.ipynb", reply


# -- T13: a revoked role ends on the very next request ----------------------------------


async def test_a_revoked_role_ends_on_the_next_request(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    root = wsp_world.root
    files_of(root)
    url = "api/contents/acme/public/public.ipynb"
    for who in ("viewer", "guest", "editor", "contributor"):
        assert (await http.get(who, url)).code == 200, who

    # through the REST API
    await http.ok("admin", "DELETE", "api/workspace-perms/workspaces/acme/members/vic@acme.test")
    reply = await http.get("viewer", url)
    assert (reply.code, reply.reason) == (404, "not_found"), reply
    await http.ok(
        "editor",
        "DELETE",
        "api/workspace-perms/workspaces/acme/projects/public/collaborators/gus@gmail.test",
    )
    reply = await http.get("guest", url)
    assert (reply.code, reply.reason) == (404, "not_found"), reply
    reply = await http.get("guest", "api/contents/acme")
    assert (reply.code, reply.reason) == (404, "not_found"), reply

    # a lower role through the REST API: the editor's next save is refused
    body = put_file("still here?")
    await http.ok(
        "admin",
        "PUT",
        "api/workspace-perms/workspaces/acme/members/cora@acme.test",
        {"role": "viewer"},
    )
    reply = await http("contributor", "POST", "api/contents/acme/public", {"type": "file"})
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply

    # through a store writer on the server's own store (as the CLI in-process would)
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    assert (await http.get("contributor", "api/contents/acme/locked/locked.ipynb")).code == 200
    with store.write("test") as w:
        w.set_project_access("acme", "locked", "none")
    for who in ("contributor", "admin"):
        reply = await http.get(who, "api/contents/acme/locked/locked.ipynb")
        assert (reply.code, reply.reason) == (404, "not_found"), (who, reply)
    with store.write("test") as w:
        w.remove_member("acme", "cora@acme.test")
    reply = await http.get("contributor", url)
    assert (reply.code, reply.reason) == (404, "not_found"), reply
    # removing ed removes his creator grants too: private is gone for him at once
    assert (await http("editor", "PUT", "api/contents/acme/private/e.txt", body)).code == 201
    with store.write("test") as w:
        w.remove_member("acme", "ed@acme.test")
    for path in ("acme/private/e.txt", "acme/public/public.ipynb"):
        reply = await http("editor", "PUT", f"api/contents/{path}", body)
        assert (reply.code, reply.reason) == (404, "not_found"), (path, reply)
    assert (root / "acme" / "private" / "e.txt").read_text() == "still here?"
