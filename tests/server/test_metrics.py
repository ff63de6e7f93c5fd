"""/metrics: the families Prometheus scrapes, with their labels and values after real traffic."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import open_gateway, settings_for
from tests.support.metrics import scrape, value

T2I = "/v1/images/text-to-image"
TITAN = "amazon.titan-image-generator-v1"
REQUEST = {"prompt": "a red barn", "width": 512, "height": 512, "seed": 7}


@pytest.fixture
async def gateway(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(emulator, retry_base_s=0, max_attempts=2, breaker_failure_threshold=1)
    async with open_gateway(settings) as client:
        yield client


async def test_requests_latency_images_and_bedrock_calls_after_traffic(
    gateway: httpx.AsyncClient,
) -> None:
    assert (await gateway.post(T2I, json={**REQUEST, "n": 2})).status_code == 200
    assert (await gateway.post(T2I, json={**REQUEST, "width": 3})).status_code == 422
    assert (await gateway.get("/v1/models")).status_code == 200
    assert (await gateway.get("/no/such/path/123")).status_code == 404
    s = await scrape(gateway)

    route = {"route": T2I, "method": "POST"}
    assert value(s, "gateway_requests_total", **route, status="200", key="anonymous") == 1
    assert value(s, "gateway_requests_total", **route, status="422", key="anonymous") == 1
    models = {"route": "/v1/models", "method": "GET", "status": "200", "key": "anonymous"}
    assert value(s, "gateway_requests_total", **models) == 1
    # Unmatched paths share one series: a scan of random paths cannot add series.
    unmatched = {"route": "unmatched", "method": "GET", "status": "404", "key": "anonymous"}
    assert value(s, "gateway_requests_total", **unmatched) == 1
    assert value(s, "gateway_request_duration_seconds_count", **route) == 2
    assert value(s, "gateway_request_duration_seconds_bucket", **route, le="+Inf") == 2
    # Titan makes both images in one call.
    call = {"model": TITAN, "outcome": "success"}
    assert value(s, "gateway_bedrock_call_duration_seconds_count", **call) == 1
    assert value(s, "gateway_bedrock_queue_wait_seconds_count", model=TITAN) == 1
    assert value(s, "gateway_bedrock_attempts_total", model=TITAN, region="us-east-1") == 1
    assert value(s, "gateway_images_generated_total", model=TITAN) == 2
    # The scrape itself is in flight while it is answered.
    assert value(s, "gateway_requests_in_flight") == 1
    assert value(s, "gateway_bedrock_calls_in_flight", model=TITAN) == 0
    assert value(s, "gateway_bedrock_calls_waiting", model=TITAN) == 0


async def test_a_retry_is_counted_by_cause_and_the_failed_call_by_outcome(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
    assert (await gateway.post(T2I, json=REQUEST)).status_code == 200
    s = await scrape(gateway)
    assert value(s, "gateway_bedrock_retries_total", model=TITAN, cause="ThrottlingException") == 1
    throttled = {"model": TITAN, "outcome": "ThrottlingException"}
    assert value(s, "gateway_bedrock_call_duration_seconds_count", **throttled) == 1
    success = {"model": TITAN, "outcome": "success"}
    assert value(s, "gateway_bedrock_call_duration_seconds_count", **success) == 1
    assert value(s, "gateway_bedrock_attempts_total", model=TITAN, region="us-east-1") == 2
    # Throttling is not an outage: the circuit stays closed.
    where = {"model": TITAN, "region": "us-east-1"}
    assert value(s, "gateway_circuit_state", **where, state="closed") == 1
    assert value(s, "gateway_circuit_state", **where, state="open") == 0


async def test_an_open_circuit_shows_in_its_state_transitions_and_refusals(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    emulator.set_faults(schedule=[{"fault": "InternalServerException", "times": 1}])
    failed = await gateway.post(T2I, json=REQUEST)
    assert (failed.status_code, failed.json()["upstream_error"]) == (
        503,
        "InternalServerException",
    )
    refused = await gateway.post(T2I, json=REQUEST)
    assert refused.status_code == 503
    assert refused.json()["type"] == "/problems/circuit-open"
    s = await scrape(gateway)
    where = {"model": TITAN, "region": "us-east-1"}
    assert value(s, "gateway_circuit_state", **where, state="open") == 1
    assert value(s, "gateway_circuit_state", **where, state="closed") == 0
    assert value(s, "gateway_circuit_state", **where, state="half_open") == 0
    assert value(s, "gateway_circuit_failures", **where) == 1
    assert value(s, "gateway_circuit_transitions_total", **where, state="open") == 1
    assert value(s, "gateway_bedrock_rejections_total", model=TITAN, reason="circuit-open") == 1
    outage = {"model": TITAN, "outcome": "InternalServerException"}
    assert value(s, "gateway_bedrock_call_duration_seconds_count", **outage) == 1
    status = {"route": T2I, "method": "POST", "key": "anonymous"}
    assert value(s, "gateway_requests_total", **status, status="503") == 2
    # No image came out: none is counted.
    assert value(s, "gateway_images_generated_total", model=TITAN) == 0


async def test_each_app_counts_only_its_own_traffic(emulator: EmulatorServer) -> None:
    async with open_gateway(settings_for(emulator)) as first:
        assert (await first.get("/v1/models")).status_code == 200
        async with open_gateway(settings_for(emulator)) as second:
            s = await scrape(second)
    labels = {"route": "/v1/models", "method": "GET", "status": "200", "key": "anonymous"}
    assert value(s, "gateway_requests_total", **labels) == 0


async def test_the_bedrock_surface_and_the_scrape_format(
    gateway: httpx.AsyncClient,
) -> None:
    body = {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a barn"},
        "imageGenerationConfig": {"width": 512, "height": 512, "seed": 1},
    }
    assert (await gateway.post(f"/model/{TITAN}/invoke", json=body)).status_code == 200
    response = await gateway.get("/metrics")
    s = await scrape(gateway)
    labels = {"route": "/model/{model_id:path}/invoke", "method": "POST", "status": "200"}
    assert value(s, "gateway_requests_total", **labels, key="anonymous") == 1
    assert (
        value(s, "gateway_bedrock_call_duration_seconds_count", model=TITAN, outcome="success") == 1
    )
    # Every family has its HELP and TYPE lines, as scrapers read them.
    for family in (
        "gateway_requests_total",
        "gateway_bedrock_retries_total",
        "gateway_circuit_state",
    ):
        assert re.search(rf"^# HELP {family} ", response.text, re.M)
        assert re.search(rf"^# TYPE {family} (counter|gauge)$", response.text, re.M)
