"""A kernel's environment: an allow-list of the server's variables, a home per project,
and a hook for what a project adds (its integrations' secrets).

The server's environment holds what must never reach code a user writes: the policy
database URL with its password, a proxy secret, tokens. So a kernel gets only the
variables named in :attr:`KernelEnvironment.allowed` (shell-style patterns), then
the project's own variables from :meth:`KernelEnvironment.project_variables`, then
the variables that make the kernel's home, its ``pip install`` target and IPython's
history live in the project's own folder under ``KernelEnvironment.homes_dir`` (so
``%pip install`` persists for the project and history never mixes projects).

Integrations plug in by subclassing :class:`KernelEnvironment`, overriding
:meth:`~KernelEnvironment.project_variables`, and naming the subclass in
``c.KernelSandbox.environment_class``.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from jupyter_core.paths import jupyter_data_dir
from traitlets import List, Unicode, default
from traitlets.config import LoggingConfigurable

DEFAULT_ALLOWED = [
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TERM",
    "TZ",
    "JPY_SESSION_NAME",
    "MPLBACKEND",
    "PYDEVD_*",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "CLICOLOR",
    "FORCE_COLOR",
]


def _between(top: str, bottom: str) -> list[str]:
    """The folders from below ``top`` down to ``bottom`` (included)."""
    parts = os.path.relpath(bottom, top).split(os.sep)
    return [os.path.join(top, *parts[: i + 1]) for i in range(len(parts))]


@dataclass(frozen=True)
class KernelPlace:
    """Where a kernel runs: its project (id and real folder) and the root folder."""

    project_id: int
    project_dir: str
    root_dir: str


class KernelEnvironment(LoggingConfigurable):
    """Builds each kernel's environment from an allow-list; a hook adds a project's own."""

    allowed = List(
        Unicode(),
        default_value=DEFAULT_ALLOWED,
        config=True,
        help="""Names (shell-style patterns) of the server's environment variables a
        kernel receives; nothing else of the server's environment does. Default: PATH,
        LANG, LANGUAGE, LC_*, TERM, TZ, JPY_SESSION_NAME, MPLBACKEND, PYDEVD_*,
        VIRTUAL_ENV, CONDA_PREFIX, CONDA_DEFAULT_ENV, CLICOLOR, FORCE_COLOR. HOME,
        TMPDIR, PYTHONPATH, PIP_TARGET, IPYTHONDIR and MPLCONFIGDIR are always set by the
        sandbox (see homes_dir).""",
    )
    homes_dir = Unicode(
        config=True,
        help="""Folder holding one private home per project (named by the project's
        id), outside root_dir: a kernel's HOME, its ``%pip install`` target and its
        IPython history. Default: <jupyter data dir>/workspace_perms/kernel-homes.""",
    )

    @default("homes_dir")
    def _default_homes_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "workspace_perms", "kernel-homes")

    def home_of(self, place: KernelPlace) -> str:
        """The project's kernel home, made on first use (only the server's user may enter).

        Kernels write in it: a symbolic link found on the way (left by a kernel that ran
        unconfined) is refused rather than followed, so the server never makes folders
        where such a link points.
        """
        home = os.path.join(self.homes_dir, str(place.project_id))
        packages = self.packages_of(home)
        for folder in (self.homes_dir, home, *_between(home, packages)):
            if os.path.islink(folder):
                raise OSError(
                    f"{folder} is a symbolic link: remove it (a kernel's home must not lead "
                    "elsewhere)"
                )
            os.makedirs(folder, mode=0o700, exist_ok=True)
        return home

    @staticmethod
    def packages_of(home: str) -> str:
        """Where ``%pip install`` puts a project's packages (importable by its kernels)."""
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        return os.path.join(home, ".local", "lib", version, "site-packages")

    def project_variables(self, place: KernelPlace) -> dict[str, str]:
        """Variables a project adds to its kernels (integrations override this).

        Called at every kernel start and restart, so a change applies on restart.
        The values travel in the kernel's environment only, never on a command line.
        """
        return {}

    def build(
        self, server_env: Mapping[str, str], place: KernelPlace, *, confined: bool = True
    ) -> dict[str, str]:
        """The environment of a kernel of ``place``: allowed variables, the project's
        own, then the sandbox's.

        IPython's and matplotlib's folders (profiles, startup files, rc files: code that
        runs at every start) live in the sandbox's private ``/tmp`` of each kernel, not in
        the project's home: what one kernel leaves there never runs in the next one.
        """
        env = {
            name: value
            for name, value in server_env.items()
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.allowed)
        }
        env.update(self.project_variables(place))
        home = self.home_of(place)
        packages = self.packages_of(home)
        env.update(
            {
                "HOME": home,
                "TMPDIR": "/tmp",
                "PIP_TARGET": packages,
                "PYTHONPATH": packages,
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                # `python -m ipykernel_launcher` must not import a module of that name
                # from the working folder, which people who may write the project fill
                "PYTHONSAFEPATH": "1",
                "IPYTHONDIR": "/tmp/ipython" if confined else os.path.join(home, ".ipython"),
                "MPLCONFIGDIR": (
                    "/tmp/matplotlib" if confined else os.path.join(home, ".config", "matplotlib")
                ),
            }
        )
        return env
