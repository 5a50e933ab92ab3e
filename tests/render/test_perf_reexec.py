"""The command line re-executes itself once with the allocator tunables (Linux with glibc >= 2.35 only)."""

import os
import subprocess
import sys

import pytest

from stylemixer.core.perf import TUNABLES, _glibc_ok

CODE = (
    "import os; from stylemixer.core.perf import reexec_with_huge_pages; reexec_with_huge_pages(); "
    "print(os.environ.get('GLIBC_TUNABLES'), os.environ.get('STYLEMIXER_REEXECED'))"
)


def run(env):
    """The child's GLIBC_TUNABLES and re-exec mark, starting from an environment without either."""
    env = {k: v for k, v in env.items() if k not in ("GLIBC_TUNABLES", "STYLEMIXER_REEXECED")}
    return subprocess.run(
        [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=60
    ).stdout.split()


@pytest.mark.skipif(not _glibc_ok(), reason="needs Linux with glibc >= 2.35")
def test_reexec_sets_the_tunable_once():
    env = {k: v for k, v in os.environ.items() if k != "STYLEMIXER_NO_REEXEC"}
    assert run(env) == [":".join(TUNABLES), "1"]


def test_the_opt_out_is_respected():
    assert run(dict(os.environ, STYLEMIXER_NO_REEXEC="1")) == ["None", "None"]


def _wait_policy(env):
    code = (
        "import os; from stylemixer.core.perf import reexec_with_huge_pages; reexec_with_huge_pages(); "
        "print(os.environ.get('OMP_WAIT_POLICY'))"
    )
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60).stdout


def test_openmp_threads_wait_by_sleeping_unless_the_environment_chooses():
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["STYLEMIXER_NO_REEXEC"] = "1"  # set whether or not the command re-executes
    assert _wait_policy(env).split() == ["PASSIVE"]
    assert _wait_policy(dict(env, OMP_WAIT_POLICY="ACTIVE")).split() == ["ACTIVE"]
    assert _wait_policy(dict(env, GOMP_SPINCOUNT="1000")).split() == ["None"]
