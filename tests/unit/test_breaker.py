"""The circuit breaker alone (app/bedrock/breaker.py): states, counts and cool-downs, with time
passed in as numbers, so nothing waits."""

from __future__ import annotations

from app.bedrock.breaker import CircuitBreaker, State

T0 = 1000.0


def state_of(breaker: CircuitBreaker) -> State:
    """The state now (a call, so mypy does not narrow it from an earlier assertion)."""
    return breaker.state


def opened(threshold: int = 3, cooldown_s: float = 30.0) -> tuple[CircuitBreaker, list[State]]:
    """A breaker opened by `threshold` outages at T0, and the states it moved through."""
    moves: list[State] = []
    breaker = CircuitBreaker(threshold, cooldown_s, on_change=moves.append)
    for i in range(threshold):
        breaker.failed(T0, body=bytes([i]))
    return breaker, moves


def test_a_new_circuit_is_closed_and_lets_calls_through() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown_s=30)
    assert state_of(breaker) is State.CLOSED
    assert breaker.failures == 0
    assert all(breaker.allow(T0) for _ in range(10))
    assert breaker.describe(T0) == {"state": "closed", "failures": 0, "retry_after_s": 0}


def test_it_opens_at_the_threshold_and_not_before() -> None:
    moves: list[State] = []
    breaker = CircuitBreaker(threshold=3, cooldown_s=30, on_change=moves.append)
    breaker.failed(T0)
    breaker.failed(T0)
    assert state_of(breaker) is State.CLOSED
    assert breaker.failures == 2
    assert breaker.allow(T0)
    breaker.failed(T0)
    assert state_of(breaker) is State.OPEN
    assert breaker.failures == 3
    assert moves == [State.OPEN]


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown_s=30)
    breaker.failed(T0)
    breaker.failed(T0)
    breaker.succeeded()
    assert breaker.failures == 0
    breaker.failed(T0)
    breaker.failed(T0)
    assert state_of(breaker) is State.CLOSED


def test_open_refuses_until_the_cool_down_ends() -> None:
    breaker, _ = opened(cooldown_s=30)
    assert not breaker.allow(T0)
    assert not breaker.allow(T0 + 29.999)
    assert state_of(breaker) is State.OPEN
    assert breaker.allow(T0 + 30)
    assert state_of(breaker) is State.HALF_OPEN


def test_retry_after_counts_down_in_whole_seconds_and_is_at_least_one() -> None:
    breaker, _ = opened(cooldown_s=30)
    assert breaker.retry_after(T0) == 30
    assert breaker.retry_after(T0 + 0.5) == 30
    assert breaker.retry_after(T0 + 29.2) == 1
    assert breaker.retry_after(T0 + 45) == 1
    assert breaker.describe(T0 + 10.5) == {"state": "open", "failures": 3, "retry_after_s": 20}


def test_half_open_lets_exactly_one_probe_through() -> None:
    breaker, _ = opened()
    later = T0 + 30
    assert breaker.allow(later)
    assert [breaker.allow(later) for _ in range(5)] == [False] * 5


def test_a_successful_probe_closes_the_circuit() -> None:
    breaker, moves = opened()
    assert breaker.allow(T0 + 30)
    breaker.succeeded()
    assert state_of(breaker) is State.CLOSED
    assert breaker.failures == 0
    assert moves == [State.OPEN, State.HALF_OPEN, State.CLOSED]
    assert breaker.allow(T0 + 30)
    assert breaker.allow(T0 + 30)


def test_a_failed_probe_opens_it_for_another_cool_down() -> None:
    breaker, moves = opened(cooldown_s=30)
    assert breaker.allow(T0 + 30)
    breaker.failed(T0 + 31, body=b"new")
    assert state_of(breaker) is State.OPEN
    assert moves == [State.OPEN, State.HALF_OPEN, State.OPEN]
    assert not breaker.allow(T0 + 60)
    assert breaker.retry_after(T0 + 31) == 30
    assert breaker.allow(T0 + 61)


def test_a_released_probe_passes_its_turn_to_the_next_call() -> None:
    breaker, _ = opened()
    assert breaker.allow(T0 + 30)
    assert not breaker.allow(T0 + 30)
    breaker.released()
    assert state_of(breaker) is State.HALF_OPEN
    assert breaker.allow(T0 + 30)
    assert not breaker.allow(T0 + 30)


def test_one_body_failing_again_is_counted_once() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown_s=30)
    for _ in range(10):
        breaker.failed(T0, body=b"poison")
    assert breaker.failures == 1
    assert state_of(breaker) is State.CLOSED
    breaker.failed(T0, body=b"other")
    breaker.failed(T0, body=b"third")
    assert breaker.failures == 3
    assert state_of(breaker) is State.OPEN


def test_failures_without_a_body_count_every_time() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown_s=30)
    for _ in range(3):
        breaker.failed(T0)
    assert state_of(breaker) is State.OPEN


def test_a_counted_body_as_the_probe_neither_closes_nor_reopens() -> None:
    breaker, moves = opened()
    assert breaker.allow(T0 + 30)
    breaker.failed(T0 + 30, body=bytes([0]))  # counted when the circuit opened
    assert state_of(breaker) is State.HALF_OPEN
    assert breaker.failures == 3
    assert moves == [State.OPEN, State.HALF_OPEN]
    assert breaker.allow(T0 + 30)  # the probe's turn passed on


def test_a_success_forgets_the_bodies_counted() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown_s=30)
    breaker.failed(T0, body=b"a")
    breaker.succeeded()
    breaker.failed(T0, body=b"a")
    assert breaker.failures == 1


def test_the_oldest_body_is_forgotten_past_the_memory_bound() -> None:
    kept = 1024  # the bodies one run of failures remembers
    breaker = CircuitBreaker(threshold=10_000, cooldown_s=30)
    for i in range(kept + 1):
        breaker.failed(T0, body=i.to_bytes(4, "big"))
    assert breaker.failures == kept + 1
    breaker.failed(T0, body=(kept).to_bytes(4, "big"))  # the newest is still remembered
    assert breaker.failures == kept + 1
    breaker.failed(T0, body=(0).to_bytes(4, "big"))  # the oldest was dropped: counted again
    assert breaker.failures == kept + 2
