"""Process-level performance settings, each chosen by measurement (docs/performance.md has the numbers).

Transparent huge pages for large allocations. A 1024 px activation is 64 MB; glibc serves it with a fresh mmap
and the kernel then faults it in 4 KB at a time. On the 2-core machine the project is measured on, that costs
~3 us per page: ~50 ms per 64 MB tensor, more than the arithmetic done on it, and a 1024 px frame allocates
dozens of them. With glibc's `hugetlb=1` tunable, malloc asks for 2 MB pages and the same allocation costs ~7 ms.
Tunables are read when a process starts, so `main()` re-executes itself once with the tunable set; only the real
command line does this (never a library call or a test), only on Linux with glibc >= 2.35, and it is skipped when
STYLEMIXER_NO_REEXEC is set or the variable is already there.
"""
from __future__ import annotations

import os
import platform
import sys

TUNABLE = "glibc.malloc.hugetlb=1"
_MARK = "STYLEMIXER_REEXECED"


def allocator_env(env=None) -> dict:
    """A copy of env (default os.environ) with the huge-page tunable added to GLIBC_TUNABLES."""
    env = dict(os.environ if env is None else env)
    have = env.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb" not in have:
        env["GLIBC_TUNABLES"] = f"{have}:{TUNABLE}" if have else TUNABLE
    return env


def huge_pages_active() -> bool:
    return "glibc.malloc.hugetlb" in os.environ.get("GLIBC_TUNABLES", "")


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
    """Replace this process by the same command with the tunable set; returns only when that is not done."""
    if os.environ.get(_MARK) or os.environ.get("STYLEMIXER_NO_REEXEC") or huge_pages_active() or not _glibc_ok():
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
