"""Kernel confinement: each kernel sees only its own project (bubblewrap).

- :mod:`.mounts`: what a confined process sees, as a bubblewrap command line (pure);
- :mod:`.environment`: a kernel's environment (an allow-list, a home per project, a hook);
- :mod:`.confinement`: the sandbox's settings, its start-up self-test and its status;
- :mod:`.provisioner`: the kernel provisioner every kernel starts through.

It knows nothing of policies: the kernel manager (:mod:`..server.kernels`) decides
which project a kernel belongs to and hands that over as a :class:`KernelPlace`.
"""

from .confinement import KernelSandbox
from .environment import KernelEnvironment, KernelPlace
from .provisioner import (
    PLACE,
    PROVISIONER_NAME,
    SandboxedKernelManager,
    SandboxedProvisioner,
    refuse_foreign_provisioner,
)

__all__ = [
    "PLACE",
    "PROVISIONER_NAME",
    "KernelEnvironment",
    "KernelPlace",
    "KernelSandbox",
    "SandboxedKernelManager",
    "SandboxedProvisioner",
    "refuse_foreign_provisioner",
]
