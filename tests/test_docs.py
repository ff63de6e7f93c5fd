"""The README is a front page; docs/ is a site that builds: links, anchors, the strict build."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.files import ROOT

README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """The heading anchors of a Markdown page, slugged as MkDocs' toc (and GitHub) write them."""
    found: set[str] = set()
    fenced = False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"#{1,6} (.*)", line)
        if heading:
            text = heading.group(1).strip().lower().replace("`", "")
            found.add(re.sub(r"\s+", "-", re.sub(r"[^\w\- ]", "", text)))
    return found


def test_quick_start_is_on_the_first_screen() -> None:
    first_screen = README.read_text().splitlines()[:40]
    commands = [line.split("#")[0].strip() for line in first_screen]
    assert "make run" in commands
    assert "make test" in commands


def test_every_readme_link_reaches_a_file_and_its_anchor() -> None:
    targets = [t for t in LINK.findall(README.read_text()) if not t.startswith("http")]
    assert len(targets) > 20
    for target in targets:
        path, _, anchor = target.partition("#")
        page = ROOT / path
        assert page.is_file(), target
        if anchor:
            assert anchor in anchors(page), target


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "reliability" / "index.html").is_file()
    assert (tmp_path / "site" / "api" / "index.html").read_text().count('id="input-limits"') == 1


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages == set(re.findall(r": ([\w-]+\.md)$", nav, re.MULTILINE))
