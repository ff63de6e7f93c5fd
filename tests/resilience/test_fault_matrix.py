"""The error table, fault by fault: what a caller gets for every fault the emulator can inject.

Each fault is injected once, with one attempt per call (max_attempts=1: no retry layer in play),
on an active model. The native surface answers problem+json; the Bedrock-compatible surface answers
Bedrock's error shape, and boto3 raises the modeled exception a client already handles, whether the
call passed through or was served by a successor (the replacement map runs the native runner).
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.parsers import RestJSONParser

from app.bedrock.errors import upstream_problem
from app.problems import FieldProblem, ProblemError
from app.settings import Settings
from app.surfaces.bedrock.errors import from_problem
from emulator.faults import DEFAULT_MESSAGES, FAULT_NAMES
from emulator.testing import EmulatorServer
from tests.support.gateway import open_gateway, settings_for
from tests.support.live import GatewayServer
from tests.support.problems import assert_problem

T2I = "/v1/images/text-to-image"
SD35 = "stability.sd3-5-large-v1:0"
SD3 = "stability.sd3-large-v1:0"  # retired: with the map on, served by SD3.5
TITAN = "amazon.titan-image-generator-v1"
FILTERED = "This request has been blocked by our content filters."
ACCOUNT = "123456789012"
DENIED = (
    f"User: arn:aws:sts::{ACCOUNT}:assumed-role/GatewayRole/i-0abc is not authorized to perform: "
    f"bedrock:InvokeModel on resource: arn:aws:bedrock:us-west-2::foundation-model/{SD35}"
)


@dataclass(frozen=True)
class Row:
    """What the caller gets for one fault: the native problem, and Bedrock's modeled error."""

    status: int
    slug: str
    retry_after: str | None
    code: str  # the exception boto3 raises
    code_status: int


# Written out here, not read from app.bedrock.errors: the test states the table it checks.
TABLE: dict[str, Row] = {
    "ValidationException": Row(400, "upstream-validation", None, "ValidationException", 400),
    "ServiceQuotaExceededException": Row(
        429, "upstream-quota", "60", "ServiceQuotaExceededException", 400
    ),
    "AccessDeniedException": Row(502, "upstream-access-denied", None, "AccessDeniedException", 403),
    "ResourceNotFoundException": Row(
        502, "upstream-model-unavailable", None, "ResourceNotFoundException", 404
    ),
    "ModelTimeoutException": Row(504, "upstream-timeout", None, "ModelTimeoutException", 408),
    "ModelErrorException": Row(502, "upstream-model-error", None, "ModelErrorException", 424),
    "ThrottlingException": Row(429, "upstream-throttled", "2", "ThrottlingException", 429),
    "ModelNotReadyException": Row(
        503, "upstream-model-not-ready", "5", "ModelNotReadyException", 429
    ),
    "InternalServerException": Row(
        503, "upstream-unavailable", "5", "InternalServerException", 500
    ),
    "ServiceUnavailableException": Row(
        503, "upstream-unavailable", "5", "ServiceUnavailableException", 503
    ),
    "DropConnection": Row(502, "upstream-connection", None, "ServiceUnavailableException", 503),
    "SlowResponse": Row(504, "upstream-timeout", None, "ModelTimeoutException", 408),
}
# Operator faults: the detail says what to fix.
HINTS = {
    "ServiceQuotaExceededException": "Service Quotas",
    "AccessDeniedException": "bedrock:InvokeModel",
    "ResourceNotFoundException": "GATEWAY_MODELS",
}


def gateway_settings(emulator: EmulatorServer, **overrides: Any) -> Settings:
    """One attempt per call, a circuit that never opens here, and SD3.5 timing out after 0.5 s
    (a SlowResponse; every other fault answers at once)."""
    values: dict[str, Any] = {
        "max_attempts": 1,
        "breaker_failure_threshold": 1_000,
        "models": [{"id": SD35, "read_timeout_s": 0.5}],
        "replacements": {"sd3-large": {}},
    }
    values.update(overrides)
    return settings_for(emulator, **values)


def inject(emulator: EmulatorServer, fault: str, message: str | None = None) -> None:
    """The next call fails with `fault` (a SlowResponse waits until the caller hangs up)."""
    entry: dict[str, Any] = {"fault": fault}
    if message is not None:
        entry["message"] = message
    emulator.set_faults(schedule=[entry], slow_ms=60_000)


def test_every_fault_has_a_row() -> None:
    assert set(TABLE) == set(FAULT_NAMES)


@pytest.fixture
async def native(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with open_gateway(gateway_settings(emulator)) as client:
        yield client


class TestNativeSurface:
    @pytest.mark.parametrize("fault", FAULT_NAMES)
    async def test_fault(
        self, native: httpx.AsyncClient, emulator: EmulatorServer, fault: str
    ) -> None:
        row = TABLE[fault]
        inject(emulator, fault)
        response = await native.post(T2I, json={"model": "sd3.5-large", "prompt": "x"})
        problem = assert_problem(response, row.status, row.slug)
        assert response.headers.get("retry-after") == row.retry_after
        detail = problem["detail"]
        if fault == "ValidationException":
            # The caller's mistake, in Bedrock's own words.
            assert detail == DEFAULT_MESSAGES[fault]
        else:
            assert SD35 in detail
        if fault in DEFAULT_MESSAGES:
            assert problem["upstream_error"] == fault
            assert DEFAULT_MESSAGES[fault] in detail
        else:
            assert "upstream_error" not in problem
        if fault in HINTS:
            assert HINTS[fault] in detail
        assert len(emulator.requests()) == 1

    async def test_access_denied_withholds_the_gateways_identity(
        self, native: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        inject(emulator, "AccessDeniedException", DENIED)
        response = await native.post(T2I, json={"model": "sd3.5-large", "prompt": "x"})
        problem = assert_problem(response, 502, "upstream-access-denied")
        assert ACCOUNT not in response.text
        assert "GatewayRole" not in response.text
        assert "arn:" not in response.text
        assert f"on resource: {SD35}" in problem["detail"]

    async def test_connect_error_is_503_and_names_no_endpoint(
        self, emulator: EmulatorServer
    ) -> None:
        port = closed_port()
        settings = gateway_settings(emulator, GATEWAY_ENDPOINT_URL=f"http://127.0.0.1:{port}")
        async with open_gateway(settings) as client:
            response = await client.post(T2I, json={"model": "sd3.5-large", "prompt": "x"})
        problem = assert_problem(response, 503, "upstream-unavailable")
        assert response.headers["retry-after"] == "5"
        assert "could not connect" in problem["detail"]
        assert SD35 in problem["detail"]
        assert str(port) not in response.text
        assert "upstream_error" not in problem
        assert emulator.requests() == []

    async def test_one_failed_call_of_a_fan_out_is_one_image(
        self, native: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        inject(emulator, "ThrottlingException")
        response = await native.post(
            T2I, json={"model": "sd3.5-large", "prompt": "x", "n": 2, "seed": 10}
        )
        assert response.status_code == 200, response.text
        assert "retry-after" not in response.headers
        images = response.json()["images"]
        # The calls run concurrently: either may be the one the fault hit.
        [failed] = [i for i in images if i["finish_reason"] == "error"]
        [made] = [i for i in images if i["finish_reason"] == "success"]
        assert {failed["seed"], made["seed"]} == {10, 11}
        assert DEFAULT_MESSAGES["ThrottlingException"] in failed["error"]
        assert failed["b64_json"] is None
        assert made["b64_json"]


class TestContentFilter:
    async def test_titan_refusal_is_422_with_bedrocks_message(
        self, native: httpx.AsyncClient
    ) -> None:
        response = await native.post(T2I, json={"model": "titan", "prompt": "a forbidden door"})
        problem = assert_problem(response, 422, "content-filtered")
        assert problem["detail"] == FILTERED
        assert problem["upstream_error"] == "ValidationException"
        assert "retry-after" not in response.headers

    async def test_filtered_and_failed_images_list_each_reason(
        self, native: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        # One call fails, the other is filtered: nothing is left, and not all for the filter.
        inject(emulator, "ModelErrorException")
        response = await native.post(
            T2I, json={"model": "sd3.5-large", "prompt": "a forbidden door", "n": 2, "seed": 10}
        )
        problem = assert_problem(response, 502, "no-images")
        images = problem["images"]
        [failed] = [i for i in images if i["finish_reason"] == "error"]
        [filtered] = [i for i in images if i["finish_reason"] == "content_filtered"]
        assert {failed["seed"], filtered["seed"]} == {10, 11}
        assert DEFAULT_MESSAGES["ModelErrorException"] in failed["error"]
        assert filtered["error"] == "Filter reason: prompt"

    def test_titan_refusal_on_the_bedrock_surface(self, runtime: Any) -> None:
        body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a forbidden door"}}
        error = refusal(runtime, TITAN, json.dumps(body))
        assert isinstance(error, runtime.exceptions.ValidationException)
        assert error.response["Error"]["Message"] == FILTERED


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def live(emulator_server: EmulatorServer) -> Iterator[GatewayServer]:
    """One gateway for the module; the emulator behind it is reset before each test."""
    with GatewayServer(gateway_settings(emulator_server)) as server:
        yield server


def boto3_client(url: str) -> Any:
    """bedrock-runtime on the gateway, one attempt per call (boto3 retries nothing here)."""
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=60),
    )


@pytest.fixture
def runtime(live: GatewayServer, bedrock_env: EmulatorServer) -> Iterator[Any]:
    client = boto3_client(live.url)
    yield client
    client.close()


def refusal(runtime: Any, model_id: str, body: str) -> ClientError:
    """The ClientError boto3 raises for InvokeModel with this body."""
    with pytest.raises(ClientError) as caught:
        runtime.invoke_model(body=body, modelId=model_id, contentType="application/json")
    return caught.value


class TestBedrockSurface:
    @pytest.mark.parametrize("fault", FAULT_NAMES)
    @pytest.mark.parametrize("model_id", [SD35, SD3], ids=["pass-through", "replaced"])
    def test_fault(self, runtime: Any, emulator: EmulatorServer, fault: str, model_id: str) -> None:
        row = TABLE[fault]
        inject(emulator, fault)
        error = refusal(runtime, model_id, json.dumps({"prompt": "x"}))
        assert isinstance(error, getattr(runtime.exceptions, row.code))
        metadata = error.response["ResponseMetadata"]
        assert metadata["HTTPStatusCode"] == row.code_status
        assert metadata["HTTPHeaders"]["x-amzn-errortype"] == row.code
        assert metadata["RequestId"]
        message = error.response["Error"]["Message"]
        if fault in DEFAULT_MESSAGES:
            assert DEFAULT_MESSAGES[fault] in message
        # Bedrock sends no Retry-After; a problem the gateway mapped keeps its own.
        retry_after = row.retry_after if model_id == SD3 else None
        assert metadata["HTTPHeaders"].get("retry-after") == retry_after
        assert [r["resolved_model_id"] for r in emulator.requests()] == [SD35]

    def test_access_denied_withholds_the_gateways_identity(
        self, runtime: Any, emulator: EmulatorServer
    ) -> None:
        inject(emulator, "AccessDeniedException", DENIED)
        error = refusal(runtime, SD35, json.dumps({"prompt": "x"}))
        assert isinstance(error, runtime.exceptions.AccessDeniedException)
        message = error.response["Error"]["Message"]
        assert ACCOUNT not in message
        assert "GatewayRole" not in message
        assert message.endswith(f"on resource: {SD35}")

    def test_model_error_names_the_model_not_its_arn(
        self, runtime: Any, emulator: EmulatorServer
    ) -> None:
        inject(emulator, "ModelErrorException")
        error = refusal(runtime, SD35, json.dumps({"prompt": "x"}))
        assert isinstance(error, runtime.exceptions.ModelErrorException)
        assert error.response["resourceName"] == SD35
        assert error.response["originalStatusCode"] == 500

    @pytest.mark.parametrize("model_id", [SD35, SD3], ids=["pass-through", "replaced"])
    def test_connect_error_is_service_unavailable(
        self, emulator: EmulatorServer, bedrock_env: EmulatorServer, model_id: str
    ) -> None:
        port = closed_port()
        settings = gateway_settings(emulator, GATEWAY_ENDPOINT_URL=f"http://127.0.0.1:{port}")
        with GatewayServer(settings) as server:
            client = boto3_client(server.url)
            try:
                error = refusal(client, model_id, json.dumps({"prompt": "x"}))
            finally:
                client.close()
        assert isinstance(error, client.exceptions.ServiceUnavailableException)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert str(port) not in error.response["Error"]["Message"]


def parsed_by_botocore(problem: ProblemError) -> tuple[type[Exception], int, dict[str, str]]:
    """The modeled exception class boto3 raises for the gateway's answer to `problem`, as
    botocore parses the bytes; its status and headers."""
    answer = from_problem(problem).response("req-1")
    client: Any = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    try:
        operation = client.meta.service_model.operation_model("InvokeModel")
        headers = dict(answer.headers)
        raw = {"status_code": answer.status_code, "headers": headers, "body": bytes(answer.body)}
        parsed = RestJSONParser().parse(raw, operation.output_shape)
        cls: type[Exception] = client.exceptions.from_code(parsed["Error"]["Code"])
        return cls, answer.status_code, headers
    finally:
        client.close()


class TestTheGatewaysOwnProblemsAsBedrockErrors:
    """Every problem type the gateway answers becomes an error boto3 models, at Bedrock's status
    for that code."""

    @pytest.mark.parametrize(
        ("slug", "status", "retry_after", "code", "code_status"),
        [
            ("overloaded", 429, "3", "ThrottlingException", 429),
            ("gateway-busy", 503, "1", "ServiceUnavailableException", 503),
            ("queue-timeout", 503, "2", "ServiceUnavailableException", 503),
            ("circuit-open", 503, "17", "ServiceUnavailableException", 503),
            ("deadline-exceeded", 504, None, "ModelTimeoutException", 408),
            ("validation-error", 422, None, "ValidationException", 400),
            ("invalid-json", 400, None, "ValidationException", 400),
            ("not-acceptable", 406, None, "ValidationException", 400),
            ("payload-too-large", 413, None, "ValidationException", 400),
            ("unsupported-media-type", 415, None, "ValidationException", 400),
            ("content-filtered", 422, None, "ValidationException", 400),
            ("no-images", 502, None, "ModelErrorException", 424),
            ("model-retired", 410, None, "ResourceNotFoundException", 410),
            ("upstream-connection", 502, None, "ServiceUnavailableException", 503),
            ("upstream-unavailable", 503, "5", "ServiceUnavailableException", 503),
            ("upstream-timeout", 504, None, "ModelTimeoutException", 408),
            ("upstream-access-denied", 502, None, "AccessDeniedException", 403),
            ("internal-error", 500, None, "InternalServerException", 500),
        ],
    )
    def test_slug(
        self, slug: str, status: int, retry_after: str | None, code: str, code_status: int
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        problem = ProblemError(status, slug, "title", f"why {slug}", headers=headers)
        cls, answered, sent = parsed_by_botocore(problem)
        assert cls.__name__ == code
        assert answered == code_status
        assert sent.get("retry-after") == retry_after

    def test_deadline_is_a_timeout_whatever_bedrock_said_last(self) -> None:
        problem = ProblemError(
            504, "deadline-exceeded", "t", "d", extra={"upstream_error": "ThrottlingException"}
        )
        cls, status, _ = parsed_by_botocore(problem)
        assert (cls.__name__, status) == ("ModelTimeoutException", 408)

    def test_field_errors_are_listed_in_the_message(self) -> None:
        problem = ProblemError(
            422,
            "validation-error",
            "t",
            "1 field is not valid",
            errors=[FieldProblem(field="width", message="must be 1024")],
        )
        assert from_problem(problem).message == "1 field is not valid: width: must be 1024"


class TestRegionInTheOperatorsHint:
    def test_access_denied_names_model_and_region(self) -> None:
        exc = ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": DENIED}}, "InvokeModel"
        )
        problem = upstream_problem(exc, SD35, region="us-west-2")
        assert f"on {SD35} and enable access to the model in us-west-2" in problem.detail
        assert ACCOUNT not in problem.detail

    def test_connect_error_names_the_region_not_the_url(self) -> None:
        exc = EndpointConnectionError(endpoint_url="https://vpce-0abc.bedrock.internal/model/x")
        problem = upstream_problem(exc, SD35, region="eu-west-1")
        assert problem.status == 503
        assert "in eu-west-1" in problem.detail
        assert "vpce" not in problem.detail
