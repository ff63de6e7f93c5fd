"""Fault injection: every modeled error of the table, broken connections, latency, schedules."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from emulator.testing import EmulatorServer
from tests.support.emulator_calls import NOVA, SDXL, TITAN_V1, invoke, titan_t2i

# The error table of reference §1: code and HTTP status.
ERROR_TABLE = [
    ("ValidationException", 400),
    ("ServiceQuotaExceededException", 400),
    ("AccessDeniedException", 403),
    ("ResourceNotFoundException", 404),
    ("ModelTimeoutException", 408),
    ("ModelErrorException", 424),
    ("ThrottlingException", 429),
    ("ModelNotReadyException", 429),
    ("InternalServerException", 500),
    ("ServiceUnavailableException", 503),
]


@pytest.mark.parametrize(("code", "status"), ERROR_TABLE)
def test_each_error_is_raised_as_its_modeled_exception(
    runtime: Any, emulator: EmulatorServer, code: str, status: int
) -> None:
    message = f"injected {code} for the test"
    emulator.set_faults(schedule=[{"fault": code, "message": message}])
    exception_class = getattr(runtime.exceptions, code)
    with pytest.raises(exception_class) as info:
        invoke(runtime, TITAN_V1, titan_t2i())
    response = info.value.response
    assert response["Error"] == {"Code": code, "Message": message}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert emulator.requests()[-1]["error_code"] == code
    # The schedule entry is used up: the next call succeeds.
    assert len(invoke(runtime, TITAN_V1, titan_t2i())["images"]) == 1


def test_model_error_carries_original_status_and_resource(
    runtime: Any, emulator: EmulatorServer
) -> None:
    emulator.set_faults(
        schedule=[{"fault": "ModelErrorException", "original_status_code": 503, "model": NOVA}]
    )
    with pytest.raises(runtime.exceptions.ModelErrorException) as info:
        invoke(runtime, f"us.{NOVA}", titan_t2i())
    response = info.value.response
    assert response["originalStatusCode"] == 503
    assert response["resourceName"] == f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}"
    assert response["Error"]["Message"] == "The model returned an error. Try your request again."


def test_default_messages_read_like_bedrock(runtime: Any, emulator: EmulatorServer) -> None:
    emulator.set_faults(schedule=[{"fault": "ThrottlingException"}])
    with pytest.raises(runtime.exceptions.ThrottlingException) as info:
        invoke(runtime, TITAN_V1, titan_t2i())
    assert info.value.response["Error"]["Message"] == (
        "Too many requests, please wait before trying again."
    )


def test_content_filtered_answers_as_the_model_filters(
    runtime: Any, emulator: EmulatorServer
) -> None:
    """Not an error: the next call is answered as its model answers a blocked prompt (SDXL: a
    CONTENT_FILTERED artifact), and the one after it as usual."""
    emulator.set_faults(schedule=[{"fault": "ContentFiltered", "model": SDXL}])
    body = {"text_prompts": [{"text": "a lighthouse"}], "seed": 5}
    filtered = invoke(runtime, SDXL, body)
    assert [a["finishReason"] for a in filtered["artifacts"]] == ["CONTENT_FILTERED"]
    assert [a["finishReason"] for a in invoke(runtime, SDXL, body)["artifacts"]] == ["SUCCESS"]
    assert [r["status"] for r in emulator.requests()] == [200, 200]


def test_dropped_connection(runtime: Any, emulator: EmulatorServer) -> None:
    emulator.set_faults(schedule=[{"fault": "DropConnection"}])
    response = runtime.invoke_model(modelId=TITAN_V1, body=json.dumps(titan_t2i()))
    with pytest.raises(botocore.exceptions.ResponseStreamingError):
        response["body"].read()
    assert emulator.requests()[-1]["error_code"] == "DropConnection"


def test_slow_response_exceeds_read_timeout(bedrock_env: EmulatorServer) -> None:
    bedrock_env.set_faults(schedule=[{"fault": "SlowResponse"}], slow_ms=30_000)
    client = boto3.client(
        "bedrock-runtime", config=Config(read_timeout=0.5, retries={"max_attempts": 0})
    )
    try:
        with pytest.raises(botocore.exceptions.ReadTimeoutError):
            invoke(client, TITAN_V1, titan_t2i())
    finally:
        client.close()


def test_botocore_retries_a_throttle(bedrock_env: EmulatorServer) -> None:
    bedrock_env.set_faults(schedule=[{"fault": "ThrottlingException", "times": 2}])
    client = boto3.client(
        "bedrock-runtime", config=Config(retries={"mode": "standard", "max_attempts": 3})
    )
    try:
        answer = invoke(client, TITAN_V1, titan_t2i())
    finally:
        client.close()
    assert len(answer["images"]) == 1
    records = bedrock_env.requests()
    assert [r["error_code"] for r in records] == [
        "ThrottlingException",
        "ThrottlingException",
        None,
    ]
    attempts = [
        next(part for part in r["headers"]["amz-sdk-request"].split("; ") if "attempt=" in part)
        for r in records
    ]
    assert attempts == ["attempt=1", "attempt=2", "attempt=3"]


def test_schedule_is_consumed_in_order_by_matching_calls(
    runtime: Any, emulator: EmulatorServer
) -> None:
    emulator.set_faults(
        schedule=[
            {"fault": "ThrottlingException", "model": NOVA, "times": 2},
            {"fault": "InternalServerException"},
        ]
    )
    outcomes = [_outcome(runtime, model) for model in (TITAN_V1, f"us.{NOVA}", NOVA, NOVA)]
    assert outcomes == [
        "InternalServerException",
        "ThrottlingException",
        "ThrottlingException",
        "ValidationException",  # no fault left: the empty body fails validation
    ]
    assert emulator.faults()["schedule"] == []


def test_a_poisoned_body_fails_every_time_and_others_pass(
    runtime: Any, emulator: EmulatorServer
) -> None:
    emulator.set_faults(poison=[{"fault": "InternalServerException", "marker": "poisoned kite"}])

    def outcome(prompt: str) -> str:
        try:
            invoke(runtime, TITAN_V1, titan_t2i(prompt))
        except botocore.exceptions.ClientError as error:
            return str(error.response["Error"]["Code"])
        return "success"

    outcomes = [outcome(p) for p in ("a poisoned kite", "a red kite", "a poisoned kite")]
    assert outcomes == ["InternalServerException", "success", "InternalServerException"]
    # Never used up, unlike a schedule entry.
    assert emulator.faults()["poison"] == [
        {"fault": "InternalServerException", "marker": "poisoned kite", "model": "*"}
    ]


def test_rates_are_deterministic_for_a_seed(runtime: Any, emulator: EmulatorServer) -> None:
    config = {"rates": {"ThrottlingException": 0.3, "ServiceUnavailableException": 0.2}, "seed": 7}
    emulator.set_faults(**config)
    first = [_outcome(runtime, TITAN_V1) for _ in range(30)]
    emulator.reset()
    emulator.set_faults(**config)
    second = [_outcome(runtime, TITAN_V1) for _ in range(30)]
    assert first == second
    assert set(first) == {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ValidationException",
    }
    emulator.set_faults(seed=8)
    assert [_outcome(runtime, TITAN_V1) for _ in range(30)] != first


def test_latency_overlaps_concurrent_calls(bedrock_env: EmulatorServer) -> None:
    bedrock_env.set_faults(latency_ms={TITAN_V1: 1500})
    assert bedrock_env.faults()["latency_ms"] == {TITAN_V1: 1500}
    client = boto3.client("bedrock-runtime", config=Config(max_pool_connections=4))
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def call() -> None:
        start.wait()
        try:
            invoke(client, TITAN_V1, {})
        except client.exceptions.ValidationException:
            return
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    assert errors == []
    assert bedrock_env.stats() == {
        "in_flight": 0,
        "max_in_flight": 4,
        "total": 4,
        "disconnected": 0,
    }


def test_reset_clears_faults(runtime: Any, emulator: EmulatorServer) -> None:
    emulator.set_faults(
        latency_ms={"*": 5},
        schedule=[{"fault": "ThrottlingException"}],
        poison=[{"fault": "InternalServerException", "marker": "kite"}],
        slow_ms=10,
    )
    emulator.reset()
    assert emulator.faults() == {
        "latency_ms": {},
        "schedule": [],
        "poison": [],
        "rates": {},
        "seed": 0,
        "slow_ms": 0,
    }
    assert _outcome(runtime, TITAN_V1) == "ValidationException"


def _outcome(client: Any, model_id: str) -> str:
    """The error code an empty body gets (faults come before validation)."""
    try:
        invoke(client, model_id, {})
    except botocore.exceptions.ClientError as error:
        return str(error.response["Error"]["Code"])
    return "success"
