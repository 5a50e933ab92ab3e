"""The documentation stays true: its relative links resolve, and its Python example runs."""

import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import check_doc_links  # noqa: E402


def test_relative_links_resolve():
    assert check_doc_links.broken_links() == []


def test_the_link_check_finds_broken_links(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A title\n\nSee [b](b.md) and [the title](#a-title).\n")
    (tmp_path / "README.md").write_text(
        "[a](docs/a.md#a-title) [gone](docs/a.md#nothing) ![img](docs/none.png) `[code](not-a-link.md)`\n"
        "```\n[fenced](not-a-link-either.md)\n```\n"
    )
    problems = check_doc_links.broken_links(root=tmp_path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "docs/a.md#nothing: no heading with that anchor",
        "docs/none.png: no such file",
        "b.md: no such file",
    ]


def test_the_script_example_runs():
    """docs/cli.md's example: the core used from a script, on the built-in model."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    scope: dict = {}
    exec(compile(blocks[0], "docs/cli.md", "exec"), scope)
    result = scope["result"]
    assert result.mix.dtype == np.uint8 and result.mix.shape == (64, 64, 3)
    assert result.stats["mix"][4].y_s.shape == (1, scope["G"].layer_table()[4].channels)
