"""API keys (issue 8): each outcome on each surface, as its own clients see it.

One gateway under uvicorn holds two keys: `full` (every model and task) and `limited` (Titan G1
text-to-image only), the latter made by `python -m app keys create` so the command's own output is
what authenticates. Native callers use httpx, OpenAI callers the OpenAI SDK, Bedrock callers boto3
with AWS_BEARER_TOKEN_BEDROCK, the way AWS's examples send a Bedrock API key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import openai
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from app.auth.keygen import hash_key, new_key
from app.auth.keys import ANONYMOUS, ApiKey, KeyConfigError, find_key
from app.main import create_app
from emulator.testing import EmulatorServer
from tests.support.gateway import b64, data, open_gateway, settings_for
from tests.support.live import GatewayServer

TITAN = "amazon.titan-image-generator-v1"
SDXL = "stability.stable-diffusion-xl-v1"
CHALLENGE = 'Bearer realm="bedrock-image-gateway"'
FULL_KEY = new_key()
WRONG_KEY = new_key()
T2I = {"prompt": "a lighthouse at dusk", "model": "titan", "width": 512, "height": 512, "n": 1}
VARIATIONS = {"images": [b64(data("astronaut.png"))], "prompt": "a portrait", "model": "titan"}


def created(*args: str) -> tuple[str, dict[str, Any]]:
    """Run `python -m app keys create ARGS`: the key it shows and the entry it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "app", "keys", "create", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith("API key (shown once; the gateway stores only its hash): ")
    assert lines[1] == "GATEWAY_API_KEYS entry:"
    entry: dict[str, Any] = json.loads(lines[2])
    return lines[0].rsplit(" ", 1)[1], entry


@pytest.fixture(scope="module")
def limited() -> tuple[str, dict[str, Any]]:
    """A key made by the command: Titan G1, text-to-image only."""
    return created("--name", "limited", "--models", "titan", "--tasks", "text-to-image")


@pytest.fixture(scope="module")
def live(
    emulator_server: EmulatorServer, limited: tuple[str, dict[str, Any]]
) -> Iterator[GatewayServer]:
    """One gateway for the module holding both keys."""
    keys = [{"name": "full", "hash": hash_key(FULL_KEY)}, limited[1]]
    with GatewayServer(settings_for(emulator_server, api_keys=keys, max_attempts=1)) as server:
        yield server


@pytest.fixture
def wire(live: GatewayServer, emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """Plain HTTP on the gateway (a clean emulator behind it)."""
    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for `key`."""
    return {"Authorization": f"Bearer {key}"}


def assert_challenge(response: httpx.Response) -> None:
    """A 401 that tells the caller how to authenticate, without echoing what it sent."""
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert WRONG_KEY not in response.text
    assert response.headers["x-request-id"]


# --- native API --------------------------------------------------------------------------------


class TestNative:
    def test_no_key(self, wire: httpx.Client, emulator: EmulatorServer) -> None:
        response = wire.post("/v1/images/text-to-image", json=T2I)
        assert_challenge(response)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["type"] == "/problems/unauthorized"
        assert body["detail"] == (
            "an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        )
        assert body["request_id"] == response.headers["x-request-id"]
        assert emulator.requests() == []

    @pytest.mark.parametrize(
        "headers",
        [
            bearer(WRONG_KEY),
            {"X-API-Key": WRONG_KEY},
            {"Authorization": "Bearer"},
            {"Authorization": "Basic eA=="},
        ],
        ids=["bearer", "x-api-key", "empty-bearer", "basic"],
    )
    def test_wrong_key(
        self, wire: httpx.Client, emulator: EmulatorServer, headers: dict[str, str]
    ) -> None:
        response = wire.post("/v1/images/text-to-image", json=T2I, headers=headers)
        assert_challenge(response)
        assert response.json()["type"] == "/problems/unauthorized"
        assert emulator.requests() == []

    def test_other_scheme_says_why(self, wire: httpx.Client) -> None:
        response = wire.post(
            "/v1/images/text-to-image", json=T2I, headers={"Authorization": "Basic eA=="}
        )
        assert response.json()["detail"].startswith(
            "the Authorization header is not a Bearer token"
        )

    @pytest.mark.parametrize(
        "headers",
        [bearer(FULL_KEY), {"X-API-Key": FULL_KEY}, {"authorization": f"bearer  {FULL_KEY}"}],
        ids=["bearer", "x-api-key", "lower-case-scheme"],
    )
    def test_right_key(self, wire: httpx.Client, headers: dict[str, str]) -> None:
        response = wire.post("/v1/images/text-to-image", json=T2I, headers=headers)
        assert response.status_code == 200, response.text
        assert len(response.json()["images"]) == 1

    def test_x_api_key_wins_over_authorization(self, wire: httpx.Client) -> None:
        # A proxy in front may use Authorization for itself; X-API-Key is the gateway's.
        headers = {"X-API-Key": FULL_KEY, "Authorization": f"Bearer {WRONG_KEY}"}
        assert wire.post("/v1/images/text-to-image", json=T2I, headers=headers).status_code == 200
        headers = {"X-API-Key": WRONG_KEY, "Authorization": f"Bearer {FULL_KEY}"}
        assert wire.post("/v1/images/text-to-image", json=T2I, headers=headers).status_code == 401

    def test_limited_key_own_model_and_task(
        self, wire: httpx.Client, limited: tuple[str, dict[str, Any]]
    ) -> None:
        response = wire.post("/v1/images/text-to-image", json=T2I, headers=bearer(limited[0]))
        assert response.status_code == 200, response.text
        # An alias and the id name the same model.
        by_id = {**T2I, "model": TITAN}
        response = wire.post("/v1/images/text-to-image", json=by_id, headers=bearer(limited[0]))
        assert response.status_code == 200, response.text

    def test_limited_key_other_model(
        self, wire: httpx.Client, emulator: EmulatorServer, limited: tuple[str, dict[str, Any]]
    ) -> None:
        body = {**T2I, "model": "sdxl", "width": 1024, "height": 1024}
        response = wire.post("/v1/images/text-to-image", json=body, headers=bearer(limited[0]))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "/problems/forbidden"
        assert problem["detail"] == f"the API key 'limited' may not use model {SDXL}"
        assert limited[0] not in response.text
        assert emulator.requests() == []

    def test_limited_key_other_task(
        self, wire: httpx.Client, emulator: EmulatorServer, limited: tuple[str, dict[str, Any]]
    ) -> None:
        response = wire.post("/v1/images/variations", json=VARIATIONS, headers=bearer(limited[0]))
        assert response.status_code == 403
        assert response.json()["detail"] == (
            f"the API key 'limited' may not use task variations with {TITAN}"
        )
        assert emulator.requests() == []
        # The full key may.
        response = wire.post("/v1/images/variations", json=VARIATIONS, headers=bearer(FULL_KEY))
        assert response.status_code == 200, response.text

    def test_model_list_needs_a_key(self, wire: httpx.Client) -> None:
        assert_challenge(wire.get("/v1/models"))
        assert wire.get("/v1/models", headers=bearer(FULL_KEY)).status_code == 200

    def test_open_paths(self, wire: httpx.Client) -> None:
        # The documentation (the committed spec) spends nothing and names no caller.
        assert wire.get("/openapi.json").status_code == 200
        assert wire.get("/docs").status_code == 200
        # The pages and the files they load; the calls the playground makes carry the key.
        for path in ("/redoc", "/playground", "/static/vendor/swagger-ui-bundle.js"):
            assert wire.get(path).status_code == 200, path
        assert wire.get("/static/nothing-here.js").status_code == 404
        # A CORS preflight never carries a key: it is not refused for lacking one.
        assert wire.options("/v1/images/text-to-image").status_code != 401


# --- OpenAI-compatible surface (the OpenAI SDK) -------------------------------------------------


def sdk(live: GatewayServer, api_key: str, **headers: str) -> openai.OpenAI:
    """The OpenAI SDK on the gateway, no retries."""
    return openai.OpenAI(
        base_url=f"{live.url}/openai/v1", api_key=api_key, max_retries=0, default_headers=headers
    )


class TestOpenAI:
    def test_no_key(self, wire: httpx.Client) -> None:
        # The SDK always sends a key; a raw call shows the refusal in OpenAI's shape.
        response = wire.post("/openai/v1/images/generations", json={"prompt": "a fox"})
        assert_challenge(response)
        error = response.json()["error"]
        assert error["type"] == "authentication_error"
        assert error["message"].startswith("an API key is required")

    def test_wrong_key(self, live: GatewayServer, emulator: EmulatorServer) -> None:
        with sdk(live, WRONG_KEY) as client, pytest.raises(openai.AuthenticationError) as caught:
            client.images.generate(prompt="a fox", model="titan", size="512x512")
        assert caught.value.status_code == 401
        assert caught.value.response.headers["www-authenticate"] == CHALLENGE
        assert caught.value.message.startswith("Error code: 401")
        assert "the API key is not valid" in caught.value.message
        assert WRONG_KEY not in caught.value.response.text
        assert emulator.requests() == []

    def test_right_key_bearer(self, live: GatewayServer, emulator: EmulatorServer) -> None:
        with sdk(live, FULL_KEY) as client:
            response = client.images.generate(prompt="a fox", model="titan", size="512x512")
        assert response.data is not None
        assert len(response.data) == 1

    def test_right_key_x_api_key(self, live: GatewayServer, emulator: EmulatorServer) -> None:
        with sdk(live, "unused", **{"X-API-Key": FULL_KEY}) as client:
            response = client.images.generate(prompt="a fox", model="titan", size="512x512")
        assert response.data is not None
        assert len(response.data) == 1

    def test_limited_key(
        self, live: GatewayServer, emulator: EmulatorServer, limited: tuple[str, dict[str, Any]]
    ) -> None:
        with sdk(live, limited[0]) as client:
            ok = client.images.generate(prompt="a fox", model="titan", size="512x512")
            assert ok.data is not None
            assert len(ok.data) == 1
            with pytest.raises(openai.PermissionDeniedError) as model:
                client.images.generate(prompt="a fox", model="sdxl", size="1024x1024")
            with pytest.raises(openai.PermissionDeniedError) as task:
                # An edit without a mask or transparency: variations of the image.
                client.images.edit(
                    image=("astronaut.png", data("astronaut.png"), "image/png"),
                    model="titan",
                    prompt="a portrait",
                )
        assert model.value.status_code == task.value.status_code == 403
        assert f"the API key 'limited' may not use model {SDXL}" in model.value.message
        assert f"may not use task variations with {TITAN}" in task.value.message
        assert len(emulator.requests()) == 1


# --- Bedrock-compatible surface (boto3 with AWS_BEARER_TOKEN_BEDROCK) ---------------------------


def titan_body(task: str = "TEXT_IMAGE") -> str:
    """A Titan G1 InvokeModel body."""
    config = {"numberOfImages": 1, "width": 512, "height": 512}
    if task == "TEXT_IMAGE":
        params: dict[str, Any] = {"textToImageParams": {"text": "a lighthouse"}}
    else:
        images = [b64(data("astronaut.png"))]
        params = {"imageVariationParams": {"text": "a portrait", "images": images}}
    return json.dumps({"taskType": task, **params, "imageGenerationConfig": config})


SDXL_BODY = json.dumps({"text_prompts": [{"text": "a lighthouse"}], "width": 1024, "height": 1024})


@pytest.fixture
def runtime(
    live: GatewayServer, bedrock_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """boto3 clients on the gateway; the key (if any) from AWS_BEARER_TOKEN_BEDROCK."""
    clients: list[Any] = []

    def make(key: str | None) -> Any:
        if key is None:
            monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK", raising=False)
        else:
            monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", key)
        client = boto3.client(
            "bedrock-runtime",
            endpoint_url=live.url,
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=60),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def invoke(client: Any, model_id: str, body: str) -> dict[str, Any]:
    """InvokeModel through boto3; the parsed answer."""
    response = client.invoke_model(
        body=body, modelId=model_id, accept="application/json", contentType="application/json"
    )
    answer: dict[str, Any] = json.loads(response["body"].read())
    return answer


def refused(client: Any, model_id: str, body: str) -> ClientError:
    """The ClientError boto3 raises for this call."""
    with pytest.raises(ClientError) as caught:
        invoke(client, model_id, body)
    return caught.value


class TestBedrock:
    def test_no_key_signature_only(self, runtime: Any, emulator: EmulatorServer) -> None:
        # Without a bearer token boto3 signs with SigV4 (the test's dummy credentials).
        error = refused(runtime(None), TITAN, titan_body())
        meta = error.response["ResponseMetadata"]
        assert meta["HTTPStatusCode"] == 401
        assert meta["HTTPHeaders"]["www-authenticate"] == CHALLENGE
        assert error.response["Error"]["Code"] == "UnrecognizedClientException"
        assert error.response["Error"]["Message"].startswith(
            "the Authorization header is not a Bearer token"
        )
        assert emulator.requests() == []

    def test_no_key_at_all(self, wire: httpx.Client) -> None:
        response = wire.post(f"/model/{TITAN}/invoke", content=titan_body())
        assert_challenge(response)
        assert response.headers["x-amzn-errortype"] == "UnrecognizedClientException"
        assert response.json()["message"].startswith("an API key is required")

    def test_wrong_key(self, runtime: Any, emulator: EmulatorServer) -> None:
        error = refused(runtime(WRONG_KEY), TITAN, titan_body())
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 401
        assert error.response["ResponseMetadata"]["HTTPHeaders"]["www-authenticate"] == CHALLENGE
        assert error.response["Error"] == {
            "Code": "UnrecognizedClientException",
            "Message": "the API key is not valid",
        }
        assert emulator.requests() == []

    def test_right_key_bearer(self, runtime: Any, emulator: EmulatorServer) -> None:
        assert len(invoke(runtime(FULL_KEY), TITAN, titan_body())["images"]) == 1
        # The caller's key stays with the gateway: Bedrock sees the gateway's own signature.
        [record] = emulator.requests()
        assert record["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 ")
        assert FULL_KEY not in json.dumps(record["headers"])

    def test_right_key_x_api_key(self, wire: httpx.Client) -> None:
        response = wire.post(
            f"/model/{TITAN}/invoke", content=titan_body(), headers={"X-API-Key": FULL_KEY}
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["images"]) == 1

    def test_limited_key(
        self, runtime: Any, emulator: EmulatorServer, limited: tuple[str, dict[str, Any]]
    ) -> None:
        client = runtime(limited[0])
        assert len(invoke(client, TITAN, titan_body())["images"]) == 1
        model = refused(client, SDXL, SDXL_BODY)
        task = refused(client, TITAN, titan_body("IMAGE_VARIATION"))
        for error in (model, task):
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            assert error.response["Error"]["Code"] == "AccessDeniedException"
        assert model.response["Error"]["Message"] == (
            f"the API key 'limited' may not use model {SDXL}"
        )
        assert task.response["Error"]["Message"] == (
            f"the API key 'limited' may not use task variations with {TITAN}"
        )
        assert len(emulator.requests()) == 1


# --- no keys, start-up checks, the key functions -------------------------------------------------


async def test_no_keys_configured_is_open(emulator: EmulatorServer) -> None:
    async with open_gateway(settings_for(emulator)) as client:
        response = await client.post("/v1/images/text-to-image", json=T2I)
        assert response.status_code == 200, response.text
        assert "www-authenticate" not in response.headers


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"name": "ci", "hash": "md5:abc"},
            "GATEWAY_API_KEYS[0] ('ci') is not a valid API key: hash: Value error, must be "
            "'sha256:' and 64 lowercase hex digits, as `python -m app keys create` prints it",
        ),
        (
            {"name": "ci", "hash": hash_key("k"), "models": ["nope"]},
            "GATEWAY_API_KEYS[0] ('ci'): models: no model is named 'nope'",
        ),
        (
            {"name": "ci", "hash": hash_key("k"), "tasks": ["paint"]},
            "GATEWAY_API_KEYS[0] ('ci') is not a valid API key: tasks.0: Input should be "
            "'text-to-image', 'inpaint', 'outpaint', 'variations', 'image-to-image', 'erase', "
            "'search-replace', 'search-recolor', 'remove-background', 'upscale', "
            "'style-transfer', 'style-guide', 'control', 'color-guided', 'edit' or "
            "'virtual-try-on'",
        ),
        (
            {"name": "ci", "key": "plaintext"},
            "GATEWAY_API_KEYS[0] ('ci') is not a valid API key: hash: Field required; key: Extra "
            "inputs are not permitted",
        ),
        (
            {"name": "ci", "hash": ""},
            "GATEWAY_API_KEYS[0] ('ci') is not a valid API key: hash: is required",
        ),
    ],
)
def test_bad_entries_stop_the_start(
    emulator: EmulatorServer, entry: dict[str, Any], message: str
) -> None:
    with pytest.raises(KeyConfigError) as caught:
        create_app(settings_for(emulator, api_keys=[entry]))
    assert str(caught.value) == message


def test_duplicate_names_and_hashes_stop_the_start(emulator: EmulatorServer) -> None:
    one = {"name": "a", "hash": hash_key("1")}
    for second, what in (
        ({"name": "a", "hash": hash_key("2")}, "name"),
        ({**one, "name": "b"}, "hash"),
    ):
        with pytest.raises(KeyConfigError) as caught:
            create_app(settings_for(emulator, api_keys=[one, second]))
        assert str(caught.value) == f"GATEWAY_API_KEYS: two keys have the same {what}"


def test_command_key_and_entry(limited: tuple[str, dict[str, Any]]) -> None:
    key, entry = limited
    assert entry == {
        "name": "limited",
        "hash": hash_key(key),
        "models": ["titan"],
        "tasks": ["text-to-image"],
    }
    assert key.startswith("big_")
    assert len(key) == 4 + 43  # 32 random bytes, base64url
    key2, entry2 = created(
        "--name", "batch", "--requests-per-minute", "60", "--concurrent-requests", "2"
    )
    assert key2 != key
    assert entry2["limits"] == {"requests_per_minute": 60, "concurrent_requests": 2}


def test_command_refuses_unknown_model() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.auth.command", "create", "--name", "x", "--models", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.endswith("error: models: no model is named 'nope'\n")


def test_find_key_matches_only_its_own_hash() -> None:
    keys = (
        ApiKey(name="a", hash=hash_key("key-a")),
        ApiKey(name="b", hash=hash_key("key-b")),
    )
    assert find_key(keys, "key-b") is keys[1]
    assert find_key(keys, "key-a") is keys[0]
    assert find_key(keys, "key-c") is None
    assert find_key(keys, hash_key("key-a")) is None  # the stored hash is not a key
    assert ANONYMOUS.name == "anonymous"
