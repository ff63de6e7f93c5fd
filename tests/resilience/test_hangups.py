"""A caller who hangs up mid-upload is a 499, logged and counted, never an error (issue 17,
finding 2), on every surface of `python -m app`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.testing import EmulatorServer
from tests.support.raw_client import RawPost
from tests.support.served import ServedGateway, errors_logged

TITAN = "amazon.titan-image-generator-v1"
JSON = "application/json"
MULTIPART = "multipart/form-data; boundary=b0undary"
# (request id, path, content type): the body is cut short whatever it would have been.
UPLOADS = [
    ("gone-native", "/v1/images/text-to-image", JSON),
    ("gone-native-form", "/v1/images/inpaint", MULTIPART),
    ("gone-openai", "/openai/v1/images/generations", JSON),
    ("gone-openai-form", "/openai/v1/images/edits", MULTIPART),
    ("gone-bedrock", f"/model/{TITAN}/invoke", JSON),
]


@pytest.fixture
def gateway(emulator: EmulatorServer) -> Iterator[ServedGateway]:
    with ServedGateway(emulator) as served:
        yield served


def test_a_hang_up_mid_upload_is_a_499_on_every_surface(
    gateway: ServedGateway, emulator: EmulatorServer
) -> None:
    for request_id, path, content_type in UPLOADS:
        upload = RawPost(
            gateway.url,
            path,
            headers={"Content-Type": content_type, "X-Request-ID": request_id},
            length=200_000,
        ).start()
        upload.send(b"--b0undary\r\n" if content_type == MULTIPART else b'{"prompt": "a')
        upload.close()

    ids = {request_id for request_id, _, _ in UPLOADS}
    records = gateway.wait_for_records(lambda r: r.get("request_id") in ids, count=len(UPLOADS))
    by_id = {record["request_id"]: record for record in records}
    for request_id, path, _ in UPLOADS:
        record = by_id[request_id]
        assert (record["path"], record["status"], record["level"]) == (path, 499, "info")
        assert record["problem"] == "client-closed-request"
        counted = gateway.metric(
            "gateway_requests_total", route=record["route"], method="POST", status="499"
        )
        assert counted == 1, (path, record["route"])
    assert gateway.metric("gateway_requests_total", status="500") == 0
    assert errors_logged(gateway) == []
    assert emulator.stats()["total"] == 0
