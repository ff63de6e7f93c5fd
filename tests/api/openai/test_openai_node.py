"""openai-node's stream parser on the gateway's event streams: `stream: true` generations and
edits through the official JavaScript SDK (tests/api/openai/openai_node, installed by `make test`),
against `python -m app` and the emulator."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import image_size, pixels
from tests.support.openai_sdk import ALPHA_EDIT, COFFEE, EDIT_AREA

NODE_DIR = Path(__file__).parent / "openai_node"


def node_events(
    url: str, kind: str, params: dict[str, Any], image: Path | None = None
) -> list[Any]:
    """The events openai-node's stream yields for one request, as it parsed them."""
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "openai").is_dir():
        pytest.fail("openai-node is not installed: run `make test` (needs Node.js >= 20 and npm)")
    command = [node, "stream.mjs", f"{url}/openai/v1", kind, json.dumps(params)]
    if image is not None:
        command.append(str(image))
    done = subprocess.run(command, cwd=NODE_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_node_reads_a_generation_stream(served: str, emulator: EmulatorServer) -> None:
    events = node_events(
        served, "generate", {"prompt": "a fox", "n": 2, "size": "1024x1536", "partial_images": 1}
    )
    assert [event["type"] for event in events] == ["image_generation.completed"] * 2
    for event in events:
        assert image_size(base64.b64decode(event["b64_json"])) == (1024, 1536)
        assert event["size"] == "1024x1536"
        assert event["usage"]["output_tokens"] == 1
    (record,) = emulator.requests()
    config = record["body"]["imageGenerationConfig"]
    assert (config["numberOfImages"], config["width"], config["height"]) == (2, 768, 1152)


def test_node_reads_an_edit_stream(served: str, emulator: EmulatorServer, tmp_path: Path) -> None:
    image = tmp_path / "coffee.png"
    image.write_bytes(ALPHA_EDIT)  # its transparent pixels are the ones to edit
    (event,) = node_events(served, "edit", {"prompt": "a blue cup"}, image)
    assert event["type"] == "image_edit.completed"
    edited = pixels(base64.b64decode(event["b64_json"]))
    changed = np.any(edited[..., :3] != pixels(COFFEE)[..., :3], axis=2)
    assert changed.any()
    assert not (changed & ~EDIT_AREA).any()
    (record,) = emulator.requests()
    assert record["body"]["taskType"] == "INPAINTING"
