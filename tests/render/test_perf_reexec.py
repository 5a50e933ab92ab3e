"""The command line re-executes itself once with the allocator tunables (Linux with glibc >= 2.35 only), unless
told not to with --no-reexec."""

import os
import subprocess
import sys

import pytest

from stylemixer import __version__
from stylemixer.core.perf import TUNABLES, _glibc_ok

pytestmark = pytest.mark.subprocess

# The real command line (main() with argv None) in a child whose own command line the re-exec repeats; each run
# of the code prints its GLIBC_TUNABLES and re-exec mark first, so a re-exec shows as a second such line.
CODE = (
    "import os, sys; print(os.environ.get('GLIBC_TUNABLES'), os.environ.get('STYLEMIXER_REEXECED'), flush=True); "
    "sys.argv = ['stylemixer', *sys.argv[1:]]; from stylemixer.cli import main; sys.exit(main())"
)


def run(*argv):
    """Output lines of the child, started from an environment without tunables or mark."""
    env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "STYLEMIXER_REEXECED")}
    p = subprocess.run([sys.executable, "-c", CODE, *argv], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


@pytest.mark.skipif(not _glibc_ok(), reason="needs Linux with glibc >= 2.35")
def test_reexec_sets_the_tunables_once():
    assert run("--version") == ["None None", f"{':'.join(TUNABLES)} 1", f"stylemixer {__version__}"]


def test_the_opt_out_is_respected():
    # before the command: were it not taken out first, the first word would not be a command and the app would start
    lines = run("--no-reexec", "info", "--help")
    assert lines[0] == "None None" and lines[1].startswith("usage: stylemixer info"), lines
    assert not any(l.endswith(" 1") for l in lines), lines


def _wait_policy(env):
    code = (
        "import os; from stylemixer.core.perf import reexec_with_huge_pages; reexec_with_huge_pages(); "
        "print(os.environ.get('OMP_WAIT_POLICY'))"
    )
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60).stdout


def test_openmp_threads_wait_by_sleeping_unless_the_environment_chooses():
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["STYLEMIXER_REEXECED"] = "1"  # no re-exec: the policy is set whether or not the command re-executes
    assert _wait_policy(env).split() == ["PASSIVE"]
    assert _wait_policy(dict(env, OMP_WAIT_POLICY="ACTIVE")).split() == ["ACTIVE"]
    assert _wait_policy(dict(env, GOMP_SPINCOUNT="1000")).split() == ["None"]
