"""Bodies within the byte cap that would cost far more than their size are answered small and
cheaply (issue 17, finding 5), on every surface of `python -m app`.

A million unknown keys (18 MB) is refused unparsed, in a few hundred bytes, while /healthz goes on
answering and the process's peak memory grows by a small multiple of the body; a thousand unknown
keys are parsed and answered with the first errors and their count.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest

from emulator.testing import EmulatorServer
from tests.support.hostile import million_keys
from tests.support.served import ServedGateway, errors_logged

TITAN = "amazon.titan-image-generator-v1"
PATHS = ["/v1/images/text-to-image", "/openai/v1/images/generations", f"/model/{TITAN}/invoke"]


@pytest.fixture(scope="module")
def gateway(emulator_server: EmulatorServer) -> Iterator[ServedGateway]:
    with ServedGateway(emulator_server) as served:
        yield served


def peak_rss_bytes(gateway: ServedGateway) -> int:
    """The process's peak resident memory so far (VmHWM)."""
    assert gateway.process is not None
    status = Path(f"/proc/{gateway.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def test_a_million_unknown_keys_get_a_small_answer_and_health_stays_up(
    gateway: ServedGateway, emulator: EmulatorServer
) -> None:
    body = million_keys()
    assert 11_000_000 < len(body) < 26 * 1024 * 1024  # within the byte cap
    before = peak_rss_bytes(gateway)
    with ThreadPoolExecutor(len(PATHS)) as pool:
        posts = [
            pool.submit(
                httpx.post,
                f"{gateway.url}{path}",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            for path in PATHS
        ]
        health = httpx.get(f"{gateway.url}/healthz", timeout=60)
        answers = [post.result() for post in posts]
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    native, openai, bedrock = answers
    for answer in answers:
        assert answer.status_code == 400
        assert len(answer.content) < 512
    assert native.json()["type"] == "/problems/json-too-complex"
    assert openai.json()["error"]["code"] == "json_too_complex"
    assert bedrock.headers["x-amzn-errortype"] == "ValidationException"
    for answer in answers:
        assert "1000001 strings (object keys included)" in answer.text
    # Three 18 MB bodies at once: the process grew by less than five times their size.
    assert peak_rss_bytes(gateway) - before < 5 * len(PATHS) * len(body)
    assert emulator.requests() == []
    assert errors_logged(gateway) == []


def test_a_thousand_unknown_keys_list_the_first_errors_and_count_them(
    gateway: ServedGateway, emulator: EmulatorServer
) -> None:
    unknown = {f"unknown{i}": i for i in range(900)}
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        native = client.post(PATHS[0], json={"prompt": "a fox", **unknown})
        bedrock = client.post(
            PATHS[2],
            content=orjson.dumps(
                {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a fox"}, **unknown}
            ),
        )
    assert native.status_code == 422
    problem = native.json()
    assert problem["error_count"] == 900
    assert [e["field"] for e in problem["errors"]] == [f"unknown{i}" for i in range(20)]
    assert len(native.content) < 4096
    assert bedrock.status_code == 400
    message = bedrock.json()["message"]
    assert message.startswith("900 schema violations found: #: extraneous key [unknown0]")
    assert message.endswith("; and 880 more")
    assert len(bedrock.content) < 4096
    assert emulator.requests() == []
