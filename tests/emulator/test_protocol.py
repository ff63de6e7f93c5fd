"""The wire protocol (reference §1): raw-path model ids, bodies, request ids, model resolution."""

from __future__ import annotations

import http.client
import json
import urllib.error
from typing import Any
from urllib.parse import quote

import boto3
import pytest

from emulator.settings import EmulatorSettings
from emulator.testing import EmulatorServer
from tests.support.emulator_calls import NOVA, TITAN_V1, decode, invoke, titan_t2i

END_OF_LIFE = (
    "This model version has reached the end of its life. "
    "Please refer to the AWS documentation for more details."
)


def raw_post(
    emulator: EmulatorServer, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """POST exactly these bytes to exactly this path (no client-side re-encoding)."""
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers or {})
        response = connection.getresponse()
        answer = json.loads(response.read())
        return response.status, {k.lower(): v for k, v in response.getheaders()}, answer
    finally:
        connection.close()


class TestModelIds:
    def test_foundation_model_arn_with_encoded_slash(
        self, runtime: Any, emulator: EmulatorServer
    ) -> None:
        arn = f"arn:aws:bedrock:us-east-1:123456789012:foundation-model/{TITAN_V1}"
        answer = invoke(runtime, arn, titan_t2i())
        assert decode(answer["images"][0]).shape == (512, 512, 3)
        record = emulator.requests()[-1]
        assert record["model_id"] == arn
        assert record["resolved_model_id"] == TITAN_V1

    def test_raw_path_keeps_percent_encoded_slash(self, emulator: EmulatorServer) -> None:
        arn = f"arn:aws:bedrock:us-east-1:123456789012:foundation-model/{TITAN_V1}"
        path = f"/model/{quote(arn, safe='')}/invoke"
        assert "%2F" in path
        status, _, answer = raw_post(emulator, path, json.dumps(titan_t2i()).encode())
        assert status == 200
        assert len(answer["images"]) == 1

    def test_inference_profile_id(self, runtime: Any, emulator: EmulatorServer) -> None:
        body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a red barn"}}
        answer = invoke(runtime, f"us.{NOVA}", body)
        assert decode(answer["images"][0]).shape == (1024, 1024, 3)
        assert emulator.requests()[-1]["resolved_model_id"] == NOVA

    def test_inference_profile_arn(self, runtime: Any) -> None:
        arn = f"arn:aws:bedrock:us-west-2:123456789012:inference-profile/eu.{TITAN_V1}"
        assert len(invoke(runtime, arn, titan_t2i())["images"]) == 1

    def test_profile_only_model_refuses_on_demand(
        self, runtime: Any, emulator: EmulatorServer
    ) -> None:
        profile_only = [m for m in _models(emulator) if m["profile_only"]]
        if not profile_only:
            pytest.fail("the registry serves no profile-only model (the Image Services)")
        model_id = profile_only[0]["model_id"]
        with pytest.raises(runtime.exceptions.ValidationException) as info:
            invoke(runtime, model_id, {})
        assert str(info.value.response["Error"]["Message"]) == (
            f"Invocation of model ID {model_id} with on-demand throughput isn't supported. "
            "Retry your request with the ID or ARN of an inference profile that contains "
            "this model."
        )

    def test_unknown_model(self, runtime: Any) -> None:
        with pytest.raises(runtime.exceptions.ValidationException) as info:
            invoke(runtime, "amazon.titan-image-generator-v9", titan_t2i())
        assert (
            info.value.response["Error"]["Message"] == "The provided model identifier is invalid."
        )

    def test_streaming_is_refused(self, emulator: EmulatorServer) -> None:
        path = f"/model/{quote(TITAN_V1, safe='')}/invoke-with-response-stream"
        status, headers, answer = raw_post(emulator, path, json.dumps(titan_t2i()).encode())
        assert status == 400
        assert headers["x-amzn-errortype"].startswith("ValidationException:")
        assert answer == {"message": "The model is unsupported for streaming."}


def _models(emulator: EmulatorServer) -> list[dict[str, Any]]:
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=30)
    try:
        connection.request("GET", "/_emulator/models")
        models: list[dict[str, Any]] = json.loads(connection.getresponse().read())["models"]
        return models
    finally:
        connection.close()


class TestRetired:
    def test_retired_by_control_api(self, runtime: Any, emulator: EmulatorServer) -> None:
        emulator.set_retired([TITAN_V1])
        with pytest.raises(runtime.exceptions.ResourceNotFoundException) as info:
            invoke(runtime, TITAN_V1, titan_t2i())
        assert info.value.response["Error"]["Message"] == END_OF_LIFE
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        # Other models still answer; reset serves the retired one again.
        assert invoke(runtime, f"us.{NOVA}", titan_t2i())["images"]
        emulator.reset()
        assert invoke(runtime, TITAN_V1, titan_t2i())["images"]

    def test_retired_by_setting(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("EMULATOR_RETIRED_MODELS", f"{TITAN_V1}, {NOVA}")
        settings = EmulatorSettings()
        assert settings.retired_models == [TITAN_V1, NOVA]
        path = f"/model/{quote(f'us.{NOVA}', safe='')}/invoke"
        with EmulatorServer(settings) as server:
            status, headers, answer = raw_post(server, path, json.dumps(titan_t2i()).encode())
            server.reset()  # back to the settings: still retired
            again, _, _ = raw_post(server, path, json.dumps(titan_t2i()).encode())
        assert (status, again) == (404, 404)
        assert headers["x-amzn-errortype"].startswith("ResourceNotFoundException:")
        assert answer == {"message": END_OF_LIFE}


class TestBodies:
    def test_no_content_type(self, emulator: EmulatorServer) -> None:
        path = f"/model/{TITAN_V1}/invoke"
        status, headers, answer = raw_post(emulator, path, json.dumps(titan_t2i()).encode())
        assert status == 200
        assert headers["content-type"] == "application/json"
        assert "content-type" not in emulator.requests()[-1]["headers"]
        assert len(answer["images"]) == 1

    def test_boto3_without_content_type(self, runtime: Any, emulator: EmulatorServer) -> None:
        response = runtime.invoke_model(modelId=TITAN_V1, body=json.dumps(titan_t2i()))
        assert response["contentType"] == "application/json"
        record = emulator.requests()[-1]
        assert "content-type" not in record["headers"]
        assert record["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 ")

    def test_bearer_token_accepted(
        self, runtime: Any, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer
    ) -> None:
        monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "not-checked")

        client = boto3.client("bedrock-runtime")
        try:
            assert invoke(client, TITAN_V1, titan_t2i())["images"]
        finally:
            client.close()
        assert emulator.requests()[-1]["headers"]["authorization"] == "Bearer not-checked"

    def test_request_id_header(self, runtime: Any, emulator: EmulatorServer) -> None:
        ok = runtime.invoke_model(modelId=TITAN_V1, body=json.dumps(titan_t2i()))
        with pytest.raises(runtime.exceptions.ValidationException) as info:
            invoke(runtime, "no-such-model", {})
        ids = [
            ok["ResponseMetadata"]["RequestId"],
            info.value.response["ResponseMetadata"]["RequestId"],
        ]
        assert all(len(request_id) == 36 for request_id in ids)
        assert ids[0] != ids[1]

    def test_error_headers_and_body(self, emulator: EmulatorServer) -> None:
        status, headers, answer = raw_post(emulator, "/model/nope/invoke", b"{}")
        assert status == 400
        assert headers["x-amzn-errortype"] == (
            "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
        )
        assert len(headers["x-amzn-requestid"]) == 36
        assert answer == {"message": "The provided model identifier is invalid."}

    def test_not_json(self, runtime: Any) -> None:
        with pytest.raises(runtime.exceptions.ValidationException) as info:
            runtime.invoke_model(modelId=TITAN_V1, body=b"taskType=TEXT_IMAGE")
        assert "Malformed input request" in info.value.response["Error"]["Message"]

    def test_not_an_object(self, runtime: Any) -> None:
        with pytest.raises(runtime.exceptions.ValidationException) as info:
            runtime.invoke_model(modelId=TITAN_V1, body=b"[1, 2]")
        assert info.value.response["Error"]["Message"].startswith("1 schema violation found: #:")

    def test_body_at_limit_is_read_past_it_refused(
        self, runtime: Any, emulator: EmulatorServer
    ) -> None:
        body = json.dumps(titan_t2i()).encode()
        too_large = body + b" " * (25_000_001 - len(body))
        with pytest.raises(runtime.exceptions.ValidationException) as info:
            runtime.invoke_model(modelId=TITAN_V1, body=too_large)
        assert "exceeds the limit of 25000000 bytes" in info.value.response["Error"]["Message"]
        record = emulator.requests()[-1]
        assert (record["body_bytes"], record["body"]) == (25_000_001, None)
        at_limit = body + b" " * (25_000_000 - len(body))
        assert len(invoke_raw(runtime, at_limit)["images"]) == 1


def invoke_raw(client: Any, body: bytes) -> dict[str, Any]:
    """invoke_model on Titan v1 with these exact bytes."""
    answer: dict[str, Any] = json.loads(
        client.invoke_model(modelId=TITAN_V1, body=body)["body"].read()
    )
    return answer


class TestControlApi:
    def test_recorder_contents(self, runtime: Any, emulator: EmulatorServer) -> None:
        body = titan_t2i("a green field")
        runtime.invoke_model(
            modelId=f"us.{TITAN_V1}",
            body=json.dumps(body),
            contentType="application/json",
            accept="application/json",
        )
        with pytest.raises(runtime.exceptions.ValidationException):
            invoke(runtime, TITAN_V1, titan_t2i("x" * 513))
        first, second = emulator.requests()
        assert first["model_id"] == f"us.{TITAN_V1}"
        assert first["resolved_model_id"] == TITAN_V1
        assert first["body"] == body
        assert first["body_bytes"] == len(json.dumps(body))
        assert first["headers"]["content-type"] == "application/json"
        assert first["headers"]["accept"] == "application/json"
        assert (first["status"], first["error_code"]) == (200, None)
        assert (second["status"], second["error_code"]) == (400, "ValidationException")
        assert emulator.stats() == {
            "in_flight": 0,
            "max_in_flight": 1,
            "total": 2,
            "disconnected": 0,
        }
        emulator.reset()
        assert emulator.requests() == []
        assert emulator.stats() == {
            "in_flight": 0,
            "max_in_flight": 0,
            "total": 0,
            "disconnected": 0,
        }

    def test_bad_fault_config_is_refused(self, emulator: EmulatorServer) -> None:
        with pytest.raises(urllib.error.HTTPError) as info:
            emulator.set_faults(schedule=[{"fault": "NoSuchFault"}])
        assert info.value.code == 400
        assert "unknown fault 'NoSuchFault'" in json.loads(info.value.read())["message"]
        assert emulator.faults()["schedule"] == []
