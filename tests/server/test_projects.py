"""Projects follow their folders: a folder made in a workspace is a project of its creator,
renaming or deleting a project folder renames or forgets the project, and nothing is made at
the root; files directly in a workspace folder are read by members and written by Admins.

Real HTTP against a real Jupyter server (``wsp_world``: workspace ``acme`` with projects
``public`` (full, creator ed), ``locked`` (view) and ``private`` (none, creator ed); gus is a
guest with a viewer grant on ``public``; otto is in no workspace). Every refusal is checked
for its status, its ``reason`` and for changing nothing (files and the policy version).
"""

from __future__ import annotations

from typing import Any

from tests.helpers.http import Http, plant, put_file
from tests.helpers.world import World


def project_api(name: str) -> str:
    return f"api/workspace-perms/workspaces/acme/projects/{name}"


def policy_version(jp_serverapp: Any) -> int:
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    return int(store.status()["policy_version"])


async def test_a_folder_made_in_a_workspace_is_a_project_of_its_creator(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    root = wsp_world.root
    reply = await http("editor", "PUT", "api/contents/acme/made", {"type": "directory"})
    assert reply.code == 201, reply
    project = await http.ok("editor", "GET", project_api("made"))
    assert (project["role"], project["creator"], project["access"]) == (
        "admin",
        "ed@acme.test",
        "full",
    )
    # the other members get it like any project with full access
    assert (await http.ok("viewer", "GET", project_api("made")))["role"] == "viewer"

    reply = await http("editor", "POST", "api/contents/acme", {"type": "directory"})
    assert reply.code == 201, reply
    untitled = reply.json["name"]
    project = await http.ok("editor", "GET", project_api(untitled))
    assert (project["role"], project["creator"]) == ("admin", "ed@acme.test")

    before = policy_version(jp_serverapp)
    refusals = [
        ("contributor", 403, "role_too_low"),
        ("viewer", 403, "role_too_low"),
        ("guest", 403, "guest"),
        ("outsider", 404, "not_found"),
    ]
    for who, code, reason in refusals:
        reply = await http(who, "PUT", f"api/contents/acme/by-{who}", {"type": "directory"})
        assert (reply.code, reply.reason) == (code, reason), (who, reply)
        assert not (root / "acme" / f"by-{who}").exists(), who
        reply = await http(who, "POST", "api/contents/acme", {"type": "directory"})
        assert (reply.code, reply.reason) == (code, reason), (who, reply)
    assert sorted(p.name for p in (root / "acme").iterdir()) == sorted(
        ["locked", "made", "private", "public", untitled]
    )
    assert policy_version(jp_serverapp) == before


async def test_renaming_a_project_folder_renames_the_project_with_its_grants(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    root = wsp_world.root
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with store.write("test") as w:
        w.ensure_user("eve@acme.test", "google")
        w.set_member("acme", "eve@acme.test", "editor")
        wsp_world.tokens["editor2"] = w.create_token("eve@acme.test")[1]
    assert (
        await http("editor", "PUT", "api/contents/acme/made", {"type": "directory"})
    ).code == 201
    plant(root, "acme/made/data.txt", "kept")
    await http.ok(
        "editor",
        "PUT",
        project_api("made") + "/collaborators/gus@gmail.test",
        {"role": "editor"},
    )

    before = policy_version(jp_serverapp)
    move = {"path": "acme/renamed"}
    for who, code, reason in (
        ("editor2", 403, "role_too_low"),  # an editor, but not the project's admin
        ("contributor", 403, "role_too_low"),
        ("guest", 403, "role_too_low"),  # editor by grant, still not project admin
        ("outsider", 404, "not_found"),
    ):
        reply = await http(who, "PATCH", "api/contents/acme/made", move)
        assert (reply.code, reply.reason) == (code, reason), (who, reply)
    assert (root / "acme" / "made" / "data.txt").is_file()
    assert policy_version(jp_serverapp) == before

    reply = await http("editor", "PATCH", "api/contents/acme/made", move)
    assert reply.code == 200, reply
    assert not (root / "acme" / "made").exists()
    assert (root / "acme" / "renamed" / "data.txt").read_text() == "kept"
    reply = await http("editor", "GET", project_api("made"))
    assert (reply.code, reply.reason) == (404, "not_found")
    project = await http.ok("editor", "GET", project_api("renamed"))
    assert project["role"] == "admin" and project["creator"] == "ed@acme.test"
    assert [(c["username"], c["role"]) for c in project["collaborators"]] == [
        ("ed@acme.test", "admin"),  # the creator's grant
        ("gus@gmail.test", "editor"),
    ]
    # the guest's grant now opens the renamed folder
    assert (await http.get("guest", "api/contents/acme/renamed/data.txt")).code == 200
    reply = await http("guest", "PUT", "api/contents/acme/renamed/data.txt", put_file("by gus"))
    assert reply.code == 200, reply


async def test_project_folders_stay_in_their_workspace(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    root = wsp_world.root
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with store.write("test") as w:
        w.create_workspace("beta", "ed@acme.test", "google")
    (root / "beta").mkdir()
    plant(root, "acme/public/f.txt", "x")
    before = policy_version(jp_serverapp)
    moves = [
        # ed owns beta: he may make projects there, but not by moving one out of acme
        ("editor", "beta/public", 403, "project_folder"),
        ("admin", "beta/public", 404, "not_found"),  # ada is not in beta
        ("admin", "acme/locked/public", 403, "project_folder"),  # into another project
        ("editor", "acme/private/public", 403, "project_folder"),
        ("editor", "acme/locked/public", 403, "role_too_low"),
        ("admin", "acme/private/public", 404, "not_found"),
        ("admin", "public", 404, "not_found"),  # to the root, outside any workspace
    ]
    for who, target, code, reason in moves:
        reply = await http(who, "PATCH", "api/contents/acme/public", {"path": target})
        assert (reply.code, reply.reason) == (code, reason), (who, target, reply)
    assert (root / "acme" / "public" / "f.txt").is_file()
    assert sorted(p.name for p in (root / "beta").iterdir()) == []
    assert policy_version(jp_serverapp) == before
    # the workspace folder itself is not renamed or deleted through Jupyter
    reply = await http("admin", "PATCH", "api/contents/acme", {"path": "acme2"})
    assert (reply.code, reply.reason) == (403, "workspace_folder"), reply
    reply = await http("admin", "DELETE", "api/contents/acme")
    assert (reply.code, reply.reason) == (403, "workspace_folder"), reply
    assert (root / "acme" / "public" / "f.txt").is_file()


async def test_deleting_a_project_folder_forgets_the_project(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    root = wsp_world.root
    assert (
        await http("editor", "PUT", "api/contents/acme/gone", {"type": "directory"})
    ).code == 201
    before = policy_version(jp_serverapp)
    for who, code, reason in (
        ("contributor", 403, "role_too_low"),
        ("viewer", 403, "role_too_low"),
        ("guest", 404, "not_found"),  # not shared with the guest: unknown to them
        ("outsider", 404, "not_found"),
    ):
        reply = await http(who, "DELETE", "api/contents/acme/gone")
        assert (reply.code, reply.reason) == (code, reason), (who, reply)
    assert (root / "acme" / "gone").is_dir()
    assert policy_version(jp_serverapp) == before
    reply = await http("editor", "DELETE", "api/contents/acme/gone")
    assert reply.code == 204, reply
    assert not (root / "acme" / "gone").exists()
    reply = await http("editor", "GET", project_api("gone"))
    assert (reply.code, reply.reason) == (404, "not_found")
    # a folder of that name made later is a new project, with no trace of the old one
    assert (await http("admin", "PUT", "api/contents/acme/gone", {"type": "directory"})).code == 201
    project = await http.ok("admin", "GET", project_api("gone"))
    assert project["creator"] == "ada@acme.test"
    assert [c["username"] for c in project["collaborators"]] == ["ada@acme.test"]


async def test_nothing_is_created_at_the_root(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    root = wsp_world.root
    plant(root, "acme/public/f.txt", "x")
    before = sorted(p.name for p in root.iterdir())
    version = policy_version(jp_serverapp)
    attempts = [
        ("PUT", "api/contents/newws", {"type": "directory"}, 404, "not_found"),
        ("PUT", "api/contents/top.txt", put_file("x"), 404, "not_found"),
        ("POST", "api/contents", {"type": "directory"}, 403, "root_read_only"),
        ("POST", "api/contents", {"type": "file"}, 403, "root_read_only"),
        ("POST", "api/contents", {"copy_from": "acme/public/f.txt"}, 403, "root_read_only"),
        ("PATCH", "api/contents/acme/public", {"path": "public"}, 404, "not_found"),
    ]
    for who in ("admin", "editor", "outsider"):
        for method, path, body, code, reason in attempts:
            if who == "outsider" and "copy_from" in body:
                code, reason = 404, "not_found"  # the source is unknown to otto
            reply = await http(who, method, path, body)
            assert (reply.code, reply.reason) == (code, reason), (who, method, path, reply)
    assert sorted(p.name for p in root.iterdir()) == before
    assert policy_version(jp_serverapp) == version


async def test_files_directly_in_a_workspace_are_read_by_members_and_written_by_admins(
    http: Http, wsp_world: World
) -> None:
    root = wsp_world.root
    readme = plant(root, "acme/README.md", "welcome")
    for who in ("admin", "editor", "contributor", "viewer"):
        reply = await http.get(who, "api/contents/acme/README.md")
        assert reply.code == 200 and reply.json["content"] == "welcome", (who, reply)
        assert (await http.get(who, "files/acme/README.md")).raw == b"welcome", who
    for who, code, reason in (("guest", 403, "guest"), ("outsider", 404, "not_found")):
        reply = await http.get(who, "api/contents/acme/README.md")
        assert (reply.code, reply.reason) == (code, reason), (who, reply)

    for who, code, reason in (
        ("editor", 403, "role_too_low"),
        ("contributor", 403, "role_too_low"),
        ("viewer", 403, "role_too_low"),
        ("guest", 403, "guest"),
        ("outsider", 404, "not_found"),
    ):
        for method, path, body in (
            ("PUT", "api/contents/acme/README.md", put_file(f"by {who}")),
            ("PUT", "api/contents/acme/NOTES.md", put_file("new")),
            ("PATCH", "api/contents/acme/README.md", {"path": "acme/OLD.md"}),
            ("DELETE", "api/contents/acme/README.md", None),
            ("POST", "api/contents/acme", {"type": "file"}),
        ):
            reply = await http(who, method, path, body)
            assert (reply.code, reply.reason) == (code, reason), (who, method, path, reply)
    assert sorted(p.name for p in (root / "acme").iterdir()) == [
        "README.md",
        "locked",
        "private",
        "public",
    ]
    assert readme.read_text() == "welcome"

    assert (await http("admin", "PUT", "api/contents/acme/README.md", put_file("v2"))).code == 200
    assert readme.read_text() == "v2"
    assert (await http("admin", "PUT", "api/contents/acme/NOTES.md", put_file("n"))).code == 201
    assert (await http("admin", "DELETE", "api/contents/acme/NOTES.md")).code == 204
    assert not (root / "acme" / "NOTES.md").exists()
