"""max_body_bytes_in_flight: uploads wait, unread, while the bodies admitted weigh the budget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from app.middleware.capacity import ByteBudget, CapacityLimit
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


async def test_a_body_larger_than_the_budget_waits_until_nothing_is_held() -> None:
    budget = ByteBudget(100)
    assert await budget.acquire("small", 10, 1)
    large = asyncio.create_task(budget.acquire("large", 150, 10))
    await asyncio.sleep(0)
    assert (budget.used, budget.waiting) == (10, 1)
    budget.release("small")
    assert await large
    assert (budget.used, budget.holders) == (150, 1)


async def test_bytes_given_back_let_the_next_waiter_in() -> None:
    budget = ByteBudget(100)
    assert await budget.acquire("promised", 90, 1)
    waiter = asyncio.create_task(budget.acquire("next", 50, 10))
    await asyncio.sleep(0)
    assert not waiter.done()
    budget.give_back("promised", 80)  # 10 arrived; the rest was never sent
    assert await waiter
    assert (budget.used, budget.holders) == (60, 2)
    budget.give_back("promised", 80)  # it holds only 10 now: those are what it gives back
    assert budget.used == 50


# --- uploads in the capacity middleware -----------------------------------------------------------


class Uploads:
    """CapacityLimit around an app that reads its body and answers 200; each upload is fed by
    hand, a chunk at a time, through its own queue of messages."""

    def __init__(self, body_bytes: int, read_timeout_s: float = 30) -> None:
        self.read: dict[str, asyncio.Event] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.limit = CapacityLimit(
            self.app, limit=16, body_bytes=body_bytes, wait_s=30, read_timeout_s=read_timeout_s
        )

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body", False):
            pass
        self.read[scope["path"]].set()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def start(self, name: str, length: int | None) -> asyncio.Queue[Message]:
        """An upload to /`name` announcing `length` (chunked when None); put its chunks in the
        queue returned."""
        chunks: asyncio.Queue[Message] = asyncio.Queue()
        headers = [] if length is None else [(b"content-length", str(length).encode())]
        scope = {"type": "http", "method": "POST", "path": name, "headers": headers}
        self.read[name] = asyncio.Event()

        async def send(message: Message) -> None:
            pass

        task = asyncio.create_task(self.limit(scope, chunks.get, send))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return chunks

    async def done(self, name: str) -> None:
        async with asyncio.timeout(10):
            await self.read[name].wait()


def chunk(size: int, *, last: bool = False) -> Message:
    return {"type": "http.request", "body": b"x" * size, "more_body": not last}


async def settled(condition: Callable[[], bool]) -> None:
    """Yield to the loop until `condition` holds: each step of these uploads is a callback away."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the uploads never reached the state expected")


async def test_an_announced_body_is_admitted_whole_so_uploads_in_a_burst_do_not_stall() -> None:
    # Room for two bodies of 40, not three. Charged a chunk at a time, three uploads that each
    # sent their first 30 would hold 90 and all wait for more, and only one could be let over
    # the budget; admitted whole, two go on and the third waits for room.
    uploads = Uploads(body_bytes=100)
    budget = uploads.limit.budget
    assert budget is not None
    queues = {name: uploads.start(name, 40) for name in ("a", "b", "c")}
    for queue in queues.values():
        queue.put_nowait(chunk(30))
    await settled(lambda: budget.waiting == 1)
    assert (budget.used, budget.holders) == (80, 2)
    # The two admitted finish without waiting again; the third is let in as the first ends.
    queues["a"].put_nowait(chunk(10, last=True))
    await uploads.done("a")
    queues["b"].put_nowait(chunk(10, last=True))
    await uploads.done("b")
    queues["c"].put_nowait(chunk(10, last=True))
    await uploads.done("c")
    assert (budget.used, budget.holders, budget.waiting) == (0, 0, 0)


async def test_an_upload_that_falls_behind_its_pace_gives_back_what_it_has_not_sent() -> None:
    # A client announces 1,000 bytes and sends 10: at the pace that would bring the whole body
    # within the 1 s read deadline, those 10 are due within 10 ms. Past that, it holds its 10.
    uploads = Uploads(body_bytes=1000, read_timeout_s=1)
    slow = uploads.start("slow", 1000)
    slow.put_nowait(chunk(10))
    other = uploads.start("other", 500)
    other.put_nowait(chunk(500, last=True))
    await uploads.done("other")  # let in once the slow one's promise lapsed
    budget = uploads.limit.budget
    assert budget is not None
    assert (budget.used, budget.holders) == (10, 1)
    # Its later chunks are charged as they arrive; it still completes.
    slow.put_nowait(chunk(990, last=True))
    await uploads.done("slow")
    assert budget.used == 0


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
