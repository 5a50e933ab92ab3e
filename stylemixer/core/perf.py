"""Process-level performance settings, each chosen by measurement.

- Huge pages for large allocations: a 1024 px activation is 64 MB, and faulting it in 4 KB at a time costs more
  than the arithmetic done on it (glibc's `hugetlb=1` tunable; docs/performance.md#huge-pages).
- Freed memory kept in the process: every allocation from malloc's heap (`mmap_max=0`), one heap for all threads
  (`arena_max=1`) and up to 1 GB of freed memory kept (`trim_threshold`), so renders recycle their own memory
  instead of faulting in fresh pages; the price is a process that keeps its peak memory
  (docs/performance.md#freed-memory-stays-in-the-process).

Tunables are read when a process starts, so `main()` re-executes itself once with them set; only the real
command line does this (never a library call or a test), only on Linux with glibc >= 2.35, and it is skipped
with `stylemixer --no-reexec` or when the tunables are already there. The new process carries the internal
marker STYLEMIXER_REEXECED=1 in its environment, so it never re-executes again (docs/environment.md).

OpenMP threads that wait by sleeping. By default an OpenMP thread that reaches a barrier first spins (libgomp: up
to 300,000 iterations) waiting for the others. When the machine is busy, its partner is often descheduled, and
the spinning thread burns the core that partner, the GUI thread or another process needed: on the 2-core machine
under load (load average ~9), a full 1024 px synthesis took 8.3-8.5 s with two threads against 3.9-4.4 s with one,
and 2.6-3.0 s of CPU against 1.4-1.5 s. With `OMP_WAIT_POLICY=PASSIVE` waiting threads sleep: two threads took
4.3-4.7 s, for the same 1.3-1.5 s of CPU as one, so rendering on every core no longer costs anyone else a core.
The command sets it (unless the environment already chooses) before torch is imported, as libgomp reads it when
it loads (`passive_openmp_wait`).
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping

TUNABLES = (
    "glibc.malloc.hugetlb=1",
    "glibc.malloc.mmap_max=0",
    "glibc.malloc.arena_max=1",
    f"glibc.malloc.trim_threshold={2**30}",
    f"glibc.malloc.top_pad={64 * 2**20}",
)
_MARK = "STYLEMIXER_REEXECED"


def allocator_env(env: Mapping[str, str] | None = None) -> dict:
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


OPENMP_WAIT = ("OMP_WAIT_POLICY", "PASSIVE")


def passive_openmp_wait(environ: dict[str, str] | None = None) -> bool:
    """Make OpenMP threads sleep rather than spin while they wait (see the module docstring), unless the
    environment already sets OMP_WAIT_POLICY or GOMP_SPINCOUNT. Effective only before torch is first imported.
    Returns whether it was set here."""
    env = os.environ if environ is None else environ
    if "OMP_WAIT_POLICY" in env or "GOMP_SPINCOUNT" in env:
        return False
    env[OPENMP_WAIT[0]] = OPENMP_WAIT[1]
    return True


def reexec_with_huge_pages() -> None:
    """Replace this process by the same command with the allocator tunables set; returns only when that is not
    done. First (whether or not it re-executes) it sets the OpenMP wait policy, as the command calls this before
    importing torch."""
    passive_openmp_wait()
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
    while the renderer uses every core the rest of the time (docs/performance.md#the-render-thread-below-the-gui).
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
