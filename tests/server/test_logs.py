"""The access log: one JSON line per request, with its facts and never a key, an image or (unless
asked for) a prompt; and Server-Timing on the image routes' answers."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from app.auth.keygen import hash_key, new_key
from app.observability.logs import JsonFormatter
from emulator.testing import EmulatorServer
from tests.support.gateway import b64, data, open_gateway, settings_for
from tests.support.metrics import scrape, value

T2I = "/v1/images/text-to-image"
VARIATIONS = "/v1/images/variations"
TITAN = "amazon.titan-image-generator-v1"
KEY = new_key()


class Lines(logging.Handler):
    """The access lines as the JSON formatter writes them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.text: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.text.append(self.format(record))

    def parsed(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("app.access")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler
    logger.setLevel(level)
    logger.removeHandler(handler)


def keyed(emulator: EmulatorServer, **overrides: Any) -> Any:
    entry = {"name": "alice", "hash": hash_key(KEY), "limits": {"requests_per_minute": 1}}
    return settings_for(emulator, api_keys=[entry], **overrides)


async def test_one_line_per_request_with_its_facts_and_no_key_image_or_prompt(
    emulator: EmulatorServer, lines: Lines
) -> None:
    image = b64(data("chelsea.png"))
    async with open_gateway(keyed(emulator)) as http:
        response = await http.post(
            VARIATIONS,
            json={"images": [image], "prompt": "a secret cat", "n": 2, "seed": 3},
            headers={"X-API-Key": KEY, "X-Request-ID": "req-42"},
        )
    assert response.status_code == 200
    [line] = lines.parsed()
    assert line["logger"] == "app.access"
    assert line["request_id"] == "req-42"
    assert line["key"] == "alice"
    assert (line["method"], line["path"], line["route"]) == ("POST", VARIATIONS, VARIATIONS)
    assert (line["model"], line["task"], line["n"], line["images"]) == (TITAN, "variations", 2, 2)
    assert line["status"] == 200
    assert line["problem"] is None
    assert 0 < line["upstream_ms"] <= line["total_ms"]
    assert "prompt" not in line
    [text] = lines.text
    for secret in (KEY, hash_key(KEY), image[:64], "a secret cat"):
        assert secret not in text
    assert response.json()["images"][0]["b64_json"][:64] not in text


async def test_prompts_are_logged_only_when_configured(
    emulator: EmulatorServer, lines: Lines
) -> None:
    async with open_gateway(settings_for(emulator, log_prompts=True)) as http:
        assert (await http.post(T2I, json={"prompt": "a red barn"})).status_code == 200
    [line] = lines.parsed()
    assert (line["prompt"], line["key"], line["n"]) == ("a red barn", "anonymous", 1)


async def test_a_quota_refusal_is_logged_and_counted_by_key(
    emulator: EmulatorServer, lines: Lines
) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with open_gateway(keyed(emulator)) as http:
        assert (await http.post(T2I, json={"prompt": "a"}, headers=headers)).status_code == 200
        refused = await http.post(T2I, json={"prompt": "b"}, headers=headers)
        assert refused.status_code == 429
        samples = await scrape(http)
    assert value(samples, "gateway_quota_rejections_total", key="alice") == 1
    labels = {"route": T2I, "method": "POST", "key": "alice"}
    assert value(samples, "gateway_requests_total", **labels, status="429") == 1
    refusal = lines.parsed()[1]
    assert (refusal["status"], refusal["problem"], refusal["key"]) == (
        429,
        "quota-exceeded",
        "alice",
    )
    assert refusal["upstream_ms"] == 0


async def test_a_quota_refusal_on_the_bedrock_surface_is_counted_by_key(
    emulator: EmulatorServer, lines: Lines
) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    path = "/model/amazon.titan-image-generator-v1/invoke"
    body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a"}}
    async with open_gateway(keyed(emulator)) as http:
        assert (await http.post(path, json=body, headers=headers)).status_code == 200
        refused = await http.post(path, json=body, headers=headers)
        assert refused.headers["x-amzn-errortype"] == "ThrottlingException"
        samples = await scrape(http)
    assert value(samples, "gateway_quota_rejections_total", key="alice") == 1
    assert lines.parsed()[1]["problem"] == "quota-exceeded"


async def test_refusals_before_routing_are_logged_without_a_key(
    emulator: EmulatorServer, lines: Lines
) -> None:
    async with open_gateway(keyed(emulator)) as http:
        response = await http.post(T2I, json={"prompt": "a"}, headers={"X-API-Key": "wrong"})
    assert response.status_code == 401
    [line] = lines.parsed()
    assert (line["status"], line["key"], line["model"]) == (401, "anonymous", None)
    assert "wrong" not in lines.text[0]


SERVER_TIMING = re.compile(r"^gateway;dur=(\d+\.\d), bedrock;dur=(\d+\.\d)$")


@pytest.fixture
async def gateway(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with open_gateway(settings_for(emulator)) as client:
        yield client


async def test_server_timing_splits_bedrock_time_from_the_gateways(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    # The emulator holds each call at least 50 ms: a floor, not a timing.
    emulator.set_faults(latency_ms={"*": 50})
    response = await gateway.post(T2I, json={"prompt": "a red barn"})
    assert response.status_code == 200
    match = SERVER_TIMING.match(response.headers["server-timing"])
    assert match is not None
    assert float(match[2]) >= 50
    assert float(match[1]) >= 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (T2I, {"prompt": "a", "width": 3}),
        ("/openai/v1/images/generations", {"prompt": "a", "size": "3x3"}),
        (f"/model/{TITAN}/invoke", {"taskType": "NOPE"}),
    ],
)
async def test_refusals_on_every_image_surface_carry_it_with_no_bedrock_time(
    gateway: httpx.AsyncClient, emulator: EmulatorServer, path: str, body: dict[str, Any]
) -> None:
    response = await gateway.post(path, json=body)
    assert response.status_code == 400 or response.status_code == 422
    match = SERVER_TIMING.match(response.headers["server-timing"])
    assert match is not None
    assert float(match[2]) == 0
