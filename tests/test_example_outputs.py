"""The documentation's examples run from the repository root and write files there: every one of
them is git-ignored, so `git status` stays clean and `make lint` (ruff honours .gitignore) does not
trip on them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.files import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Where an example names a file it writes: curl's -o and -D, a shell redirection, Python's
# open(..., "wb"), a script's own name in its first comment, and a generator's output folder.
WRITES = [
    re.compile(r"curl [^\n]*?-o ([\w.-]+)"),
    re.compile(r"-D ([\w.-]+\.txt)"),
    re.compile(r"> \"?([\w.$-]+\.png)\"?"),
    re.compile(r"open\(f?\"([\w{}.-]+)\", \"wb\"\)"),
    re.compile(r"^# ([\w]+\.py)", re.MULTILINE),
    re.compile(r"--output-path ([\w.-]+/?)"),
    re.compile(r"openapi-ts -i \S+ -o ([\w.-]+/)"),
]


def written() -> set[str]:
    names: set[str] = set()
    for page in PAGES:
        text = page.read_text()
        for pattern in WRITES:
            names.update(pattern.findall(text))
    # Names built in a loop (`lighthouse-$i.png`, `fox-{i}.png`): one instance of each.
    return {re.sub(r"\$i|\{i\}", "1", name) for name in names}


def as_path(name: str) -> str:
    """A folder's name as git matches it (`gateway_client/`); a file's as it is."""
    folder = "." not in name and not name.endswith("/")
    return f"{name}/" if folder else name


def test_every_file_an_example_writes_is_ignored() -> None:
    names = written()
    assert {"fox.png", "fox.py", "fox-16x9.png", "lighthouse-1.png", "headers.txt"} <= names
    assert len(names) >= 20
    for name in sorted(names):
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", as_path(name)], cwd=ROOT, check=False
        )
        assert ignored.returncode == 0, f"{name} (written by an example) is not git-ignored"
    tracked = subprocess.run(
        ["git", "check-ignore", "-q", "tests/data/coffee.png"], cwd=ROOT, check=False
    )
    assert tracked.returncode == 1  # the photos the examples read stay tracked


def test_ruff_skips_what_the_examples_leave_behind(tmp_path: Path) -> None:
    """A checkout with the examples' scripts beside it, as `make lint` sees it."""
    for name in (".gitignore", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    unlinted = "import os\nimport base64\nx=1;y=2\n"
    for script in ("fox.py", "titan.py", "openai_fox.py"):
        (tmp_path / script).write_text(unlinted)
    (tmp_path / "gateway_client").mkdir()
    (tmp_path / "gateway_client" / "client.py").write_text(unlinted)
    ruff = [sys.executable, "-m", "ruff", "check", "--no-cache", "."]
    clean = subprocess.run(ruff, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stdout
    (tmp_path / "mine.py").write_text(unlinted)  # anything else is still linted
    dirty = subprocess.run(ruff, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert dirty.returncode == 1
    assert "mine.py" in dirty.stdout
    assert "fox.py" not in dirty.stdout
