"""Webhooks (issue 20): signed per Standard Webhooks, retried until the receiver takes them, one
webhook-id for every attempt; URLs that resolve to private addresses refused at submission."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import orjson
import pytest
import redis as redis_sync
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from emulator.testing import EmulatorServer
from tests.support.jobs import jobs_gateway
from tests.support.redis_server import RedisServer
from tests.support.webhook_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"a secret of thirty-two bytes....").decode()
BODY = {"prompt": "a red kite", "width": 512, "height": 512}
HOOKS = {"webhook_secret": SECRET, "webhook_retry_base_s": 0.1}


async def test_a_webhook_is_signed_retried_and_sent_once_per_id(
    emulator: EmulatorServer, redis: RedisServer, tmp_path: Path
) -> None:
    with Receiver(failures=2) as receiver:
        options = {**HOOKS, "webhook_allow": ["127.0.0.0/8"]}
        async with jobs_gateway(emulator, redis, tmp_path, **options) as gateway:
            submitted = await gateway.post(
                "/v1/jobs/text-to-image", json=BODY, params={"webhook_url": receiver.url}
            )
            assert submitted.status_code == 202
            job = submitted.json()
            received = await asyncio.to_thread(receiver.wait_for, 3)
            metrics = (await gateway.get("/metrics")).text
    ids = {headers["webhook-id"] for headers, _ in received}
    assert ids == {f"{job['id']}.succeeded"}
    for headers, body in received:
        payload = Webhook(SECRET).verify(body, headers)
        assert payload["type"] == "job.succeeded"
        assert payload["data"]["id"] == job["id"]
        assert payload["data"]["model"] == "amazon.titan-image-generator-v1"
        assert payload["data"]["images"][0]["url"].startswith("http://gateway/v1/files/")
    headers, body = received[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"succeeded", b"failed"), headers)
    # Each failure is counted before its retry is queued, so before the next attempt arrives.
    assert 'gateway_webhook_deliveries_total{outcome="failed"} 2.0' in metrics


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/hook", "resolves to 127.0.0.1"),
        ("http://localhost:9/hook", "a loopback, link-local, private or reserved address"),
        ("http://169.254.169.254/latest/meta-data/", "resolves to 169.254.169.254"),
        ("http://10.1.2.3/hook", "resolves to 10.1.2.3"),
        ("http://[::1]/hook", "resolves to ::1"),
        ("http://[fd00:ec2::254]/hook", "resolves to fd00:ec2::254"),
        ("ftp://example.com/hook", "must be an http or https URL"),
        ("http://no-such-host.invalid/hook", "does not resolve"),
    ],
)
async def test_a_webhook_url_the_gateway_must_not_call_is_422(
    emulator: EmulatorServer, redis: RedisServer, tmp_path: Path, url: str, reason: str
) -> None:
    async with jobs_gateway(emulator, redis, tmp_path, **HOOKS) as gateway:
        answer = await gateway.post(
            "/v1/jobs/text-to-image", json=BODY, params={"webhook_url": url}
        )
    assert answer.status_code == 422
    problem = orjson.loads(answer.content)
    assert problem["errors"][0]["field"] == "webhook_url"
    assert reason in problem["errors"][0]["message"]
    assert redis_sync.Redis.from_url(redis.url).keys("gateway:job:*") == []


async def test_a_webhook_needs_a_signing_secret(
    emulator: EmulatorServer, redis: RedisServer, tmp_path: Path
) -> None:
    async with jobs_gateway(emulator, redis, tmp_path) as gateway:
        answer = await gateway.post(
            "/v1/jobs/text-to-image", json=BODY, params={"webhook_url": "https://example.com/h"}
        )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["message"] == "webhooks are not configured"
