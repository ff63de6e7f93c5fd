"""Spend (issue 21): prices, the cost of every answer, budgets in dollars held in the quota backend,
and GET /v1/usage, on real Redis, the emulator and `python -m app` processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import boto3
import httpx
import openai
import pytest
import redis as redis_sync
from botocore.config import Config
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from app.auth.keygen import hash_key
from app.auth.keys import ApiKey, Budget
from app.problems import ProblemError
from app.schemas.images import FinishReason, GeneratedImage
from app.schemas.requests import Task
from app.spend.budgets import Spend
from app.spend.ledger import Ledger, MemoryLedger
from app.spend.prices import PriceTable
from app.spend.redis_ledger import RedisLedger
from emulator.testing import EmulatorServer
from tests.support.files import ROOT
from tests.support.jobs import WorkerProcess, jobs_gateway
from tests.support.redis_server import RedisServer
from tests.support.served import ServedGateway, free_port

T2I = "/v1/images/text-to-image"
ULTRA = "stability.stable-image-ultra-v1:1"
ULTRA_BODY = {"model": "ultra", "prompt": "a lighthouse at dusk"}
TITAN = "amazon.titan-image-generator-v1"


def _key(name: str, **budget: float) -> dict[str, Any]:
    """A GATEWAY_API_KEYS entry whose key is its own name."""
    entry: dict[str, Any] = {"name": name, "hash": hash_key(name)}
    if budget:
        entry["budget"] = budget
    return entry


KEYS = [
    *(_key(f"daily-{i}", usd_per_day=1.0) for i in range(3)),
    _key("fails", usd_per_day=0.14),
    _key("partial", usd_per_day=0.42),
    _key("mixed"),
    _key("other"),
    {**_key("admin"), "admin": True},
]


def headers(key: str) -> dict[str, str]:
    """The API key header."""
    return {"X-API-Key": key}


@pytest.fixture(scope="module")
def replicas(emulator_server: EmulatorServer, redis_server: RedisServer) -> Iterator[list[str]]:
    """Two `python -m app` processes spending from one Redis, on the tests' emulator."""
    env = {
        "GATEWAY_QUOTA_BACKEND": "redis",
        "GATEWAY_REDIS_URL": redis_server.url,
        "GATEWAY_API_KEYS": json.dumps(KEYS),
    }
    with ServedGateway(emulator_server, **env) as one, ServedGateway(emulator_server, **env) as two:
        yield [one.url, two.url]


def usage(url: str, caller: str, **params: str) -> dict[str, Any]:
    """GET /v1/usage as the key `caller`."""
    response = httpx.get(f"{url}/v1/usage", params=params, headers=headers(caller), timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_two_processes_serve_exactly_what_a_daily_budget_pays_for(
    replicas: list[str], redis: RedisServer, emulator: EmulatorServer
) -> None:
    counters = redis_sync.Redis.from_url(redis.url)
    try:
        # Twelve Ultra images at $0.14 at once, six to each process, on a $1.00 daily budget.
        # Should the burst straddle UTC midnight (two day windows), the next key repeats it.
        for key in ("daily-0", "daily-1", "daily-2"):
            emulator.reset()
            async with httpx.AsyncClient(timeout=60) as client:
                responses = await asyncio.gather(
                    *(
                        client.post(f"{url}{T2I}", json=ULTRA_BODY, headers=headers(key))
                        for url in replicas * 6
                    )
                )
            if len(cast(list[bytes], counters.keys(f"gateway:spend:budget:{key}:day:*"))) == 1:
                break
    finally:
        counters.close()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 7 + [402] * 5
    assert len(emulator.requests()) == 7  # Bedrock saw the seven paid for, nothing else
    served = [r for r in responses if r.status_code == 200]
    assert {r.headers["Cost-USD"] for r in served} == {"0.14"}
    assert all(r.json()["usage"] == {"images": 1, "cost_usd": 0.14} for r in served)
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for refusal in (r for r in responses if r.status_code == 402):
        problem = refusal.json()
        assert refusal.headers["content-type"] == "application/problem+json"
        assert problem["type"] == "/problems/budget-exceeded"
        assert problem["window"] == "day"
        assert problem["limit_usd"] == 1.0
        assert problem["remaining_usd"] == 0.02
        assert problem["requested_usd"] == 0.14
        resets = datetime.fromisoformat(problem["resets_at"].replace("Z", "+00:00"))
        assert resets in (midnight + timedelta(days=1), midnight + timedelta(days=2))
        assert problem["detail"].startswith(
            f"the API key '{key}' has $0.02 left of its $1.00 daily budget and this request "
            "needs $0.14; it resets at "
        )
    report = usage(replicas[1], key)
    assert report["cost_usd"] == pytest.approx(0.98)
    assert report["images"] == 7
    assert [(row["model"], row["task"], row["images"]) for row in report["usage"]] == [
        (ULTRA, "text-to-image", 7)
    ]


def test_no_sdk_retries_a_spent_budget(replicas: list[str], emulator: EmulatorServer) -> None:
    """402 on the native and OpenAI surfaces, Bedrock's ServiceQuotaExceededException (400) on
    the Bedrock one: neither SDK tries again, whatever its retry settings."""
    key = "fails"
    ok = httpx.post(f"{replicas[0]}{T2I}", json=ULTRA_BODY, headers=headers(key), timeout=60)
    assert ok.status_code == 200
    emulator.reset()
    sdk = openai.OpenAI(base_url=f"{replicas[0]}/openai/v1", api_key=key, max_retries=3)
    with sdk, pytest.raises(openai.APIStatusError) as caught:
        sdk.images.generate(prompt="a fox", model="ultra", size="1024x1024")
    assert caught.value.status_code == 402
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert "has $0.00 left of its $0.14 daily budget" in caught.value.message
    runtime = boto3.client(
        "bedrock-runtime",
        endpoint_url=replicas[1],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 4}),
    )
    runtime.meta.events.register("before-send.*", _bearer(key))
    body = json.dumps({"prompt": "a fox"})
    with pytest.raises(ClientError) as refused:
        runtime.invoke_model(body=body, modelId=f"us.{ULTRA}", contentType="application/json")
    error = refused.value.response
    assert error["Error"]["Code"] == "ServiceQuotaExceededException"
    assert error["ResponseMetadata"]["RetryAttempts"] == 0
    assert emulator.requests() == []


def _bearer(key: str) -> Any:
    """A botocore hook sending `key` as the bearer token (as AWS_BEARER_TOKEN_BEDROCK does)."""

    def add(request: Any, **_: Any) -> None:
        request.headers["Authorization"] = f"Bearer {key}"

    return add


async def test_a_failed_call_and_a_filtered_image_cost_nothing(
    replicas: list[str], emulator: EmulatorServer
) -> None:
    # A $0.42 daily budget: three Ultra images. One call fails (not retried: a bad body to
    # Bedrock), so the whole request is refused and nothing is charged.
    emulator.set_faults(schedule=[{"fault": "ValidationException", "times": 1}])
    async with httpx.AsyncClient(timeout=60, headers=headers("partial")) as client:
        failed = await client.post(f"{replicas[0]}{T2I}", json=ULTRA_BODY)
        assert failed.status_code == 400
        assert failed.headers["Cost-USD"] == "0"
        # Three images, one filtered by the content filter: two are charged.
        emulator.set_faults(schedule=[{"fault": "ContentFiltered", "times": 1}])
        partial = await client.post(f"{replicas[1]}{T2I}", json={**ULTRA_BODY, "n": 3})
        assert partial.status_code == 200
        reasons = sorted(i["finish_reason"] for i in partial.json()["images"])
        assert reasons == ["content_filtered", "success", "success"]
        assert partial.json()["usage"] == {"images": 2, "cost_usd": 0.28}
        assert partial.headers["Cost-USD"] == "0.28"
        # What was held for the filtered image came back: one more image fits, then none.
        assert (await client.post(f"{replicas[0]}{T2I}", json=ULTRA_BODY)).status_code == 200
        spent = await client.post(f"{replicas[1]}{T2I}", json=ULTRA_BODY)
    assert spent.status_code == 402
    assert spent.json()["remaining_usd"] == 0.0
    assert len(emulator.requests()) == 1 + 3 + 1
    assert usage(replicas[0], "partial")["cost_usd"] == pytest.approx(0.42)


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_windows_roll_over_on_the_clock(store: str, redis: RedisServer) -> None:
    """Day and month windows start over at UTC midnight and on the first of the month; the total
    never does (a fake clock, no waiting)."""
    now = [datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()]
    ledger: Ledger = MemoryLedger() if store == "memory" else RedisLedger.from_url(redis.url)
    spend = Spend(PriceTable(), ledger, clock=lambda: now[0])
    key = ApiKey(
        name="clocked",
        hash=hash_key("clocked"),
        budget=Budget(usd_per_day=0.14, usd_per_month=0.28, usd_total=0.42),
    )
    quote = spend.quote(ULTRA, Task.TEXT_TO_IMAGE, {})

    async def buy() -> str:
        try:
            charge = await spend.hold(key, ULTRA, "text-to-image", quote, 1)
        except ProblemError as problem:
            return f"{problem.status} {problem.extra['window']}"
        await charge.settle(quote.cost([_success()]))
        return "ok"

    try:
        assert await buy() == "ok"
        assert await buy() == "402 day"  # $0.14 a day
        now[0] += 1  # 2027-01-01T00:00:00Z: a new day and a new month
        assert await buy() == "ok"
        now[0] += 86_400
        assert await buy() == "ok"
        now[0] += 86_400
        assert await buy() == "402 month"  # $0.28 a month
        now[0] += 31 * 86_400  # February
        assert await buy() == "402 total"  # $0.42 in all
        rows = await spend.usage([f"2027-01-0{d}" for d in (1, 2)] + ["2026-12-31"], "clocked")
        assert sorted((r.day, r.micros, r.images) for r in rows) == [
            ("2026-12-31", 140_000, 1),
            ("2027-01-01", 140_000, 1),
            ("2027-01-02", 140_000, 1),
        ]
    finally:
        await spend.close()


def _success() -> GeneratedImage:
    return GeneratedImage(b64=None, seed=1, finish_reason=FinishReason.SUCCESS)


def test_a_mixed_run_is_what_usage_reports(replicas: list[str], emulator: EmulatorServer) -> None:
    """Native JSON and binary answers, the OpenAI SDK, boto3 on the Bedrock surface, a model
    priced per token: GET /v1/usage (from the other process) sums what the answers said."""
    url = replicas[0]
    costs: list[float] = []
    images = 0
    with httpx.Client(base_url=url, headers=headers("mixed"), timeout=60) as client:
        for body, accept in (
            ({**ULTRA_BODY, "n": 2}, "application/json"),
            ({"model": "core", "prompt": "a kite"}, "image/png"),
            ({"model": "titan", "prompt": "a kite", "quality": "premium"}, "application/json"),
            ({"model": "nova-2-omni", "prompt": "a red kite"}, "application/json"),
        ):
            answer = client.post(T2I, json=body, headers={"Accept": accept})
            assert answer.status_code == 200, answer.text
            costs.append(float(answer.headers["Cost-USD"]))
            images += int(str(body.get("n", 1)))
            if accept == "application/json":
                assert answer.json()["usage"]["cost_usd"] == costs[-1]
    # Ultra $0.14 x 2, Core $0.04, Titan G1 premium at its default 1024x1024 $0.012.
    assert costs[:3] == [0.28, 0.04, 0.012]
    assert costs[3] > 0  # Nova 2 Omni: by the tokens the call reported
    sdk = openai.OpenAI(base_url=f"{url}/openai/v1", api_key="mixed", max_retries=0)
    with sdk:
        raw = sdk.images.with_raw_response.generate(prompt="a fox", model="ultra", n=2)
        costs.append(float(raw.headers["Cost-USD"]))
        # A transparent background: the image, then its background removed (a second model).
        clear = sdk.images.with_raw_response.generate(
            prompt="a fox", model="ultra", background="transparent"
        )
        costs.append(float(clear.headers["Cost-USD"]))
    images += 2 + 2
    runtime = boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    runtime.meta.events.register("before-send.*", _bearer("mixed"))
    config = {"numberOfImages": 2, "width": 512, "height": 512}
    titan = json.dumps(
        {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a kite"},
            "imageGenerationConfig": config,
        }
    )
    passed = runtime.invoke_model(body=titan, modelId=TITAN, contentType="application/json")
    assert len(json.loads(passed["body"].read())["images"]) == 2
    costs.append(float(passed["ResponseMetadata"]["HTTPHeaders"]["cost-usd"]))
    images += 2
    # Ultra $0.14 x 2; Ultra and Remove Background $0.07; Titan G1 512x512 x 2.
    assert costs[4:] == [0.28, 0.21, 0.016]
    report = usage(replicas[1], "mixed")
    assert report["cost_usd"] == pytest.approx(sum(costs))
    assert report["images"] == images
    assert report["requests"] == 8
    assert {row["task"] for row in report["usage"]} == {"text-to-image", "remove-background"}
    models = [row["model"] for row in report["usage"]]
    spent = sum(_metric(url, "gateway_spend_usd_total", key="mixed", model=m) for m in models)
    assert spent == pytest.approx(sum(costs))
    # An admin key reads every key's usage, or one key's; other keys only their own.
    core = {"model": "core", "prompt": "a kite"}
    assert httpx.post(f"{url}{T2I}", json=core, headers=headers("other")).status_code == 200
    everyone = usage(replicas[1], "admin")
    assert everyone["key"] is None
    assert {row["key"] for row in everyone["usage"]} == {"mixed", "other"}
    assert everyone["cost_usd"] == pytest.approx(sum(costs) + 0.04)
    assert usage(replicas[1], "admin", key="mixed") == report
    other = httpx.get(f"{url}/v1/usage", params={"key": "mixed"}, headers=headers("other"))
    assert other.status_code == 403
    assert other.json()["detail"] == (
        "the API key 'other' may not use the usage of another key (only admin keys may)"
    )
    own = usage(url, "other")
    assert (own["key"], own["cost_usd"], own["images"]) == ("other", 0.04, 1)


def _metric(url: str, name: str, **labels: str) -> float:
    """One sample of the process's /metrics (0 when absent)."""
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"GATEWAY_PRICES": '{"ultra": {"image": -1}}'},
            "gateway: refusing to start: GATEWAY_PRICES['ultra'] is not a valid price: image: "
            "Input should be greater than or equal to 0",
        ),
        (
            {"GATEWAY_PRICES": '{"titan-v9": {"image": 0.01}}'},
            "gateway: refusing to start: GATEWAY_PRICES['titan-v9']: no model is named 'titan-v9'",
        ),
        (
            {"GATEWAY_PRICES": '{"nova-2-omni": {"output_tokens": 40}}'},
            "gateway: refusing to start: GATEWAY_PRICES['nova-2-omni'] is not a valid price: "
            "entry: Value error, a token price needs `reserve`, the USD held per image before a "
            "call",
        ),
        (
            {"GATEWAY_DEFAULT_BUDGET": '{"usd_per_week": 5}'},
            "gateway: refusing to start: GATEWAY_DEFAULT_BUDGET is not a valid budget: "
            "usd_per_week: Extra inputs are not permitted",
        ),
        (
            {"GATEWAY_API_KEYS": json.dumps([{**_key("k"), "budget": {"usd_per_day": "lots"}}])},
            "gateway: refusing to start: GATEWAY_API_KEYS[0] ('k') is not a valid API key: "
            "budget.usd_per_day: Input should be a valid number, unable to parse string as a "
            "number",
        ),
        (
            {"GATEWAY_REQUIRE_PRICES": "true"},
            "gateway: refusing to start: GATEWAY_REQUIRE_PRICES: no price for "
            "stability.stable-outpaint-v1:0, stability.stable-image-search-recolor-v1:0, "
            "stability.stable-image-erase-object-v1:0, "
            "stability.stable-image-control-structure-v1:0, "
            "stability.stable-image-style-guide-v1:0; give them in GATEWAY_PRICES",
        ),
    ],
)
def test_a_bad_spend_setting_stops_the_start_in_one_line(env: dict[str, str], line: str) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))}
    environment.update(PORT=str(free_port()), EMULATOR_PORT=str(free_port()), **env)
    done = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 78
    assert done.stderr.splitlines() == [line]


def test_required_prices_given_in_settings_let_it_start(emulator_server: EmulatorServer) -> None:
    # The five served models AWS's list had no price for: the operator's own estimates.
    prices = {
        "stability-outpaint": {"image": 0.07, "estimate": True},
        "erase": {"image": 0.07, "estimate": True},
        "search-recolor": {"image": 0.07, "estimate": True},
        "control-structure": {"image": 0.07, "estimate": True},
        "style-guide": {"image": 0.08, "estimate": True},
    }
    env = {"GATEWAY_REQUIRE_PRICES": "true", "GATEWAY_PRICES": json.dumps(prices)}
    with ServedGateway(emulator_server, **env) as served:
        listing = httpx.get(f"{served.url}/v1/models/search-recolor").json()
        # A retired model is not served (a successor, priced, serves its requests when mapped).
        unknown = httpx.get(f"{served.url}/v1/models/sd3-large").json()
    assert listing["price"] == {"image": 0.07, "estimate": True}
    assert listing["price_known"] is True
    assert unknown["price"] is None
    assert unknown["price_known"] is False


async def test_jobs_spend_from_the_budget_as_they_run(
    emulator: EmulatorServer, redis: RedisServer, tmp_path: Path
) -> None:
    """A `python -m app.worker` process and the gateway spend one $0.14 daily budget in Redis:
    the job that runs first takes it, then the gateway and the next job are refused."""
    results = tmp_path / "results"
    keys = [_key("jobs", usd_per_day=0.14)]
    shared = {"quota_backend": "redis", "redis_url": redis.url, "api_keys": keys}
    worker = WorkerProcess(
        emulator,
        redis,
        results,
        GATEWAY_QUOTA_BACKEND="redis",
        GATEWAY_REDIS_URL=redis.url,
        GATEWAY_API_KEYS=json.dumps(keys),
    )
    try:
        async with jobs_gateway(
            emulator, redis, results, jobs_worker_in_process=False, **shared
        ) as gateway:
            gateway.headers.update(headers("jobs"))
            first = (await gateway.post("/v1/jobs/text-to-image", json=ULTRA_BODY)).json()
            done = await gateway.get(f"/v1/jobs/{first['id']}", params={"wait": 60})
            assert done.json()["status"] == "succeeded"
            refused = await gateway.post(T2I, json=ULTRA_BODY)
            second = (await gateway.post("/v1/jobs/text-to-image", json=ULTRA_BODY)).json()
            failed = (await gateway.get(f"/v1/jobs/{second['id']}", params={"wait": 60})).json()
            report = (await gateway.get("/v1/usage")).json()
    finally:
        worker.stop()
    assert refused.status_code == 402
    assert refused.json()["remaining_usd"] == 0.0
    assert failed["status"] == "failed"
    assert failed["error"]["type"] == "/problems/budget-exceeded"
    assert len(emulator.requests()) == 1
    assert (report["cost_usd"], report["images"], report["requests"]) == (0.14, 1, 1)


async def test_memory_forgets_what_no_charge_can_reach() -> None:
    """The memory ledger keeps usage 400 days and windows while a charge may still settle in
    them, so a process that runs for years holds a bounded amount."""
    ledger = MemoryLedger()
    now = [datetime(2026, 1, 1, 12, tzinfo=UTC).timestamp()]
    spend = Spend(PriceTable(), ledger, clock=lambda: now[0])
    key = ApiKey(name="long", hash=hash_key("long"), budget=Budget(usd_per_day=0.14))
    quote = spend.quote(ULTRA, Task.TEXT_TO_IMAGE, {})
    days = []
    for _ in range(3):  # 201 days apart: the third is more than 400 days after the first
        days.append(datetime.fromtimestamp(now[0], UTC).date().isoformat())
        charge = await spend.hold(key, ULTRA, "text-to-image", quote, 1)
        await charge.settle(quote.cost([_success()]))
        now[0] += 201 * 86_400
    assert [r.day for r in await spend.usage(days, "long")] == days[1:]
    # The windows a charge can still reach: the last one's day and month, and the total.
    last = days[-1]
    assert sorted(w for _, w in ledger._spent) == [f"day:{last}", f"month:{last[:7]}", "total"]


def test_a_frozen_redis_holds_no_answer_and_its_outage_is_logged_once(
    emulator: EmulatorServer,
) -> None:
    """Redis frozen while the calls run: the answer goes out (its cost unrecorded); requests of
    a key with a budget meanwhile get 503 spend-unavailable; the outage is logged once."""
    with RedisServer() as own:
        env = {
            "GATEWAY_QUOTA_BACKEND": "redis",
            "GATEWAY_REDIS_URL": own.url,
            "GATEWAY_REDIS_TIMEOUT_S": "0.5",
            "GATEWAY_API_KEYS": json.dumps([_key("frozen", usd_per_day=5.0)]),
        }
        with ServedGateway(emulator, **env) as gateway:
            client = httpx.Client(base_url=gateway.url, headers=headers("frozen"), timeout=30)
            with client, ThreadPoolExecutor(1) as pool:
                emulator.hold()
                pending = pool.submit(client.post, T2I, json=ULTRA_BODY)
                emulator.wait_for(in_flight=1)  # its price is held in Redis
                own.freeze()
                try:
                    emulator.release()
                    answer = pending.result()
                    refused = [client.post(T2I, json=ULTRA_BODY) for _ in range(3)]
                finally:
                    own.thaw()
                back = client.post(T2I, json=ULTRA_BODY)
                gateway.wait_for_text("the spend store is reachable again")
            lines = [r for r in gateway.records() if r["logger"] == "app.spend"]
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cost-USD"] == "0.14"
    assert [r.json()["type"] for r in refused] == ["/problems/spend-unavailable"] * 3
    assert back.status_code == 200, back.text
    assert [r["level"] for r in lines] == ["error", "warning"]
    assert lines[0]["message"].startswith("the spend store cannot be reached")
    assert "(4 calls failed)" in lines[1]["message"]
