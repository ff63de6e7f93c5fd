"""The README's examples and docs/examples.md's, run as a reader runs them: each shell block under
bash (curl, jq) against `python -m app` with its emulator, each Python script saved under the name
its first comment gives, and what they print compared with the output shown under them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.files import ROOT
from tests.support.served import ServedGateway

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# What differs between runs: ids and clocks; and, for a request that gives no seed, the seed the
# gateway drew and so the image's length.
VOLATILE = {"id", "created", "request_id"}
VOLATILE_HEADERS = {"date", "x-request-id"}
UNSEEDED = {"seed", "content-length"}
_CUT = "--- the new part's output ---"


@dataclass
class Example:
    """A block to run and the output the page shows under it (None: none shown)."""

    title: str
    language: str
    code: str
    output: str | None


def examples(page: Path, start: str, end: str | None) -> list[Example]:
    """The runnable blocks from one heading to another (or the page's end), each with the output
    block that follows it."""
    text = page.read_text()
    section = text[text.index(start) : text.index(end) if end else len(text)]
    found: list[Example] = []
    title = ""
    position = 0
    for match in FENCE.finditer(section):
        headings = re.findall(r"^##+ (.+)$", section[position : match.start()], re.MULTILINE)
        title = headings[-1] if headings else title
        position = match.end()
        language, body = match.group(1), match.group(2)
        if language in ("sh", "python"):
            found.append(Example(title, language, body, None))
        elif found and found[-1].output is None:
            found[-1].output = body
    return found


README_EXAMPLES = examples(ROOT / "README.md", "## Examples", "## Documentation")


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """`python -m app` with its emulator, as `make run` starts it, on free ports."""
    with ServedGateway(None) as gateway:
        yield gateway.url.removeprefix("http://")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the repository root: its tests/data and .venv, and room for outputs."""
    root = tmp_path_factory.mktemp("readme")
    (root / "tests").symlink_to(ROOT / "tests")
    (root / ".venv").symlink_to(Path(sys.prefix))
    return root


def run(example: Example, address: str, workdir: Path, before: Sequence[Example] = ()) -> str:
    """Run one block where the reader would; what it printed. A script that names its file is
    saved under that name (a later command runs it); one that does not goes on the last script
    named before it ("the same client") and runs with it, its endpoint set to the gateway."""
    code = example.code.replace("127.0.0.1:8000", address)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    command = ["bash", "-euo", "pipefail", "-c", code]
    if example.language == "python":
        name = re.match(r"# ([\w-]+\.py)\n", code)
        if name:
            (workdir / name[1]).write_text(code)
            return ""
        script = next(e.code for e in reversed(before) if re.match(r"# [\w-]+\.py\n", e.code))
        # What the earlier script prints was shown under it: only the new part's output counts.
        command = [sys.executable, "-c", f"{script}\nprint({_CUT!r})\n{code}"]
        env |= {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": f"http://{address}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
    done = subprocess.run(
        command,
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.rpartition(_CUT + "\n")[2]


def seeded(example: Example) -> bool:
    """Whether the request gives its seed (JSON `"seed": 42`, a form's `seed=42`, boto3's)."""
    return re.search(r"\"seed\": ?\d|seed=\d", example.code) is not None


def masked(value: Any, volatile: set[str]) -> Any:
    """JSON with the values that change from run to run replaced."""
    if isinstance(value, dict):
        return {k: "<varies>" if k in volatile else masked(v, volatile) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, volatile) for v in value]
    return value


def headers(text: str) -> tuple[str, dict[str, str]]:
    """The status line and the headers of `curl -D -` output."""
    status, *lines = text.strip().splitlines()
    return status, {k.lower(): v for k, _, v in (line.partition(": ") for line in lines)}


def assert_shown(printed: str, shown: str, seeded: bool) -> None:
    """The printed output is the one the page shows: JSON compared as data, volatile values
    aside; headers by those the page shows; plain text exactly, `…` for what the page shortened."""
    if shown.startswith("HTTP/"):
        status, got = headers(printed)
        expected_status, expected = headers(shown)
        assert status == expected_status
        skip = VOLATILE_HEADERS | (set() if seeded else UNSEEDED)
        for name, value in expected.items():
            assert name in got, name
            assert name in skip or got[name] == value, (name, got[name], value)
        return
    try:
        expected_json = json.loads(shown)
    except json.JSONDecodeError:
        pattern = ".*".join(re.escape(piece) for piece in shown.strip().split("…"))
        assert re.fullmatch(pattern, printed.strip(), re.DOTALL), printed
        return
    volatile = VOLATILE | (set() if seeded else {"seed"})
    assert masked(json.loads(printed), volatile) == masked(expected_json, volatile)


def test_the_readme_shows_five_examples() -> None:
    titles = {example.title for example in README_EXAMPLES}
    assert len(titles) == 5, titles
    assert sum(example.output is not None for example in README_EXAMPLES) >= 4


def test_every_readme_example_prints_what_the_readme_shows(served: str, workdir: Path) -> None:
    # In page order: a script is saved before the command that runs it.
    for example in README_EXAMPLES:
        printed = run(example, served, workdir)
        if example.output is not None:
            assert_shown(printed, example.output, seeded(example))
    text = (ROOT / "README.md").read_text()
    sizes = re.findall(r"`([\w.-]+\.png)` is (\d+)×(\d+)", text)
    assert sizes
    for name, width, height in sizes:
        with Image.open(workdir / name) as image:
            assert image.size == (int(width), int(height))


PAGE_EXAMPLES = examples(ROOT / "docs" / "examples.md", "# Examples", None)


@pytest.mark.parametrize(
    "index", range(len(PAGE_EXAMPLES)), ids=[f"{i}-{e.title}" for i, e in enumerate(PAGE_EXAMPLES)]
)
def test_every_example_on_the_examples_page(served: str, workdir: Path, index: int) -> None:
    """docs/examples.md, block by block in page order (a script before the command that runs it)."""
    example = PAGE_EXAMPLES[index]
    printed = run(example, served, workdir, PAGE_EXAMPLES[:index])
    if example.output is not None:
        assert_shown(printed, example.output, seeded(example))
