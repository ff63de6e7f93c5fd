"""GET / (where to go next), GET /v1/models?task=... and GET /v1/models/{model_id}, and JSON a
person can read: indented for a browser or `?pretty`."""

from __future__ import annotations

import json

import httpx
import pytest

from app.auth.keygen import hash_key
from emulator.testing import EmulatorServer
from tests.support.gateway import open_gateway, settings_for

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
LINKS = {
    "docs": "/docs",
    "redoc": "/redoc",
    "playground": "/playground",
    "openapi": "/openapi.json",
    "models": "/v1/models",
    "health": "/healthz",
}


async def test_root_links_the_docs_the_playground_and_the_spec(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"name": "Bedrock image gateway", "version": "0.1.0", "links": LINKS}
    for name in ("docs", "redoc", "openapi", "models", "health"):
        assert (await gateway.get(LINKS[name])).status_code == 200, name


async def test_root_is_a_page_of_links_for_a_browser(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/", headers=BROWSER)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    for href in LINKS.values():
        assert f'<a href="{href}">' in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_task_filters_the_list(gateway: httpx.AsyncClient) -> None:
    everything = (await gateway.get("/v1/models")).json()["models"]
    upscalers = (await gateway.get("/v1/models", params={"task": "upscale"})).json()["models"]
    assert [m["id"] for m in upscalers] == [
        m["id"] for m in everything if any(t["task"] == "upscale" for t in m["tasks"])
    ]
    assert {m["id"] for m in upscalers} == {
        "stability.stable-fast-upscale-v1:0",
        "stability.stable-conservative-upscale-v1:0",
        "stability.stable-creative-upscale-v1:0",
    }
    guided = (await gateway.get("/v1/models?task=color-guided")).json()["models"]
    assert {m["id"] for m in guided} == {
        "amazon.titan-image-generator-v2:0",
        "amazon.nova-canvas-v1:0",
    }


async def test_an_unknown_task_is_a_problem_naming_task(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/v1/models", params={"task": "painting"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "/problems/validation-error"
    assert [e["field"] for e in problem["errors"]] == ["task"]
    assert "'text-to-image'" in problem["errors"][0]["message"]


@pytest.mark.parametrize(
    "name",
    [
        "titan",
        "amazon.titan-image-generator-v1",
        "AMAZON.TITAN-IMAGE-GENERATOR-V1",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-image-generator-v1",
    ],
)
async def test_one_model_by_any_of_its_names(gateway: httpx.AsyncClient, name: str) -> None:
    answer = await gateway.get(f"/v1/models/{name}")
    assert answer.status_code == 200, answer.text
    model = answer.json()
    listed = (await gateway.get("/v1/models")).json()["models"]
    assert model == next(m for m in listed if m["id"] == "amazon.titan-image-generator-v1")


async def test_a_profile_id_with_its_geography_finds_the_model(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/v1/models/us.stability.sd3-5-large-v1:0")
    assert answer.status_code == 200
    assert answer.json()["id"] == "stability.sd3-5-large-v1:0"


async def test_an_unknown_model_is_a_404_with_a_suggestion(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/v1/models/titna")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "/problems/model-not-found"
    assert problem["detail"] == (
        "no model is named 'titna' (did you mean 'titan'?); GET /v1/models lists them"
    )
    far = (await gateway.get("/v1/models/" + "q" * 300)).json()
    assert far["detail"] == f"no model is named '{'q' * 100}...'; GET /v1/models lists them"


@pytest.mark.parametrize(
    ("path", "headers", "indented"),
    [
        ("/v1/models", {}, False),
        ("/v1/models?pretty", {}, True),
        ("/v1/models?pretty=1", {}, True),
        ("/v1/models?pretty=false", {}, False),
        ("/v1/models", BROWSER, True),
        ("/v1/models/sdxl", {}, False),
        ("/v1/models/sdxl?pretty", {}, True),
        ("/v1/models/sdxl", BROWSER, True),
    ],
)
async def test_pretty_json_for_a_browser_or_on_request(
    gateway: httpx.AsyncClient, path: str, headers: dict[str, str], indented: bool
) -> None:
    answer = await gateway.get(path, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = json.loads(answer.content)
    expected = json.dumps(body, indent=2, ensure_ascii=False) if indented else None
    if indented:
        assert answer.text == expected
    else:
        assert "\n" not in answer.text


async def test_lookups_need_a_key_as_the_list_does_and_the_root_does_not(
    emulator: EmulatorServer,
) -> None:
    keys = [{"name": "ci", "hash": hash_key("the-key")}]
    async with open_gateway(settings_for(emulator, api_keys=keys)) as client:
        for path in ("/v1/models", "/v1/models?task=upscale", "/v1/models/titan"):
            assert (await client.get(path)).status_code == 401, path
            keyed = await client.get(path, headers={"X-API-Key": "the-key"})
            assert keyed.status_code == 200, path
        assert (await client.get("/")).status_code == 200
