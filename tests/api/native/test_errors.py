"""Errors: problem+json everywhere, and Bedrock's failures mapped to precise statuses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import open_gateway, settings_for
from tests.support.problems import assert_problem

T2I = "/v1/images/text-to-image"


class TestFrameworkErrorsAreProblems:
    async def test_404(self, gateway: httpx.AsyncClient) -> None:
        assert_problem(await gateway.get("/v1/nothing-here"), 404, "not-found")

    async def test_405(self, gateway: httpx.AsyncClient) -> None:
        assert_problem(await gateway.get(T2I), 405, "method-not-allowed")

    async def test_malformed_json_is_400(self, gateway: httpx.AsyncClient) -> None:
        response = await gateway.post(
            T2I, content=b'{"prompt": ', headers={"content-type": "application/json"}
        )
        assert_problem(response, 400, "invalid-json")

    async def test_a_json_array_is_422_naming_the_body(self, gateway: httpx.AsyncClient) -> None:
        response = await gateway.post(T2I, json=["prompt"])
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"] == [{"field": "body", "message": "must be a JSON object"}]

    async def test_other_content_types_are_415(self, gateway: httpx.AsyncClient) -> None:
        response = await gateway.post(
            T2I, content=b"prompt=x", headers={"content-type": "text/plain"}
        )
        assert_problem(response, 415, "unsupported-media-type")

    async def test_malformed_multipart_is_400(self, gateway: httpx.AsyncClient) -> None:
        body = b'--xyz\r\nContent-Disposition: form-data; name="image"\r\n\r\nx\r\n--xyz--\r\n'
        headers = {"content-type": "multipart/form-data"}  # no boundary: the parts cannot be found
        response = await gateway.post("/v1/images/inpaint", content=body, headers=headers)
        problem = assert_problem(response, 400, "invalid-multipart")
        assert problem["detail"] == "the Content-Type has no boundary parameter"

    async def test_multipart_on_text_to_image_is_415(self, gateway: httpx.AsyncClient) -> None:
        response = await gateway.post(T2I, data={"prompt": "x"}, files={"f": ("a", b"x")})
        assert_problem(response, 415, "unsupported-media-type")


class TestBodyLimit:
    @pytest.fixture
    async def small(self, emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
        async with open_gateway(settings_for(emulator, max_body_bytes=10_000)) as client:
            yield client

    async def test_declared_length_over_the_cap_is_413(
        self, small: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await small.post(T2I, json={"prompt": "x" * 20_000})
        assert_problem(response, 413, "payload-too-large")
        assert emulator.requests() == []

    async def test_streamed_body_over_the_cap_is_413(
        self, small: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"prompt": "'
            for _ in range(30):
                yield b"x" * 1_000
            yield b'"}'

        # No Content-Length: the cap must act while the body streams in.
        response = await small.post(
            T2I, content=chunks(), headers={"content-type": "application/json"}
        )
        assert_problem(response, 413, "payload-too-large")
        assert emulator.requests() == []


class TestBedrockFailures:
    """Faults injected in the emulator (fault by fault in test_fault_matrix.py)."""

    @pytest.fixture
    async def once(self, emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
        async with open_gateway(settings_for(emulator, max_attempts=1)) as client:
            yield client

    async def test_access_denied_tells_the_operator_what_to_check(
        self, once: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        emulator.set_faults(schedule=[{"fault": "AccessDeniedException"}])
        problem = (await once.post(T2I, json={"prompt": "x"})).json()
        assert "bedrock:InvokeModel" in str(problem["detail"])
        assert "emulator" not in str(problem["detail"]).lower()

    async def test_throttling_is_retried_by_the_client(self, emulator: EmulatorServer) -> None:
        emulator.set_faults(schedule=[{"fault": "ThrottlingException"}])
        async with open_gateway(settings_for(emulator, max_attempts=2)) as client:
            response = await client.post(T2I, json={"prompt": "x", "width": 512, "height": 512})
            assert response.status_code == 200, response.text
        assert [r["error_code"] for r in emulator.requests()] == ["ThrottlingException", None]

    async def test_one_failed_call_of_several_is_reported_per_image(
        self, once: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        emulator.set_faults(schedule=[{"fault": "InternalServerException"}])
        response = await once.post(T2I, json={"model": "sdxl", "prompt": "x", "n": 3})
        assert response.status_code == 200, response.text
        images = response.json()["images"]
        assert len(images) == 3
        failed = [i for i in images if i["finish_reason"] == "error"]
        assert len(failed) == 1
        assert failed[0]["b64_json"] is None
        assert failed[0]["error"]
        assert sum(i["finish_reason"] == "success" for i in images) == 2


class TestContentFilter:
    async def test_titan_blocked_prompt_is_422(self, gateway: httpx.AsyncClient) -> None:
        response = await gateway.post(T2I, json={"prompt": "something forbidden"})
        problem = assert_problem(response, 422, "content-filtered")
        assert "content filters" in str(problem["detail"])

    async def test_sdxl_filtered_artifacts_are_422_with_reasons_per_image(
        self, gateway: httpx.AsyncClient
    ) -> None:
        response = await gateway.post(T2I, json={"model": "sdxl", "prompt": "forbidden", "n": 2})
        problem = assert_problem(response, 422, "content-filtered")
        images = problem["images"]
        assert isinstance(images, list)
        assert len(images) == 2
        assert {i["finish_reason"] for i in images} == {"content_filtered"}
