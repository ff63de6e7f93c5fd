"""Requests the fuzz run found answered with a 5xx, each kept as the smallest request that did."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        # A list or an object is unhashable: choosing the model by it raised TypeError (500).
        (
            "/v1/images/control",
            {"control": ["sketch"], "prompt": "a cat"},
            "control",
            "must be one of sketch, structure",
        ),
        (
            "/v1/images/upscale",
            {"mode": {"fast": True}},
            "mode",
            "must be one of conservative, creative, fast",
        ),
    ],
)
async def test_a_selecting_field_of_another_json_type_is_refused_by_name(
    gateway: httpx.AsyncClient, path: str, body: dict[str, object], field: str, message: str
) -> None:
    answer = await gateway.post(path, json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert {"field": field, "message": message} in answer.json()["errors"]
