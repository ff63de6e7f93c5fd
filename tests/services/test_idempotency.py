"""Idempotency-Key on every POST: the first answer stored, replayed to a retry of the same request
without a Bedrock call, refused for another request, kept per API key, and waited for while it
runs, even when its caller hung up (an SDK's timeout and retry)."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest

from app.auth.keygen import hash_key
from app.idempotency.index import MemoryIndex
from emulator.testing import EmulatorServer
from tests.support.clock import FakeClock
from tests.support.gateway import data, open_app, open_gateway, settings_for
from tests.support.jobs import jobs_gateway
from tests.support.redis_server import RedisServer
from tests.support.served import ServedGateway

BODY = {"prompt": "a red kite", "width": 512, "height": 512}
KEY = '"retry-7f3c"'
TITAN = "amazon.titan-image-generator-v1"


@asynccontextmanager
async def gateway_and_state(
    emulator: EmulatorServer, results: Path, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """The gateway, and the lifespan state its requests see (to set its services' clocks)."""
    async with open_app(settings_for(emulator, results_dir=str(results), **overrides)) as opened:
        yield opened


@asynccontextmanager
async def gateway_for(
    emulator: EmulatorServer, results: Path, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    async with open_gateway(settings_for(emulator, results_dir=str(results), **overrides)) as c:
        yield c


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"


def calls(emulator: EmulatorServer) -> int:
    total: int = emulator.stats()["total"]
    return total


class TestReplay:
    @pytest.mark.parametrize("backend", ["memory", "redis"])
    async def test_a_repeat_gets_the_stored_answer_marked_as_a_replay(
        self, emulator: EmulatorServer, redis: RedisServer, results: Path, backend: str
    ) -> None:
        extra = {"quota_backend": backend, "redis_url": redis.url}
        async with gateway_for(emulator, results, **extra) as gateway:
            first = await gateway.post(
                "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
            )
            again = await gateway.post(
                "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
            )
        assert first.status_code == again.status_code == 200
        assert "idempotent-replayed" not in first.headers
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]
        # The replay has its own request id; its quota headers would be stale: none.
        assert again.headers["x-request-id"] != first.headers["x-request-id"]
        assert "ratelimit" not in again.headers
        assert calls(emulator) == 1

    async def test_the_openai_and_bedrock_surfaces_replay_too(
        self, emulator: EmulatorServer, results: Path
    ) -> None:
        openai_body = {"model": "titan", "prompt": "a red kite", "size": "512x512"}
        bedrock_body = {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a red kite"},
            "imageGenerationConfig": {"width": 512, "height": 512, "numberOfImages": 1},
        }
        async with gateway_for(emulator, results) as gateway:
            answers = []
            for path, body, key in (
                ("/openai/v1/images/generations", openai_body, '"openai-1"'),
                (f"/model/{TITAN}/invoke", bedrock_body, '"bedrock-1"'),
            ):
                for _ in range(2):
                    answers.append(
                        await gateway.post(path, json=body, headers={"Idempotency-Key": key})
                    )
        assert [a.status_code for a in answers] == [200] * 4
        assert [a.headers.get("idempotent-replayed") for a in answers] == [None, "true"] * 2
        assert answers[1].content == answers[0].content
        assert answers[3].content == answers[2].content
        assert calls(emulator) == 2

    async def test_a_bare_key_is_the_same_key_as_its_quoted_form(
        self, emulator: EmulatorServer, results: Path
    ) -> None:
        async with gateway_for(emulator, results) as gateway:
            bare = await gateway.post(
                "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": "retry-7f3c"}
            )
            quoted = await gateway.post(
                "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
            )
        assert bare.status_code == quoted.status_code == 200
        assert "idempotent-replayed" not in bare.headers
        assert quoted.headers["idempotent-replayed"] == "true"
        assert quoted.json()["images"] == bare.json()["images"]
        assert calls(emulator) == 1

    async def test_a_job_submitted_twice_is_one_job(
        self, emulator: EmulatorServer, redis: RedisServer, results: Path
    ) -> None:
        async with jobs_gateway(emulator, redis, results) as gateway:
            first = await gateway.post(
                "/v1/jobs/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
            )
            again = await gateway.post(
                "/v1/jobs/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
            )
            done = await gateway.get(f"/v1/jobs/{first.json()['id']}", params={"wait": 30})
        assert first.status_code == again.status_code == 202
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["idempotent-replayed"] == "true"
        assert done.json()["status"] == "succeeded"
        assert calls(emulator) == 1

    async def test_a_multipart_retry_with_a_new_boundary_is_the_same_request(
        self, emulator: EmulatorServer, results: Path
    ) -> None:
        files = {"image": ("coffee.png", data("coffee.png"), "image/png")}
        async with gateway_for(emulator, results) as gateway:
            answers = [
                await gateway.post(
                    "/v1/images/remove-background",
                    files=files,
                    data={"model": "titan-v2"},
                    headers={"Idempotency-Key": KEY},
                )
                for _ in range(2)
            ]
        # httpx picks a fresh boundary per request, as SDKs do per attempt.
        assert (
            answers[0].request.headers["content-type"] != answers[1].request.headers["content-type"]
        )
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[1].headers["idempotent-replayed"] == "true"
        assert calls(emulator) == 1


class TestRefusals:
    async def test_the_same_key_with_another_body_is_422_naming_the_header(
        self, emulator: EmulatorServer, results: Path
    ) -> None:
        async with gateway_for(emulator, results) as gateway:
            await gateway.post(
                "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
            )
            other = await gateway.post(
                "/v1/images/text-to-image",
                json={**BODY, "prompt": "a blue kite"},
                headers={"Idempotency-Key": KEY},
            )
            elsewhere = await gateway.post(
                "/openai/v1/images/generations",
                json={"model": "titan", "prompt": "a red kite"},
                headers={"Idempotency-Key": KEY},
            )
        assert other.status_code == 422
        assert other.headers["content-type"] == "application/problem+json"
        problem = other.json()
        assert problem["type"] == "/problems/idempotency-key-reused"
        assert problem["errors"][0]["field"] == "Idempotency-Key"
        # The OpenAI surface answers the gateway's 422s as OpenAI does bad parameters: 400.
        assert elsewhere.status_code == 400
        assert elsewhere.json()["error"]["message"].startswith("Idempotency-Key was used before")
        assert calls(emulator) == 1

    @pytest.mark.parametrize(
        ("value", "says"),
        [
            ("", "is empty"),
            ('""', "empty string"),
            ("retry 1", "character 0x20 outside quotes"),
            ("retry\\1", "character 0x5c outside quotes"),
            ("k" * 256, "256 characters long: at most 255"),
            ('"retry-1";a=1', "after its closing quote"),
            ('"retry-1', "no closing quote"),
            ('"' + "k" * 256 + '"', "256 characters long: at most 255"),
            ('"caf\xe9"', "only printable ASCII"),
            ('"a\\b"', "backslash"),
        ],
    )
    async def test_a_bad_key_is_a_precise_400(
        self, emulator: EmulatorServer, results: Path, value: str, says: str
    ) -> None:
        async with gateway_for(emulator, results) as gateway:
            answer = await gateway.post(
                "/v1/images/text-to-image",
                json=BODY,
                headers=[(b"Idempotency-Key", value.encode("latin-1"))],
            )
        assert answer.status_code == 400
        problem = answer.json()
        assert problem["type"] == "/problems/bad-idempotency-key"
        assert problem["errors"][0]["field"] == "Idempotency-Key"
        assert says in problem["detail"]
        assert calls(emulator) == 0

    async def test_two_keys_in_one_request_are_400(
        self, emulator: EmulatorServer, results: Path
    ) -> None:
        async with gateway_for(emulator, results) as gateway:
            answer = await gateway.post(
                "/v1/images/text-to-image",
                json=BODY,
                headers=[("Idempotency-Key", '"a"'), ("Idempotency-Key", '"b"')],
            )
        assert answer.status_code == 400
        assert "more than once" in answer.json()["detail"]


class TestScope:
    async def test_another_api_key_with_the_same_idempotency_key_is_another_entry(
        self, emulator: EmulatorServer, results: Path
    ) -> None:
        keys = [{"name": "a", "hash": hash_key("key-a")}, {"name": "b", "hash": hash_key("key-b")}]
        async with gateway_for(emulator, results, api_keys=keys) as gateway:
            answers = [
                await gateway.post(
                    "/v1/images/text-to-image",
                    json=BODY,
                    headers={"Idempotency-Key": KEY, "X-API-Key": api_key},
                )
                for api_key in ("key-a", "key-b", "key-b")
            ]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.headers.get("idempotent-replayed") for a in answers] == [None, None, "true"]
        assert calls(emulator) == 2

    async def test_a_failed_request_is_not_stored_and_its_retry_runs_again(
        self, emulator: EmulatorServer, results: Path
    ) -> None:
        emulator.set_faults(schedule=[{"fault": "ServiceUnavailableException", "times": 3}])
        async with gateway_for(emulator, results) as gateway:
            failed = await gateway.post(
                "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
            )
            retried = await gateway.post(
                "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
            )
        assert failed.status_code == 503
        assert retried.status_code == 200
        assert "idempotent-replayed" not in retried.headers

    @pytest.mark.parametrize("backend", ["memory", "redis"])
    async def test_a_stored_answer_expires_after_the_retention_window(
        self, emulator: EmulatorServer, redis: RedisServer, results: Path, backend: str
    ) -> None:
        clock = FakeClock(1_800_000_000.0)
        extra = {"quota_backend": backend, "redis_url": redis.url, "idempotency_ttl_s": 3600}
        async with gateway_and_state(emulator, results, **extra) as (gateway, state):
            service = state["idempotency"]
            service.clock = clock
            if isinstance(service.index, MemoryIndex):
                service.index.clock = clock

            async def post() -> httpx.Response:
                return await gateway.post(
                    "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
                )

            await post()
            clock.now += 3599
            kept = await post()
            clock.now += 2
            expired = await post()
        assert kept.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in expired.headers
        assert calls(emulator) == 2


class TestRetries:
    async def test_a_retry_while_the_first_runs_waits_for_its_answer(
        self, emulator: EmulatorServer, results: Path
    ) -> None:
        emulator.hold()
        async with gateway_for(emulator, results) as gateway:

            def post() -> asyncio.Task[httpx.Response]:
                return asyncio.create_task(
                    gateway.post(
                        "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
                    )
                )

            first = post()
            await asyncio.to_thread(emulator.wait_for, in_flight=1)
            second = post()
            emulator.release()
            answers = await asyncio.gather(first, second)
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[1].content == answers[0].content
        assert calls(emulator) == 1

    async def test_a_retry_at_another_replica_waits_for_the_first_through_redis(
        self, emulator: EmulatorServer, redis: RedisServer, results: Path
    ) -> None:
        extra = {"quota_backend": "redis", "redis_url": redis.url}
        emulator.hold()
        async with (
            gateway_for(emulator, results, **extra) as one,
            gateway_for(emulator, results, **extra) as two,
        ):

            def post(gateway: httpx.AsyncClient) -> asyncio.Task[httpx.Response]:
                return asyncio.create_task(
                    gateway.post(
                        "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
                    )
                )

            first = post(one)
            await asyncio.to_thread(emulator.wait_for, in_flight=1)
            second = post(two)
            emulator.release()
            answers = await asyncio.gather(first, second)
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[1].content == answers[0].content
        assert calls(emulator) == 1


class TestBounds:
    async def test_an_answer_over_the_size_bound_is_not_kept(
        self, emulator: EmulatorServer, results: Path
    ) -> None:
        async with gateway_for(emulator, results, idempotency_max_bytes=1000) as gateway:
            answers = [
                await gateway.post(
                    "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
                )
                for _ in range(2)
            ]
        assert [a.status_code for a in answers] == [200, 200]
        assert "idempotent-replayed" not in answers[1].headers
        assert calls(emulator) == 2
        assert not (results / "idempotency").exists()

    async def test_an_answer_the_store_cannot_keep_still_answers_and_frees_the_key(
        self, emulator: EmulatorServer, tmp_path: Path
    ) -> None:
        # The result directory is a file: nothing can be stored under it.
        blocked = tmp_path / "results"
        blocked.write_bytes(b"")
        async with gateway_for(emulator, blocked) as gateway:
            answers = [
                await gateway.post(
                    "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
                )
                for _ in range(2)
            ]
        assert [a.status_code for a in answers] == [200, 200]
        assert "idempotent-replayed" not in answers[1].headers
        assert calls(emulator) == 2

    async def test_a_frozen_redis_is_a_503_not_a_hang(
        self, emulator: EmulatorServer, redis: RedisServer, results: Path
    ) -> None:
        extra = {"quota_backend": "redis", "redis_url": redis.url, "redis_timeout_s": 0.2}
        async with gateway_for(emulator, results, **extra) as gateway:
            redis.freeze()
            try:
                answer = await gateway.post(
                    "/v1/images/text-to-image", json=BODY, headers={"Idempotency-Key": KEY}
                )
            finally:
                redis.thaw()
        assert answer.status_code == 503
        assert answer.json()["type"] == "/problems/idempotency-unavailable"
        assert answer.headers["retry-after"] == "1"
        assert calls(emulator) == 0


@pytest.fixture
def served_gateway(emulator: EmulatorServer, tmp_path: Path) -> Iterator[ServedGateway]:
    with ServedGateway(emulator, GATEWAY_RESULTS_DIR=str(tmp_path / "results")) as gateway:
        yield gateway


def test_an_openai_sdk_retry_after_its_timeout_gets_the_first_attempts_images(
    emulator: EmulatorServer, served_gateway: ServedGateway
) -> None:
    """The first attempt times out at the client while Bedrock is held; the SDK retries with the
    same key; Bedrock is let go only once the retry is on its way. One call, one set of images."""
    attempts: list[httpx2.Request] = []
    retrying = threading.Event()

    def count(request: httpx2.Request) -> None:
        attempts.append(request)
        if len(attempts) == 2:
            retrying.set()

    emulator.hold()
    # The SDK's own HTTP stack, counting the attempts it sends.
    http = httpx2.Client(event_hooks={"request": [count]})
    client = openai.OpenAI(
        base_url=f"{served_gateway.url}/openai/v1",
        api_key="x",
        http_client=http,
        timeout=1.0,
        max_retries=1,
    )
    answer: list[Any] = []
    caller = threading.Thread(
        target=lambda: answer.append(
            client.images.generate(
                model="titan",
                prompt="a red kite",
                size="512x512",
                response_format="b64_json",
                extra_headers={"Idempotency-Key": KEY},
            )
        )
    )
    caller.start()
    assert retrying.wait(timeout=60)
    emulator.release()
    caller.join(timeout=60)
    http.close()
    assert len(attempts) == 2
    assert [a.headers["idempotency-key"] for a in attempts] == [KEY, KEY]
    assert calls(emulator) == 1
    images = answer[0].data
    assert len(images) == 1
    # A third request with the key is a replay: the same image the retry got.
    sent = attempts[0]
    replay = httpx.post(
        f"{served_gateway.url}/openai/v1/images/generations",
        content=sent.content,
        headers={
            "Idempotency-Key": KEY,
            "Content-Type": sent.headers["content-type"],
            "Accept": sent.headers["accept"],
        },
        timeout=30,
    )
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["data"][0]["b64_json"] == images[0].b64_json
    assert base64.b64decode(images[0].b64_json)[:8] == b"\x89PNG\r\n\x1a\n"
    assert calls(emulator) == 1
