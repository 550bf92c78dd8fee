"""What a confined process sees, as bubblewrap arguments: the order of mounts decides
what is hidden and what is shown, whatever order the paths were listed in.

The test folders lie in /tmp, which every sandbox hides: each test shows its folder
read-only first (``shown``), as the system's folders are, and looks at what is below."""

from __future__ import annotations

from pathlib import Path

from jupyter_workspace_perms.sandbox.mounts import Confinement, Kind, Mount, bwrap_argv, mounts


def shown(tmp_path: Path) -> list[str]:
    """The test's folder, shown like any folder outside /tmp and the homes."""
    return [str(tmp_path)]


def below(plan: list[Mount], tmp_path: Path) -> list[Mount]:
    """The mounts below the test's folder (not the folder itself)."""
    return [m for m in plan if m.path.startswith(str(tmp_path) + "/")]


def folders(base: Path, *names: str) -> list[str]:
    for name in names:
        (base / name).mkdir(parents=True, exist_ok=True)
    return [str(base / name) for name in names]


def test_parents_are_mounted_before_what_they_hold(tmp_path: Path) -> None:
    root, project, venv = folders(tmp_path, "root", "root/ws/project", "root/.venv")
    plan = mounts(
        Confinement(
            cwd=project, read_write=[project], read_only=[venv, *shown(tmp_path)], hidden=[root]
        )
    )
    assert below(plan, tmp_path) == [
        Mount(Kind.hide, root),
        Mount(Kind.read_only, venv),
        Mount(Kind.read_write, project),
    ]
    # /tmp (where tmp_path lies) is hidden before any of them, then the test's folder shown
    paths = [m.path for m in plan]
    assert paths.index("/tmp") < paths.index(str(tmp_path)) < paths.index(root)


def test_a_folder_hidden_inside_a_shown_one_stays_hidden(tmp_path: Path) -> None:
    prefix, secret = folders(tmp_path, "prefix", "prefix/etc/jupyter")
    plan = mounts(Confinement(cwd=prefix, read_write=[], read_only=[prefix], hidden=[secret]))
    assert below(plan, tmp_path) == [Mount(Kind.read_only, prefix), Mount(Kind.hide, secret)]


def test_showing_beats_hiding_for_one_path_and_files_are_blanked(tmp_path: Path) -> None:
    (own,) = folders(tmp_path, "own")
    database = tmp_path / "policy.sqlite"
    database.write_text("")
    plan = mounts(
        Confinement(
            cwd=own,
            read_write=[own],
            read_only=shown(tmp_path),
            hidden=[own, str(database), str(tmp_path / "gone")],
        )
    )
    ours = {m.path: m.kind for m in below(plan, tmp_path)}
    assert ours == {own: Kind.read_write, str(database): Kind.blank}
    assert Mount(Kind.blank, str(database)).argv() == ["--ro-bind", "/dev/null", str(database)]


def test_symlinks_are_mounted_at_their_real_place(tmp_path: Path) -> None:
    (real,) = folders(tmp_path, "real")
    (tmp_path / "link").symlink_to(real)
    plan = mounts(Confinement(cwd=real, read_write=[str(tmp_path / "link")]))
    assert Mount(Kind.read_write, real) in plan


def test_the_command_line_unshares_everything_but_the_network_unless_asked(
    tmp_path: Path,
) -> None:
    (own,) = folders(tmp_path, "own")
    shared = bwrap_argv("bwrap", Confinement(cwd=own, read_write=[own]))
    for flag in ("--unshare-user", "--disable-userns", "--unshare-pid", "--die-with-parent"):
        assert flag in shared
    assert shared[shared.index("--cap-drop") + 1] == "ALL"
    assert "--unshare-net" not in shared
    assert shared[-4:] == ["--unsetenv", "JPY_PARENT_PID", "--chdir", own]
    isolated = bwrap_argv("bwrap", Confinement(cwd=own, read_write=[own], isolate_network=True))
    assert "--unshare-net" in isolated


def test_hiding_inside_a_hidden_folder_adds_no_mount_point(tmp_path: Path) -> None:
    data, homes, own = folders(tmp_path, "data", "data/homes", "data/homes/1")
    key = tmp_path / "data" / "integrations.key"
    key.write_text("")
    plan = mounts(
        Confinement(
            cwd=own, read_write=[own], read_only=shown(tmp_path), hidden=[data, homes, str(key)]
        )
    )
    # the homes folder and the key lie in the hidden data folder: no mount point tells
    # they are there; only the kernel's own home is shown inside
    assert below(plan, tmp_path) == [Mount(Kind.hide, data), Mount(Kind.read_write, own)]
