"""Every kernel of the server starts through :class:`SandboxedProvisioner`.

:class:`SandboxedKernelManager` (the kernel manager class of
``WorkspaceKernelManager``) gives each kernel this provisioner whatever its
kernelspec says: a kernelspec naming another provisioner is refused, so a spec
cannot opt out of the sandbox. The provisioner

- builds the kernel's environment from the allow-list (never the server's own);
- when the sandbox confines, switches the kernel to unix sockets in a folder of its
  own (``transport="ipc"``): no TCP port on loopback that another kernel could
  subscribe to, and no socket another sandbox can see;
- wraps the kernel's command in bubblewrap (:mod:`.mounts`);
- delivers interrupts to the kernel, not to bubblewrap: the stock provisioner
  signals the whole process group, and SIGINT would end bubblewrap's monitor and,
  through ``--die-with-parent``, the kernel.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import tempfile
from typing import Any

from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from jupyter_server.services.kernels.kernelmanager import ServerKernelManager
from tornado import web

from .confinement import KernelSandbox
from .environment import KernelPlace

PROVISIONER_NAME = "workspace-perms-sandbox"
PLACE = "workspace_perms_place"
"""The keyword through which the kernel manager hands a kernel's project to its provisioner."""

_SUN_PATH_MAX = 100  # a unix socket's path must fit in 108 bytes, with room for "/k-5"


class SandboxedProvisioner(LocalProvisioner):
    """Starts a kernel confined to its project (see the module's docstring)."""

    confined = False
    socket_dir: str | None = None

    @property
    def sandbox(self) -> KernelSandbox:
        """The sandbox of the server's kernel manager."""
        sandbox = getattr(getattr(self.parent, "parent", None), "sandbox", None)
        if not isinstance(sandbox, KernelSandbox):
            raise RuntimeError("kernels of this server start only through its kernel manager")
        return sandbox

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Confine the kernel of ``kwargs[PLACE]`` (or refuse to start it)."""
        place = kwargs.pop(PLACE, None)
        if not isinstance(place, KernelPlace):
            raise web.HTTPError(
                403, "kernels start only inside a project folder", reason="outside_projects"
            )
        self._refuse_moved(place)
        sandbox = self.sandbox
        refusal = sandbox.refusal()
        if refusal is not None:
            raise web.HTTPError(503, refusal, reason="sandbox_unavailable")
        self.confined = sandbox.confining
        km: Any = self.parent
        if self.confined:
            self._use_private_sockets(km)
        try:
            kwargs["env"] = sandbox.environment.build(
                kwargs.get("env") or os.environ, place, confined=self.confined
            )
        except OSError as e:
            raise web.HTTPError(500, str(e), reason="kernel_home_refused") from None
        kwargs = await super().pre_launch(**kwargs)
        if self.confined:
            own = [km.connection_file, *([self.socket_dir] if self.socket_dir else [])]
            cwd = kwargs.get("cwd") or place.project_dir
            kwargs["cmd"] = sandbox.wrap(kwargs["cmd"], place, str(cwd), own)
        elif sandbox.effective_mode == "auto":
            self.log.warning(
                "kernel %s of project %s starts UNCONFINED: %s",
                km.kernel_id,
                place.project_id,
                sandbox.status()["message"],
            )
        return kwargs

    def _refuse_moved(self, place: KernelPlace) -> None:
        """A restart replays the first start's place: refuse it when the project's folder
        is no longer that one (renamed, moved or deleted; another project may sit at the
        old path now), asking the kernel manager, which knows the policy."""
        current = getattr(getattr(self.parent, "parent", None), "current_place", None)
        if current is None:
            return
        now = current(place.project_id)
        if now is None or now.project_dir != place.project_dir:
            raise web.HTTPError(
                409,
                "this kernel's project was renamed, moved or deleted since the kernel "
                "started: shut the kernel down and start a new one from the project",
                reason="project_moved",
            )

    def _use_private_sockets(self, km: Any) -> None:
        """Unix sockets in a folder only this kernel's sandbox is shown."""
        if self.socket_dir is None:
            # a random name: kernel ids are shown to everyone who may use the kernel
            name = f"wsperms-{secrets.token_hex(8)}"
            bases = [os.path.dirname(os.path.abspath(km.connection_file))]
            bases += [tempfile.gettempdir(), "/tmp"]  # the runtime folder's path is too long
            fitting = [b for b in bases if len(os.path.join(b, name)) <= _SUN_PATH_MAX - 5]
            if not fitting:
                raise web.HTTPError(
                    500,
                    "no folder with a path short enough for a kernel's unix sockets: set "
                    "JUPYTER_RUNTIME_DIR to a shorter path",
                    reason="socket_path_too_long",
                )
            self.socket_dir = os.path.join(fitting[0], name)
            os.makedirs(self.socket_dir, mode=0o700, exist_ok=True)
        km.transport = "ipc"
        km.cache_ports = False
        km.ip = os.path.join(self.socket_dir, "k")

    async def send_signal(self, signum: int) -> None:
        """Interrupts go to the processes inside the sandbox, not to bubblewrap."""
        if not (self.confined and signum == signal.SIGINT and self.process is not None):
            await super().send_signal(signum)
            return
        if self.process.poll() is not None:
            return  # bubblewrap is gone: its group's number may belong to others now
        for pid in sandboxed_processes(self.process.pid, self.pgid):
            signal_in_group(pid, self.pgid, signum)

    async def cleanup(self, restart: bool = False) -> None:
        """Remove the kernel's socket folder once it is gone for good."""
        await super().cleanup(restart=restart)
        if not restart and self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None


def sandboxed_processes(bwrap_pid: int, pgid: int | None) -> list[int]:
    """The processes of bubblewrap's process group but bubblewrap itself and the
    sandbox's first process (its reaper), i.e. the kernel and what it started."""
    if pgid is None:
        return []
    parents: dict[int, int] = {}
    group: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        found = _parent_and_group(int(entry))
        if found is None:
            continue
        parents[int(entry)] = found[0]
        if found[1] == pgid:
            group.append(int(entry))
    reapers = {pid for pid, ppid in parents.items() if ppid == bwrap_pid}
    return [pid for pid in group if pid != bwrap_pid and pid not in reapers]


def refuse_foreign_provisioner(kernel_name: str, spec: Any) -> None:
    """Refuse a kernelspec that names a provisioner other than ours or the stock local
    one (which ours replaces): it would start its kernels outside the sandbox."""
    metadata = getattr(spec, "metadata", None) or {}
    stanza = metadata.get("kernel_provisioner")
    named = stanza.get("provisioner_name") if isinstance(stanza, dict) else None
    if named not in (None, PROVISIONER_NAME, "local-provisioner"):
        raise web.HTTPError(
            403,
            f"the kernel {kernel_name!r} names the kernel provisioner {named!r}; "
            "kernels of this server start only in its sandbox: remove the "
            "kernel_provisioner stanza from its kernel.json",
            reason="kernel_provisioner_refused",
        )


def signal_in_group(pid: int, pgid: int | None, signum: int) -> None:
    """Signal ``pid`` only while it is still the process of group ``pgid`` it was: a
    descriptor for the process is taken first, then its group checked again, so a pid
    number reused meanwhile by another process is never signalled."""
    try:
        handle = os.pidfd_open(pid)
    except OSError:
        return  # gone
    try:
        found = _parent_and_group(pid)
        if pgid is None or found is None or found[1] != pgid:
            return
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(handle, signum)
    finally:
        os.close(handle)


def _parent_and_group(pid: int) -> tuple[int, int] | None:
    """A process's parent and process group, from ``/proc/<pid>/stat`` (None: gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1]), int(fields[2])


class SandboxedKernelManager(ServerKernelManager):
    """A kernel manager whose kernels always start through :class:`SandboxedProvisioner`."""

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None:
            spec = self.kernel_spec
            refuse_foreign_provisioner(self.kernel_name, spec)
            self.kernel_id = self.kernel_id or kw.get("kernel_id")
            self.provisioner = SandboxedProvisioner(
                kernel_id=self.kernel_id, kernel_spec=spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)
