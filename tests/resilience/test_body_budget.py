"""max_body_bytes_in_flight: uploads wait, unread, while the bodies admitted weigh the budget."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.middleware.capacity import ByteBudget
from emulator.testing import EmulatorServer
from tests.support.files import DATA
from tests.support.gateway import settings_for
from tests.support.live import GatewayServer

COFFEE = (DATA / "coffee.png").read_bytes()
MASK = (DATA / "coffee-mask-black-edit.png").read_bytes()
INPAINT = "/v1/images/inpaint"


def upload(url: str) -> httpx.Response:
    return httpx.post(
        f"{url}{INPAINT}",
        files={"image": ("coffee.png", COFFEE), "mask": ("mask.png", MASK)},
        data={"prompt": "latte art"},
        timeout=60,
    )


# --- the budget ---------------------------------------------------------------------------------


async def test_waiters_are_served_in_order_as_bytes_come_back() -> None:
    budget = ByteBudget(100)
    assert await budget.acquire("first", 60, 1)
    order: list[str] = []

    async def take(name: str, weight: int) -> None:
        assert await budget.acquire(name, weight, 10)
        order.append(name)

    # 30 would fit beside the 60, but the 50 came first: no one jumps the line.
    big = asyncio.create_task(take("fifty", 50))
    await asyncio.sleep(0)
    small = asyncio.create_task(take("thirty", 30))
    await asyncio.sleep(0)
    assert (budget.used, budget.waiting, order) == (60, 2, [])
    budget.release("first")
    await asyncio.gather(big, small)
    assert (budget.used, budget.waiting, order) == (80, 0, ["fifty", "thirty"])


async def test_a_wait_that_runs_out_leaves_the_line() -> None:
    budget = ByteBudget(100)
    assert await budget.acquire("first", 100, 1)
    assert not await budget.acquire("second", 1, 0.01)
    assert (budget.used, budget.waiting, budget.holders) == (100, 0, 1)
    budget.release("first")
    budget.release("second")  # it holds nothing: nothing changes
    assert (budget.used, budget.holders) == (0, 0)


async def test_a_cancelled_waiter_lets_the_next_one_in() -> None:
    budget = ByteBudget(100)
    assert await budget.acquire("first", 50, 1)
    blocked = asyncio.create_task(budget.acquire("blocked", 80, 10))
    await asyncio.sleep(0)
    behind = asyncio.create_task(budget.acquire("behind", 40, 10))
    await asyncio.sleep(0)
    blocked.cancel()
    # The 80 at the head held back the 40, which fits once it is gone.
    assert await behind
    assert (budget.used, budget.waiting) == (90, 0)
    with pytest.raises(asyncio.CancelledError):
        await blocked


async def test_when_every_holder_waits_one_goes_over_the_budget_alone() -> None:
    budget = ByteBudget(100)
    # Two uploads took their first chunks; each now wants more than is left.
    assert await budget.acquire("a", 50, 1)
    assert await budget.acquire("b", 40, 1)
    first = asyncio.create_task(budget.acquire("a", 30, 10))
    await asyncio.sleep(0)
    assert not first.done()  # "b" may still give bytes back
    second = asyncio.create_task(budget.acquire("b", 30, 10))
    # Now neither can go on: the first in line is let over the budget, the other waits.
    assert await first
    assert (budget.used, budget.waiting) == (120, 1)
    # "a" wants more while "b" still waits: "a" is the one let over, again, not "b".
    assert await budget.acquire("a", 30, 10)
    assert (budget.used, budget.waiting) == (150, 1)
    budget.release("a")  # the first request ends
    assert await second
    assert (budget.used, budget.holders) == (70, 1)


async def test_a_lone_body_larger_than_the_budget_goes_through() -> None:
    budget = ByteBudget(100)
    assert await budget.acquire("upload", 100, 1)
    assert await budget.acquire("upload", 60, 1)
    assert (budget.used, budget.holders) == (160, 1)


# --- in the gateway -------------------------------------------------------------------------------


def test_uploads_over_the_budget_wait_their_turn(emulator: EmulatorServer) -> None:
    # Room for one upload's body, not two.
    budget = len(COFFEE) + len(MASK) + 4096
    emulator.hold()
    with (
        GatewayServer(settings_for(emulator, max_body_bytes_in_flight=budget)) as gateway,
        ThreadPoolExecutor(3) as pool,
    ):
        first = pool.submit(upload, gateway.url)
        emulator.wait_for(in_flight=1)
        waiting = [pool.submit(upload, gateway.url) for _ in range(2)]
        emulator.release()
        for future in [first, *waiting]:
            answer = future.result()
            assert answer.status_code == 200, answer.text
    stats = emulator.stats()
    assert (stats["total"], stats["max_in_flight"]) == (3, 1)


def test_a_wait_past_the_queue_timeout_is_gateway_busy(emulator: EmulatorServer) -> None:
    budget = len(COFFEE) + len(MASK) + 4096
    emulator.hold()
    settings = settings_for(emulator, max_body_bytes_in_flight=budget, queue_timeout_s=0.2)
    with GatewayServer(settings) as gateway, ThreadPoolExecutor(2) as pool:
        first = pool.submit(upload, gateway.url)
        emulator.wait_for(in_flight=1)
        refused = upload(gateway.url)
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1"
        problem = refused.json()
        assert problem["type"] == "/problems/gateway-busy"
        assert problem["detail"] == (
            f"the gateway held its limit of {budget / 1024:.1f} KiB ({budget} bytes) of request "
            "bodies for 0.2 s while "
            "this one waited; retry after a moment"
        )
        # A request without a body to speak of fits beside the held upload.
        small = pool.submit(
            httpx.post,
            f"{gateway.url}/v1/images/text-to-image",
            json={"prompt": "a kite"},
            timeout=30,
        )
        emulator.wait_for(in_flight=2)
        emulator.release()
        assert first.result().status_code == 200
        assert small.result().status_code == 200
    assert emulator.stats()["total"] == 2
