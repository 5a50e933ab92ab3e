"""Check the relative links of the project's Markdown: README.md, CONTRIBUTING.md and docs/*.md.

Every link or image that is not a URL must name a file or folder of the repository, and a `#fragment` must match
a heading of the Markdown file it points into (GitHub's anchor rule). Links inside code blocks and code spans are
not links. Prints one line per broken link and exits 1 if there is any.

    python tools/check_doc_links.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"`+[^`]*`+")


def markdown_files(root: Path = ROOT) -> list[Path]:
    files = [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "docs").glob("*.md"))]
    return [f for f in files if f.is_file()]


def prose_lines(text: str):
    """(line number, line) outside fenced code blocks, with code spans blanked."""
    fenced = False
    for n, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, CODE_SPAN.sub("``", line)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]|\[|\]\([^)]*\)", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or not m:
            continue
        a = anchor(m.group(1))
        n = seen.get(a, 0)
        seen[a] = n + 1
        out.add(a if n == 0 else f"{a}-{n}")
    return out


def broken_links(files=None, root: Path = ROOT) -> list[str]:
    problems = []
    for md in files or markdown_files(root):
        for n, line in prose_lines(md.read_text(encoding="utf-8")):
            for m in LINK.finditer(line):
                target = m.group(1)
                if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:
                    continue
                path, _, frag = target.partition("#")
                dest = (md.parent / path).resolve() if path else md
                where = f"{md.relative_to(root)}:{n}: {target}"
                if not dest.exists():
                    problems.append(f"{where}: no such file")
                elif root not in dest.parents and dest != root:
                    problems.append(f"{where}: outside the repository")
                elif frag and dest.suffix == ".md" and frag not in anchors(dest):
                    problems.append(f"{where}: no heading with that anchor")
    return problems


def main() -> int:
    problems = broken_links()
    for p in problems:
        print(p)
    files = markdown_files()
    print(f"{len(files)} files checked, {len(problems)} broken links", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
