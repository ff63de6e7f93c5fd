"""POST /model/{modelId}/invoke: Bedrock's own API, served by the gateway.

boto3 calls a real gateway (tests/support/live.py) in front of the emulator; httpx shows the wire.
The gateway's own Bedrock client makes one attempt (max_attempts=1) and so does boto3, so each
test is about what the gateway answers, not about retries.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import boto3
import httpx
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image

from app.families.registry import BUILTIN_FAMILIES
from app.schemas.images import FinishReason, GeneratedImage
from app.surfaces.bedrock.writers import write
from app.tasks.runner import TaskResult
from emulator.testing import EmulatorServer
from tests.support.gateway import b64, data, image_size, open_gateway, pixels, settings_for
from tests.support.live import GatewayServer

TITAN = "amazon.titan-image-generator-v1"
SDXL = "stability.stable-diffusion-xl-v1"
SD35 = "stability.sd3-5-large-v1:0"
INPAINT_SERVICE = "us.stability.stable-image-inpaint-v1:0"


@pytest.fixture(scope="module")
def live(emulator_server: EmulatorServer) -> Iterator[GatewayServer]:
    """One gateway for the module; the emulator behind it is reset before each test."""
    with GatewayServer(settings_for(emulator_server, max_attempts=1)) as server:
        yield server


@pytest.fixture
def runtime(live: GatewayServer, bedrock_env: EmulatorServer) -> Iterator[Any]:
    """A boto3 bedrock-runtime client on the gateway, one attempt per call."""
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=live.url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=60),
    )
    yield client
    client.close()


@pytest.fixture
def wire(live: GatewayServer) -> Iterator[httpx.Client]:
    """A plain HTTP client on the gateway."""
    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


def invoke(runtime: Any, model_id: str, body: bytes | str) -> dict[str, Any]:
    """InvokeModel through boto3, as AWS's examples call it; the parsed JSON answer."""
    response = runtime.invoke_model(
        body=body, modelId=model_id, accept="application/json", contentType="application/json"
    )
    parsed: dict[str, Any] = json.loads(response["body"].read())
    return parsed


def refusal(runtime: Any, model_id: str, body: bytes | str) -> ClientError:
    """The ClientError boto3 raises for this call."""
    with pytest.raises(ClientError) as caught:
        invoke(runtime, model_id, body)
    return caught.value


def doubled(name: str) -> bytes:
    """A test image at twice its size (nearest neighbour, so masks stay black and white)."""
    with Image.open(io.BytesIO(data(name))) as image:
        out = io.BytesIO()
        image.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST).save(
            out, format="PNG"
        )
    return out.getvalue()


# Each family's body, written as a client would (spacing and key order the gateway must keep).
PASS_THROUGH = {
    TITAN: b'{"imageGenerationConfig": {"seed": 7, "width": 512, "height": 512,'
    b' "numberOfImages": 2},\n "taskType": "TEXT_IMAGE",  "textToImageParams": {"text": "a cup"}}',
    SDXL: json.dumps(
        {
            "text_prompts": [{"text": "A space ship."}, {"text": "blurry", "weight": -1}],
            "init_image": b64(data("astronaut.png")),
            "style_preset": "isometric",
            "seed": 11,
            "extras": {},
        },
        indent=1,
    ).encode(),
    "us." + SD35: b'{"prompt": "a lighthouse", "aspect_ratio": "16:9", "seed": 5}',
    INPAINT_SERVICE: json.dumps(
        {
            "image": b64(data("coffee.png")),
            "mask": b64(data("coffee-mask-white-edit.png")),
            "prompt": "a latte",
            "seed": 3,
        }
    ).encode(),
}


class TestPassThrough:
    @pytest.mark.parametrize("model_id", list(PASS_THROUGH))
    def test_body_and_answer_are_byte_for_byte(
        self, wire: httpx.Client, emulator: EmulatorServer, model_id: str
    ) -> None:
        body = PASS_THROUGH[model_id]
        through = wire.post(f"/model/{model_id}/invoke", content=body)
        assert through.status_code == 200, through.text
        (received,) = emulator.requests()
        assert received["body_bytes"] == len(body)
        assert received["body"] == json.loads(body)
        direct = httpx.post(f"{emulator.url}/model/{model_id}/invoke", content=body, timeout=60)
        assert direct.status_code == 200
        assert through.content == direct.content
        assert through.headers["content-type"] == direct.headers["content-type"]
        assert through.headers["served-model"] == received["resolved_model_id"]

    def test_no_content_type_is_accepted(self, wire: httpx.Client) -> None:
        response = wire.post(f"/model/{TITAN}/invoke", content=PASS_THROUGH[TITAN])
        assert "content-type" not in response.request.headers
        assert response.status_code == 200
        assert len(response.json()["images"]) == 2

    def test_request_id_is_bedrocks_header(self, runtime: Any, wire: httpx.Client) -> None:
        response = wire.post(
            f"/model/{TITAN}/invoke",
            content=PASS_THROUGH[TITAN],
            headers={"X-Request-ID": "req-42", "Authorization": "Bearer anything"},
        )
        assert response.headers["x-amzn-RequestId"] == "req-42"
        answer = runtime.invoke_model(modelId=TITAN, body=PASS_THROUGH[TITAN])
        assert len(answer["ResponseMetadata"]["RequestId"]) == 32

    def test_the_models_content_type_comes_back(self, runtime: Any) -> None:
        answer = runtime.invoke_model(modelId=TITAN, body=PASS_THROUGH[TITAN])
        assert answer["contentType"] == "application/json"
        images = json.loads(answer["body"].read())["images"]
        assert [image_size(i) for i in images] == [(512, 512), (512, 512)]


class TestModelIds:
    @pytest.mark.parametrize(
        ("model_id", "target"),
        [
            (f"arn:aws:bedrock:us-east-1::foundation-model/{TITAN}", TITAN),
            (f"us.{TITAN}", TITAN),
            ("titan", TITAN),
            (f"arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.{SD35}", "us." + SD35),
            (SD35, "us." + SD35),
        ],
    )
    def test_ids_profiles_and_arns_reach_the_models_target(
        self, runtime: Any, emulator: EmulatorServer, model_id: str, target: str
    ) -> None:
        body = PASS_THROUGH[TITAN] if target == TITAN else PASS_THROUGH["us." + SD35]
        invoke(runtime, model_id, body)  # botocore percent-encodes ':' and '/'
        assert [r["model_id"] for r in emulator.requests()] == [target]

    def test_percent_encoded_path(self, wire: httpx.Client, emulator: EmulatorServer) -> None:
        encoded = "arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2F" + TITAN.replace(
            ":", "%3A"
        )
        response = wire.post(f"/model/{encoded}/invoke", content=PASS_THROUGH[TITAN])
        assert response.status_code == 200, response.text
        assert [r["model_id"] for r in emulator.requests()] == [TITAN]

    def test_unknown_model_is_bedrocks_validation_error(
        self, runtime: Any, wire: httpx.Client, emulator: EmulatorServer
    ) -> None:
        error = refusal(runtime, "amazon.titan-image-generator-v9", PASS_THROUGH[TITAN])
        assert error.response["Error"]["Code"] == "ValidationException"
        assert error.response["Error"]["Message"] == "The provided model identifier is invalid."
        response = wire.post("/model/nope/invoke", content=b"{}")
        assert response.status_code == 400
        assert response.headers["x-amzn-ErrorType"] == "ValidationException"
        assert response.json() == {"message": "The provided model identifier is invalid."}
        assert emulator.requests() == []


BAD_BODIES = [
    (
        TITAN,
        {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "x" * 513, "colour": "red"},
            "imageGenerationConfig": {"numberOfImages": 6, "cfgScale": 11, "width": 500},
        },
        [
            "#/textToImageParams/text: is 513 characters",
            "#/textToImageParams: extraneous key [colour] is not permitted",
            "#/imageGenerationConfig/numberOfImages: 6 is not less or equal to 5",
            "#/imageGenerationConfig/cfgScale: ",
            "#/imageGenerationConfig/height: width and height must be given together",
        ],
    ),
    (
        TITAN,
        {
            "taskType": "IMAGE_VARIATION",
            "imageVariationParams": {"images": [b64(data("astronaut.png")), "bm90IGFuIGltYWdl"]},
        },
        ["#/imageVariationParams/images/1: "],
    ),
    (
        TITAN,
        {
            "taskType": "INPAINTING",
            "inPaintingParams": {
                "image": b64(data("coffee.png")),
                "maskImage": b64(data("astronaut.png")),
            },
        },
        ["#/inPaintingParams/maskImage: "],
    ),
    (
        TITAN,
        {"taskType": "COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams": {"text": "x"}},
        [
            "#/taskType: amazon.titan-image-generator-v1 cannot do color-guided",
            "#/colorGuidedGenerationParams/colors: Field required",
        ],
    ),
    (TITAN, {"taskType": "PAINT"}, ["#/taskType: 'PAINT' is not a valid enum value"]),
    (
        SDXL,
        {
            "text_prompts": [{"text": "y" * 2001}, {"text": "z", "weight": "low"}],
            "cfg_scale": 40,
            "samples": 2,
            "size": 3,
        },
        [
            "#/text_prompts/0/text: is 2001 characters",
            "#/text_prompts/1/weight: expected type: Number, found: String",
            "#/cfg_scale: ",
            "#/samples: 2 is not 1",
            "#: extraneous key [size] is not permitted",
        ],
    ),
    (
        SDXL,
        {
            "text_prompts": [{"text": "x"}],
            "init_image": b64(data("astronaut.png")),
            "mask_source": "MASK_IMAGE_GREY",
        },
        [
            "#/mask_source: 'MASK_IMAGE_GREY' is not a valid enum value",
            "#/mask_image: mask is required",
        ],
    ),
    (
        SD35,
        {"prompt": "x", "negative_prompt": 5, "seed": 4_294_967_295, "mode": "sketch", "width": 5},
        [
            "#/negative_prompt: expected type: String, found: Number",
            "#/seed: ",
            "#/mode: 'sketch' is not a valid enum value",
            "#: extraneous key [width] is not permitted",
        ],
    ),
    (
        INPAINT_SERVICE,
        {
            "image": b64(data("coffee.png")),
            "mask": b64(data("coffee-mask-white-edit.png")),
            "prompt": "x",
            "grow_mask": 101,
            "n": 2,
        },
        ["#/grow_mask: ", "#: extraneous key [n] is not permitted"],
    ),
]


class TestValidation:
    @pytest.mark.parametrize(
        ("model_id", "body", "expected"),
        BAD_BODIES,
        ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(BAD_BODIES)],
    )
    def test_bad_body_names_each_field_by_its_path_and_calls_nothing(
        self,
        runtime: Any,
        emulator: EmulatorServer,
        model_id: str,
        body: dict[str, Any],
        expected: list[str],
    ) -> None:
        error = refusal(runtime, model_id, json.dumps(body))
        assert error.response["Error"]["Code"] == "ValidationException"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        message = error.response["Error"]["Message"]
        assert message.startswith(f"{len(expected)} schema violation")
        for part in expected:
            assert part in message, message
        assert emulator.requests() == []

    def test_malformed_json(self, wire: httpx.Client, emulator: EmulatorServer) -> None:
        response = wire.post(f"/model/{TITAN}/invoke", content=b'{"taskType": ')
        assert response.status_code == 400
        assert response.headers["x-amzn-ErrorType"] == "ValidationException"
        assert response.json()["message"].startswith("Malformed input request")
        assert emulator.requests() == []

    def test_a_body_not_an_object(self, wire: httpx.Client) -> None:
        response = wire.post(f"/model/{SD35}/invoke", content=b"[1]")
        assert response.json() == {
            "message": "1 schema violation found: #: expected type: JSONObject, found: JSONArray"
        }

    def test_body_over_bedrocks_cap(self, wire: httpx.Client, emulator: EmulatorServer) -> None:
        response = wire.post(f"/model/{SD35}/invoke", content=b" " * 25_000_001)
        assert response.status_code == 400
        assert response.headers["x-amzn-ErrorType"] == "ValidationException"
        assert "at most 23.8 MiB (25000000 bytes)." in response.json()["message"]
        assert emulator.requests() == []

    async def test_body_over_the_gateways_cap_while_streaming(
        self, emulator: EmulatorServer
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b" " * 600

        async with open_gateway(settings_for(emulator, max_body_bytes=1000)) as client:
            response = await client.post(f"/model/{SD35}/invoke", content=chunks())
        assert response.status_code == 400
        assert response.headers["x-amzn-ErrorType"] == "ValidationException"
        assert "over the limit of 1000 bytes" in response.json()["message"]


class TestUpstreamErrors:
    @pytest.mark.parametrize(
        ("code", "status"),
        [
            ("ThrottlingException", 429),
            ("ModelNotReadyException", 429),
            ("ServiceUnavailableException", 503),
            ("InternalServerException", 500),
            ("AccessDeniedException", 403),
            ("ServiceQuotaExceededException", 400),
            ("ModelTimeoutException", 408),
            ("ValidationException", 400),
        ],
    )
    def test_faults_come_back_as_the_same_modeled_exception(
        self, runtime: Any, emulator: EmulatorServer, code: str, status: int
    ) -> None:
        emulator.set_faults(schedule=[{"fault": code, "message": f"upstream says {code}"}])
        error = refusal(runtime, TITAN, PASS_THROUGH[TITAN])
        assert isinstance(error, getattr(runtime.exceptions, code))
        assert error.response["Error"]["Message"] == f"upstream says {code}"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
        assert len(emulator.requests()) == 1

    def test_model_error_keeps_its_fields(self, runtime: Any, emulator: EmulatorServer) -> None:
        emulator.set_faults(
            schedule=[{"fault": "ModelErrorException", "original_status_code": 502}]
        )
        error = refusal(runtime, SDXL, PASS_THROUGH[SDXL])
        assert isinstance(error, runtime.exceptions.ModelErrorException)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 424
        assert error.response["originalStatusCode"] == 502

    def test_retired_model_is_gone_naming_its_successors(
        self, runtime: Any, emulator: EmulatorServer
    ) -> None:
        emulator.set_retired([TITAN])
        error = refusal(runtime, TITAN, PASS_THROUGH[TITAN])
        assert isinstance(error, runtime.exceptions.ResourceNotFoundException)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 410
        message = error.response["Error"]["Message"]
        assert SD35 in message
        assert f'GATEWAY_REPLACEMENTS={{"{TITAN}":{{}}}}' in message

    def test_a_missing_model_not_marked_retired_stays_bedrocks_404(
        self, runtime: Any, emulator: EmulatorServer
    ) -> None:
        emulator.set_faults(
            schedule=[{"fault": "ResourceNotFoundException", "message": "not in this region"}]
        )
        error = refusal(runtime, "us." + SD35, PASS_THROUGH["us." + SD35])
        assert isinstance(error, runtime.exceptions.ResourceNotFoundException)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert error.response["Error"]["Message"] == "not in this region"

    def test_dropped_connection_is_service_unavailable(
        self, wire: httpx.Client, emulator: EmulatorServer
    ) -> None:
        emulator.set_faults(schedule=[{"fault": "DropConnection"}])
        response = wire.post(f"/model/{TITAN}/invoke", content=PASS_THROUGH[TITAN])
        assert response.status_code == 503
        assert response.headers["x-amzn-ErrorType"] == "ServiceUnavailableException"

    def test_read_timeout_is_model_timeout(self, emulator: EmulatorServer) -> None:
        emulator.set_faults(schedule=[{"fault": "SlowResponse"}], slow_ms=30_000)
        settings = settings_for(emulator, max_attempts=1, read_timeout_s=0.2)
        with GatewayServer(settings) as server:
            response = httpx.post(
                f"{server.url}/model/{TITAN}/invoke", content=PASS_THROUGH[TITAN], timeout=60
            )
        assert response.status_code == 408
        assert response.headers["x-amzn-ErrorType"] == "ModelTimeoutException"


# The seeds' models and a retired Stability model, each to its built-in successors.
REPLACEMENTS: dict[str, dict[str, str]] = {"titan": {}, "sdxl": {}, "sd3-large": {}}
SD3 = "stability.sd3-large-v1:0"


@pytest.fixture
async def replacing(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with the replacement map on for Titan v1, SDXL and SD3 Large."""
    settings = settings_for(emulator, max_attempts=1, replacements=REPLACEMENTS)
    async with open_gateway(settings) as client:
        yield client


def served(emulator: EmulatorServer) -> str:
    """The model the emulator was called with (the replacement map may pick a successor)."""
    models: set[str] = {r["resolved_model_id"] for r in emulator.requests()}
    assert len(models) == 1
    return models.pop()


class TestReplacedPath:
    """The replacement map serves retired models; the answer keeps the caller's family shape."""

    async def test_titan_answer_shape(
        self, replacing: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await replacing.post(f"/model/{TITAN}/invoke", content=PASS_THROUGH[TITAN])
        assert response.status_code == 200, response.text
        answer = response.json()
        assert set(answer) == {"images", "error"}
        assert answer["error"] is None
        assert [image_size(i) for i in answer["images"]] == [(512, 512), (512, 512)]
        assert response.headers["Served-Model"] == served(emulator) != TITAN
        assert response.headers["Deprecation"].startswith("@")
        assert TITAN in response.headers["Warning"]
        assert response.headers["x-amzn-RequestId"]

    async def test_sdxl_answer_shape(
        self, replacing: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await replacing.post(f"/model/{SDXL}/invoke", content=PASS_THROUGH[SDXL])
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["result"] == "success"
        (artifact,) = answer["artifacts"]
        assert set(artifact) == {"seed", "base64", "finishReason"}
        assert artifact["finishReason"] == "SUCCESS"
        assert image_size(artifact["base64"]) == (512, 512)
        assert response.headers["Served-Model"] == served(emulator) != SDXL

    async def test_stability_answer_shape(
        self, replacing: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        body = {"prompt": "a lighthouse", "aspect_ratio": "16:9", "seed": 5}
        response = await replacing.post(f"/model/us.{SD3}/invoke", json=body)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["seeds"] == [5]
        assert answer["finish_reasons"] == [None]
        assert image_size(answer["images"][0]) == (1344, 768)
        assert served(emulator) == SD35

    async def test_stability_filtered(self, replacing: httpx.AsyncClient) -> None:
        response = await replacing.post(f"/model/{SD3}/invoke", json={"prompt": "forbidden"})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["images"] == []
        assert answer["finish_reasons"][0].startswith("Filter reason")

    async def test_titan_outpainting_mask_is_black_where_kept(
        self, replacing: httpx.AsyncClient
    ) -> None:
        """Titan's outpainting mask is black where the image is KEPT, unlike its inpainting mask."""
        mask = Image.new("RGB", (512, 512), (255, 255, 255))
        mask.paste((0, 0, 0), (128, 96, 384, 416))
        out = io.BytesIO()
        mask.save(out, format="PNG")
        body = {
            "taskType": "OUTPAINTING",
            "outPaintingParams": {
                "text": "a garden",
                "image": b64(data("astronaut.png")),
                "maskImage": b64(out.getvalue()),
                "outPaintingMode": "DEFAULT",
            },
            "imageGenerationConfig": {"numberOfImages": 1, "width": 512, "height": 512},
        }
        response = await replacing.post(f"/model/{TITAN}/invoke", json=body)
        assert response.status_code == 200, response.text
        result = pixels(response.json()["images"][0])
        original = pixels(data("astronaut.png"))
        assert result.shape == original.shape
        assert np.array_equal(result[96:416, 128:384], original[96:416, 128:384])
        assert not np.array_equal(result[:96], original[:96])

    @pytest.mark.parametrize(
        ("source", "mask_name", "image_name"),
        [
            ("MASK_IMAGE_BLACK", "coffee-mask-black-edit.png", "coffee.png"),
            ("MASK_IMAGE_WHITE", "coffee-mask-white-edit.png", "coffee.png"),
            ("INIT_IMAGE_ALPHA", None, "coffee-mask-alpha-edit.png"),
        ],
    )
    async def test_sdxl_mask_sources_edit_the_same_pixels(
        self,
        replacing: httpx.AsyncClient,
        emulator: EmulatorServer,
        source: str,
        mask_name: str | None,
        image_name: str,
    ) -> None:
        body: dict[str, Any] = {
            "text_prompts": [{"text": "a latte"}],
            "init_image": b64(doubled(image_name)),
            "mask_source": source,
            "seed": 4,
        }
        if mask_name is not None:
            body["mask_image"] = b64(doubled(mask_name))
        response = await replacing.post(f"/model/{SDXL}/invoke", json=body)
        assert response.status_code == 200, response.text
        out = pixels(response.json()["artifacts"][0]["base64"])[:, :, :3]
        edited = pixels(doubled("coffee-mask-white-edit.png")) > 127
        original = pixels(doubled("coffee.png"))
        assert np.array_equal(out[~edited], original[~edited])
        assert not np.array_equal(out[edited], original[edited])

    async def test_upstream_throttling_maps_back(
        self, replacing: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        emulator.set_faults(schedule=[{"fault": "ThrottlingException"}])
        response = await replacing.post(f"/model/{SD3}/invoke", json={"prompt": "x"})
        assert response.status_code == 429
        assert response.headers["x-amzn-ErrorType"] == "ThrottlingException"

    async def test_successor_refusal_is_a_validation_error(
        self, replacing: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        body = {
            "taskType": "IMAGE_VARIATION",
            "imageVariationParams": {
                "text": "x",
                "images": [b64(data("astronaut.png")), b64(data("chelsea.png"))],
            },
        }
        response = await replacing.post(f"/model/{TITAN}/invoke", json=body)
        assert response.status_code == 400
        assert response.headers["x-amzn-ErrorType"] == "ValidationException"
        assert emulator.requests() == []

    async def test_bad_body_is_refused_before_any_call(
        self, replacing: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await replacing.post(f"/model/{SD3}/invoke", json={"prompt": "x", "seed": -1})
        assert response.status_code == 400
        assert "#/seed: " in response.json()["message"]
        assert emulator.requests() == []


TITAN_V2 = "amazon.titan-image-generator-v2:0"
NOVA = "amazon.nova-canvas-v1:0"


class TestTitanFamilyBodies:
    def test_v2_colour_guided_passes_through(self, runtime: Any, emulator: EmulatorServer) -> None:
        body = {
            "taskType": "COLOR_GUIDED_GENERATION",
            "colorGuidedGenerationParams": {"text": "a bowl", "colors": ["#FF8800", "#0044AA"]},
            "imageGenerationConfig": {"numberOfImages": 1, "width": 512, "height": 512, "seed": 2},
        }
        answer = invoke(runtime, TITAN_V2, json.dumps(body))
        assert image_size(answer["images"][0]) == (512, 512)
        assert emulator.requests()[0]["body"] == body

    def test_nova_background_removal_passes_through(
        self, runtime: Any, emulator: EmulatorServer
    ) -> None:
        body = {
            "taskType": "BACKGROUND_REMOVAL",
            "backgroundRemovalParams": {"image": b64(data("chelsea.png"))},
        }
        answer = invoke(runtime, NOVA, json.dumps(body))
        assert pixels(answer["images"][0]).shape == (300, 451, 4)
        assert emulator.requests()[0]["body"] == body

    @pytest.mark.parametrize(
        ("model_id", "body", "expected"),
        [
            (
                NOVA,
                {
                    "taskType": "BACKGROUND_REMOVAL",
                    "backgroundRemovalParams": {"image": b64(data("chelsea.png"))},
                    "imageGenerationConfig": {"seed": 1},
                },
                ["#: extraneous key [imageGenerationConfig] is not permitted"],
            ),
            (
                TITAN_V2,
                {
                    "taskType": "COLOR_GUIDED_GENERATION",
                    "colorGuidedGenerationParams": {"text": "x", "colors": ["#FF8800", "red"]},
                },
                ["#/colorGuidedGenerationParams/colors/1: "],
            ),
            (
                NOVA,
                {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x", "style": "CUBIST"}},
                ["#/textToImageParams/style: "],
            ),
            (
                TITAN,
                {
                    "taskType": "TEXT_IMAGE",
                    "textToImageParams": {
                        "text": "x",
                        "conditionImage": b64(data("astronaut.png")),
                    },
                },
                ["#/textToImageParams/conditionImage: not taken"],
            ),
            (
                TITAN,
                {"textToImageParams": {"text": "x"}},
                ["#: required key [taskType] not found"],
            ),
        ],
    )
    def test_bad_bodies(
        self,
        runtime: Any,
        emulator: EmulatorServer,
        model_id: str,
        body: dict[str, Any],
        expected: list[str],
    ) -> None:
        message = refusal(runtime, model_id, json.dumps(body)).response["Error"]["Message"]
        assert message.startswith(f"{len(expected)} schema violation"), message
        for part in expected:
            assert part in message, message
        assert emulator.requests() == []


def _result(*images: GeneratedImage) -> TaskResult:
    return TaskResult(model_id=SD35, images=list(images))


OK = GeneratedImage(b64="aW1n", seed=7, finish_reason=FinishReason.SUCCESS)
FILTERED = GeneratedImage(
    b64=None,
    seed=8,
    finish_reason=FinishReason.CONTENT_FILTERED,
    error="Filter reason: output image",
)
FAILED = GeneratedImage(b64=None, seed=9, finish_reason=FinishReason.ERROR, error="model failed")


FAMILIES = {family.name: family for family in BUILTIN_FAMILIES}


class TestWriters:
    def test_titan_lists_what_was_made_and_why_the_rest_was_not(self) -> None:
        assert json.loads(write(FAMILIES["titan"], _result(OK, FILTERED, FAILED))) == {
            "images": ["aW1n"],
            "error": "Filter reason: output image; model failed",
        }
        assert json.loads(write(FAMILIES["titan"], _result(OK))) == {
            "images": ["aW1n"],
            "error": None,
        }

    def test_sdxl_has_one_artifact_per_image(self) -> None:
        assert json.loads(write(FAMILIES["sdxl"], _result(OK, FILTERED, FAILED))) == {
            "result": "success",
            "artifacts": [
                {"seed": 7, "base64": "aW1n", "finishReason": "SUCCESS"},
                {"seed": 8, "base64": "", "finishReason": "CONTENT_FILTERED"},
                {"seed": 9, "base64": "", "finishReason": "ERROR"},
            ],
        }

    @pytest.mark.parametrize("family", ["stability", "stability-edit", "stability-guided"])
    def test_stability_seeds_reasons_images(self, family: str) -> None:
        assert json.loads(write(FAMILIES[family], _result(OK, FILTERED, FAILED))) == {
            "seeds": [7, 8, 9],
            "finish_reasons": [None, "Filter reason: output image", "Inference error"],
            "images": ["aW1n"],
        }
