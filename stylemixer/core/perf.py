"""Process-level performance settings, each chosen by measurement (docs/performance.md has the numbers).

Huge pages for large allocations. A 1024 px activation is 64 MB; glibc serves it with a fresh mmap and the kernel
then faults it in 4 KB at a time. On the 2-core machine the project is measured on, that costs ~3 us per page:
~50 ms per 64 MB tensor, more than the arithmetic done on it, and a 1024 px frame allocates dozens of them. With
glibc's `hugetlb=1` tunable, malloc asks for 2 MB pages and the same allocation costs ~7 ms.

Freed memory kept in the process. Even with huge pages, every 64 MB block went back to the kernel when freed
and came back as a fresh mapping at the next allocation (8-10 ms per block, 0.1-0.7 s of system time per
1024 px render measured under load), and memory the kernel has not handed out recently costs far more (on the
project's VM ~2.5-3 ms per MB: 150-200 ms per 64 MB). So the command also tells malloc to serve every
allocation from its heap (`mmap_max=0`), one heap for all threads (`arena_max=1`: a thread's own arena cannot
hold a 64 MB block, which made such allocations 150-450 ms in the render thread), and to keep up to 1 GB of
freed memory rather than return it (`trim_threshold`). Renders then recycle their own memory: ~0 system time
per 1024 px render instead of 0.1-0.7 s, at the price of a process that keeps its peak memory (2.1 GB instead
of 1.75 GB after the 1024 px benchmark).

Tunables are read when a process starts, so `main()` re-executes itself once with them set; only the real
command line does this (never a library call or a test), only on Linux with glibc >= 2.35, and it is skipped
with `stylemixer --no-reexec` or when the tunables are already there. The new process carries the internal
marker STYLEMIXER_REEXECED=1 in its environment, so it never re-executes again (docs/environment.md).
"""

from __future__ import annotations

import os
import platform
import sys

TUNABLES = (
    "glibc.malloc.hugetlb=1",
    "glibc.malloc.mmap_max=0",
    "glibc.malloc.arena_max=1",
    f"glibc.malloc.trim_threshold={2**30}",
    f"glibc.malloc.top_pad={64 * 2**20}",
)
TUNABLE = TUNABLES[0]
_MARK = "STYLEMIXER_REEXECED"


def allocator_env(env=None) -> dict:
    """A copy of env (default os.environ) with the allocator tunables added to GLIBC_TUNABLES (one the
    environment already sets, to any value, is left as it is)."""
    env = dict(os.environ if env is None else env)
    have = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
    names = {t.split("=")[0] for t in have}
    env["GLIBC_TUNABLES"] = ":".join(have + [t for t in TUNABLES if t.split("=")[0] not in names])
    return env


def huge_pages_active() -> bool:
    return "glibc.malloc.hugetlb" in os.environ.get("GLIBC_TUNABLES", "")


def allocator_tunables_active() -> bool:
    """Whether this process started with every tunable of TUNABLES named in GLIBC_TUNABLES (any value)."""
    have = os.environ.get("GLIBC_TUNABLES", "")
    return all(t.split("=")[0] in have for t in TUNABLES)


def _glibc_ok() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    lib, ver = platform.libc_ver()
    try:
        major, minor = (int(v) for v in ver.split(".")[:2])
    except ValueError:
        return False
    return lib == "glibc" and (major, minor) >= (2, 35)


def reexec_with_huge_pages():
    """Replace this process by the same command with the allocator tunables set; returns only when that is not
    done."""
    if os.environ.get(_MARK) or allocator_tunables_active() or not _glibc_ok():
        return
    argv = list(getattr(sys, "orig_argv", []) or [])
    if not argv or not sys.executable:
        return
    env = allocator_env()
    env[_MARK] = "1"
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable] + argv[1:], env)
    except OSError:
        return


def lower_thread_priority(nice: int) -> bool:
    """Lower the calling thread's CPU priority by `nice` steps (Linux: the thread's own nice value; threads it
    starts later, such as an OpenMP team, inherit it). Lowering needs no privilege. Returns whether it was done.

    For the app's render worker: the GUI thread, at normal priority, then gets a core as soon as it has work,
    while the renderer uses every core the rest of the time (docs/performance.md has the measurements).
    """
    if nice <= 0 or not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        return False
    import threading

    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + int(nice)))
    except OSError:
        return False
    return True
