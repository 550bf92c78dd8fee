"""A seccomp filter that refuses to make symbolic links, for confined processes.

Confined code may write its own project, and the server serves that folder. A link
planted there that points out of the project (to another project, the server's
cookie secret, ``/proc/<pid>/environ``) would be followed by the server the moment it
opens the path, and swapping a plain file for such a link between the server's check
and its use wins that race often enough. Without the ability to make links, nothing
confined can point the server anywhere: hard links cannot cross the sandbox's mounts
(``EXDEV``), and the sandbox shows no other project to rename into.

The filter is classic BPF, the format ``bwrap --seccomp FD`` loads: ``symlink`` and
``symlinkat`` fail with ``EPERM``, and so do ``io_uring_setup``, ``io_uring_enter`` and
``io_uring_register``: an io_uring request makes links (``IORING_OP_SYMLINKAT``)
without any system call this filter could see. Every other system call of the native
architecture is allowed; system calls of other ABIs (32-bit, x32), which a filter for
the native numbers would not cover, fail with ``EPERM`` too.
"""

from __future__ import annotations

import errno
import platform
import struct

# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_RET_ALLOW = 0x7FFF0000
_RET_EPERM = 0x00050000 | errno.EPERM
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data
_X32_BIT = 0x40000000

IO_URING = (425, 426, 427)  # io_uring_setup, io_uring_enter, io_uring_register (every arch)
#: ``platform.machine()`` -> (AUDIT_ARCH_*, refused system call numbers, x32 ABI)
ARCHITECTURES = {
    "x86_64": (0xC000003E, (88, 266, *IO_URING), True),  # symlink, symlinkat
    "aarch64": (0xC00000B7, (36, *IO_URING), False),  # symlinkat (no symlink)
}


class UnsupportedArchitecture(RuntimeError):
    """No filter is known for this machine's architecture."""


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def no_symlinks_filter(machine: str | None = None) -> bytes:
    """The BPF program for ``machine`` (default: this one)."""
    found = ARCHITECTURES.get(machine or platform.machine())
    if found is None:
        raise UnsupportedArchitecture(
            f"no symbolic-link filter for the {machine or platform.machine()} architecture "
            f"(known: {', '.join(sorted(ARCHITECTURES))})"
        )
    arch, numbers, x32 = found
    body: list[tuple[int, int, int, int]] = [(_LD_W_ABS, 0, 0, _NR)]
    if x32:
        body.append((_JGE_K, 0, 0, _X32_BIT))  # jt patched below: to "deny"
    for number in numbers:
        body.append((_JEQ_K, 0, 0, number))  # jt patched below: to "deny"
    body.append((_RET_K, 0, 0, _RET_ALLOW))
    # the program: check the architecture, then the body, then "deny"
    program: list[tuple[int, int, int, int]] = [
        (_LD_W_ABS, 0, 0, _ARCH),
        (_JEQ_K, 0, len(body), arch),  # another ABI: skip the body, to "deny"
        *body,
        (_RET_K, 0, 0, _RET_EPERM),
    ]
    deny = len(program) - 1
    patched = []
    for index, (code, jt, jf, k) in enumerate(program):
        if code in (_JEQ_K, _JGE_K) and index > 1:
            jt = deny - index - 1  # jumps are relative to the next instruction
        patched.append(_insn(code, jt, jf, k))
    return b"".join(patched)
