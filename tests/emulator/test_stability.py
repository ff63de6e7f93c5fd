"""Stability's text-to-image family (SD3/SD3.5 Large, Ultra, Core): schema, images, filter."""

from __future__ import annotations

import base64
import io
import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import orjson
import pytest
from PIL import Image

from emulator.imaging.codec import decode_b64, image_info
from emulator.models.base import BedrockError, Invocation
from emulator.models.stability import SPECS
from emulator.models.vocab import ASPECT_RATIO_SIZES, FILTER_PROMPT, STABILITY_SEED_MAX
from emulator.testing import EmulatorServer
from tests.support.files import DATA

MODELS = {spec.model_id: spec for spec in SPECS}
SD35 = "stability.sd3-5-large-v1:0"
SD3 = "stability.sd3-large-v1:0"
ULTRA = "stability.stable-image-ultra-v1:1"
ULTRA_V0 = "stability.stable-image-ultra-v1:0"
CORE = "stability.stable-image-core-v1:1"
CORE_V0 = "stability.stable-image-core-v1:0"
IMAGE_TO_IMAGE_MODELS = (SD35, SD3, ULTRA)
TEXT_ONLY_MODELS = (CORE, CORE_V0, ULTRA_V0)
STYLE_MODELS = (ULTRA, ULTRA_V0, CORE, CORE_V0)
COFFEE = base64.b64encode((DATA / "coffee.png").read_bytes()).decode("ascii")


def invoke(model: str, body: dict[str, Any], blocked: tuple[str, ...] = ()) -> dict[str, Any]:
    """Call a model's handler as the server does."""
    return MODELS[model].invoke(Invocation(model, model, body, blocked))


def refused(model: str, body: dict[str, Any]) -> str:
    """The ValidationException message a body gets."""
    with pytest.raises(BedrockError) as caught:
        invoke(model, body)
    assert caught.value.code == "ValidationException"
    assert caught.value.status == 400
    return caught.value.message


def pixels_of(response: dict[str, Any]) -> np.ndarray:
    assert response["finish_reasons"] == [None]
    assert len(response["images"]) == 1
    return decode_b64(response["images"][0])


def png_b64(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 150)).save(buffer, format="PNG", compress_level=1)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def i2i(strength: float = 0.5, **extra: Any) -> dict[str, Any]:
    return {
        "prompt": "a green cup",
        "mode": "image-to-image",
        "image": COFFEE,
        "strength": strength,
        **extra,
    }


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_the_six_models_are_served_on_demand() -> None:
    assert set(MODELS) == {SD35, SD3, ULTRA, ULTRA_V0, CORE, CORE_V0}
    for spec in SPECS:
        assert spec.family == "stability-t2i"
        assert not spec.profile_only


class TestTextToImage:
    @pytest.mark.parametrize("model", sorted(MODELS))
    def test_default_is_a_square_png(self, model: str) -> None:
        response = invoke(model, {"prompt": "a red kite over the sea", "seed": 7})
        assert response["seeds"] == [7]
        assert image_info(response["images"][0])[:3] == ("png", 1024, 1024)
        assert pixels_of(response).shape == (1024, 1024, 3)

    @pytest.mark.parametrize("aspect_ratio", sorted(ASPECT_RATIO_SIZES))
    def test_aspect_ratio_sets_the_size(self, aspect_ratio: str) -> None:
        response = invoke(CORE, {"prompt": "dunes", "aspect_ratio": aspect_ratio, "seed": 1})
        width, height = ASPECT_RATIO_SIZES[aspect_ratio]
        assert pixels_of(response).shape == (height, width, 3)

    @pytest.mark.parametrize(
        ("model", "fmt"),
        [(SD35, "webp"), (SD35, "jpeg"), (CORE, "jpeg"), (ULTRA, "png"), (SD3, "jpeg")],
    )
    def test_output_formats_decode(self, model: str, fmt: str) -> None:
        response = invoke(model, {"prompt": "a fox", "output_format": fmt, "aspect_ratio": "3:2"})
        assert image_info(response["images"][0])[:3] == (fmt, 1216, 832)
        assert pixels_of(response).shape == (832, 1216, 3)

    def test_same_body_same_bytes_other_seed_other_image(self) -> None:
        body = {"prompt": "a lighthouse", "negative_prompt": "fog", "seed": 11}
        first = invoke(SD35, body)
        assert invoke(SD35, dict(body))["images"] == first["images"]
        other = invoke(SD35, {**body, "seed": 12})
        assert mad(pixels_of(first), pixels_of(other)) > 5

    def test_models_draw_differently(self) -> None:
        body = {"prompt": "a lighthouse", "seed": 11}
        images = [pixels_of(invoke(model, body)) for model in (SD35, ULTRA, CORE)]
        for a, b in itertools.combinations(images, 2):
            assert mad(a, b) > 5

    def test_style_preset_changes_the_image(self) -> None:
        body = {"prompt": "a lighthouse", "seed": 11}
        plain = pixels_of(invoke(ULTRA, body))
        styled = pixels_of(invoke(ULTRA, {**body, "style_preset": "anime"}))
        assert mad(plain, styled) > 5

    def test_colour_words_show(self) -> None:
        pixels = pixels_of(invoke(CORE, {"prompt": "a blue whale in blue water", "seed": 3}))
        red, green, blue = pixels.mean(axis=(0, 1))
        assert blue > max(red, green) + 40

    def test_seed_zero_is_derived_from_the_body_and_reported(self) -> None:
        first = invoke(SD35, {"prompt": "a fox", "seed": 0})
        (seed,) = first["seeds"]
        assert 1 <= seed <= STABILITY_SEED_MAX
        assert invoke(SD35, {"prompt": "a fox"}) == first
        assert invoke(SD35, {"prompt": "a fox", "seed": seed})["images"] == first["images"]
        assert invoke(SD35, {"prompt": "a fox."})["seeds"] != [seed]


class TestImageToImage:
    @pytest.mark.parametrize("model", IMAGE_TO_IMAGE_MODELS)
    def test_output_has_the_input_size(self, model: str) -> None:
        response = invoke(model, i2i(0.5, seed=4))
        assert response["seeds"] == [4]
        assert pixels_of(response).shape == (400, 600, 3)

    def test_closer_to_the_input_as_strength_falls(self) -> None:
        source = decode_b64(COFFEE)
        distances = [
            mad(pixels_of(invoke(SD35, i2i(s, seed=2))), source)
            for s in (1.0, 0.75, 0.5, 0.25, 0.0)
        ]
        assert all(a > b for a, b in itertools.pairwise(distances))
        assert distances[-1] == 0.0

    def test_jpeg_input_and_output(self) -> None:
        rocket = base64.b64encode((DATA / "rocket.jpg").read_bytes()).decode("ascii")
        body = {**i2i(0.3), "image": rocket, "output_format": "jpeg"}
        response = invoke(ULTRA, body)
        assert image_info(response["images"][0])[:3] == ("jpeg", 640, 427)


LIMITS_ALL: list[tuple[dict[str, Any], str]] = [
    ({"prompt": ""}, "#/prompt: expected minLength: 1"),
    ({"prompt": "x" * 10_001}, "#/prompt: expected maxLength: 10000"),
    ({"prompt": 5}, "#/prompt: expected type: String"),
    ({"negative_prompt": "x" * 10_001}, "#/negative_prompt: expected maxLength: 10000"),
    ({"seed": -1}, "#/seed: -1 is not greater or equal to 0"),
    ({"seed": STABILITY_SEED_MAX + 1}, "#/seed: 4294967295 is not less or equal to 4294967294"),
    ({"seed": 1.5}, "#/seed: expected type: Integer"),
    ({"aspect_ratio": "4:3"}, "#/aspect_ratio: '4:3' is not a valid enum value"),
    ({"output_format": "gif"}, "#/output_format: 'gif' is not a valid enum value"),
    ({"mode": "inpaint"}, "#/mode: 'inpaint' is not a valid enum value"),
    ({"cfg_scale": 7}, "#: extraneous key [cfg_scale] is not permitted"),
    ({"image": COFFEE}, "#: extraneous key [image] is not permitted"),
    # Taken (and ignored) on text-to-image, as Bedrock does, but still a number in [0, 1].
    ({"strength": 1.5}, "#/strength: 1.5 is not less or equal to 1.0"),
]


class TestLimits:
    @pytest.mark.parametrize("model", sorted(MODELS))
    @pytest.mark.parametrize(("change", "expected"), LIMITS_ALL)
    def test_one_step_past_each_limit(
        self, model: str, change: dict[str, Any], expected: str
    ) -> None:
        assert expected in refused(model, {"prompt": "a fox", **change})

    @pytest.mark.parametrize("model", sorted(MODELS))
    def test_prompt_is_required(self, model: str) -> None:
        assert "#: required key [prompt] not found" in refused(model, {"seed": 3})

    @pytest.mark.parametrize("model", sorted(MODELS))
    def test_prompt_at_its_limits_passes(self, model: str) -> None:
        body = {"prompt": "x" * 10_000, "negative_prompt": "y" * 10_000, "seed": STABILITY_SEED_MAX}
        assert invoke(model, body)["seeds"] == [STABILITY_SEED_MAX]

    @pytest.mark.parametrize("model", [m for m in MODELS if m != SD35])
    def test_webp_only_on_sd35(self, model: str) -> None:
        message = refused(model, {"prompt": "a fox", "output_format": "webp"})
        assert "#/output_format: 'webp' is not a valid enum value" in message

    @pytest.mark.parametrize("model", TEXT_ONLY_MODELS)
    def test_image_to_image_refused_where_not_offered(self, model: str) -> None:
        assert "#/mode: 'image-to-image' is not a valid enum value" in refused(model, i2i())

    @pytest.mark.parametrize("model", [SD35, SD3])
    def test_style_preset_refused_on_sd3(self, model: str) -> None:
        message = refused(model, {"prompt": "a fox", "style_preset": "anime"})
        assert "#: extraneous key [style_preset] is not permitted" in message

    @pytest.mark.parametrize("model", STYLE_MODELS)
    def test_style_preset_enum(self, model: str) -> None:
        assert invoke(model, {"prompt": "a fox", "style_preset": "pixel-art"})["images"]
        message = refused(model, {"prompt": "a fox", "style_preset": "watercolour"})
        assert "#/style_preset: 'watercolour' is not a valid enum value" in message

    def test_every_violation_is_listed(self) -> None:
        message = refused(CORE, {"prompt": "", "seed": -1, "colour": "red"})
        assert message.startswith("3 schema violations found: ")
        for field in ("#/prompt", "#/seed", "[colour]"):
            assert field in message


LIMITS_I2I: list[tuple[dict[str, Any], str]] = [
    ({"strength": -0.01}, "#/strength: -0.01 is not greater or equal to 0.0"),
    ({"strength": 1.01}, "#/strength: 1.01 is not less or equal to 1.0"),
    ({"strength": "high"}, "#/strength: expected type: Number"),
    ({"aspect_ratio": "1:1"}, "#: extraneous key [aspect_ratio] is not permitted"),
    ({"image": "not base64!"}, "#/image: invalid image: not valid base64"),
    ({"image": base64.b64encode(b"GIF89a junk").decode()}, "#/image: invalid image: not a PNG"),
    ({"image": png_b64(63, 200)}, "#/image: image sides must be at least 64 px, got 63x200"),
    ({"image": png_b64(161, 64)}, "#/image: image aspect ratio must be between 1:2.5 and 2.5:1"),
    ({"image": png_b64(3073, 3072)}, "#/image: image must have at most 9437184 pixels"),
]


class TestImageToImageLimits:
    @pytest.mark.parametrize("model", IMAGE_TO_IMAGE_MODELS)
    @pytest.mark.parametrize(("change", "expected"), LIMITS_I2I)
    def test_one_step_past_each_limit(
        self, model: str, change: dict[str, Any], expected: str
    ) -> None:
        assert expected in refused(model, {**i2i(), **change})

    @pytest.mark.parametrize("model", IMAGE_TO_IMAGE_MODELS)
    @pytest.mark.parametrize("missing", ["image", "strength"])
    def test_image_and_strength_are_required(self, model: str, missing: str) -> None:
        body = i2i()
        del body[missing]
        assert f"#: required key [{missing}] not found" in refused(model, body)

    def test_at_the_limits_passes(self) -> None:
        for image in (png_b64(64, 160), png_b64(3072, 3072)):
            for strength in (0.0, 1.0):
                response = invoke(SD3, {**i2i(strength), "image": image})
                assert len(response["images"]) == 1


class TestContentFilter:
    @pytest.mark.parametrize("model", sorted(MODELS))
    def test_blocked_prompt_gets_a_finish_reason_and_no_image(self, model: str) -> None:
        response = invoke(model, {"prompt": "a Forbidden fruit", "seed": 9}, ("forbidden",))
        assert response == {"seeds": [9], "finish_reasons": [FILTER_PROMPT], "images": []}

    def test_negative_prompt_is_filtered_too(self) -> None:
        body = {"prompt": "a fruit", "negative_prompt": "forbidden things"}
        response = invoke(SD35, body, ("forbidden",))
        assert response["finish_reasons"] == [FILTER_PROMPT]
        assert response["images"] == []
        assert response["seeds"][0] > 0

    def test_whole_words_only(self) -> None:
        response = invoke(SD35, {"prompt": "unforbiddenly good"}, ("forbidden",))
        assert response["finish_reasons"] == [None]

    def test_invalid_body_is_refused_before_filtering(self) -> None:
        with pytest.raises(BedrockError):
            invoke(SD35, {"prompt": "forbidden", "seed": -1}, ("forbidden",))


@pytest.fixture
def client(bedrock_env: EmulatorServer) -> Iterator[Any]:
    """A boto3 bedrock-runtime client on the emulator, closed afterwards (no leaked sockets)."""
    bedrock = boto3.client("bedrock-runtime")
    yield bedrock
    bedrock.close()


class TestOverHttp:
    def test_text_to_image_through_boto3(self, client: Any) -> None:
        answer = client.invoke_model(
            modelId=f"us.{SD35}",
            body=orjson.dumps({"prompt": "a red barn", "aspect_ratio": "16:9", "seed": 5}),
        )
        payload = orjson.loads(answer["body"].read())
        assert payload["seeds"] == [5]
        assert decode_b64(payload["images"][0]).shape == (768, 1344, 3)

    def test_image_to_image_through_boto3(self, client: Any) -> None:
        answer = client.invoke_model(modelId=ULTRA, body=orjson.dumps(i2i(0.0, seed=1)))
        payload = orjson.loads(answer["body"].read())
        assert np.array_equal(decode_b64(payload["images"][0]), decode_b64(COFFEE))

    def test_validation_error_names_the_field(self, client: Any) -> None:
        with pytest.raises(client.exceptions.ValidationException) as caught:
            client.invoke_model(modelId=CORE, body=orjson.dumps({"prompt": "x", "seed": -1}))
        assert "#/seed: -1 is not greater or equal to 0" in str(caught.value)

    def test_content_filter(self, client: Any) -> None:
        answer = client.invoke_model(modelId=CORE, body=orjson.dumps({"prompt": "forbidden"}))
        payload = orjson.loads(answer["body"].read())
        assert payload["finish_reasons"] == [FILTER_PROMPT]
        assert payload["images"] == []

    def test_retired_version_answers_end_of_life(
        self, emulator: EmulatorServer, client: Any
    ) -> None:
        emulator.set_retired([CORE_V0])
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.invoke_model(modelId=CORE_V0, body=orjson.dumps({"prompt": "x"}))
        answer = client.invoke_model(modelId=CORE, body=orjson.dumps({"prompt": "x", "seed": 2}))
        assert orjson.loads(answer["body"].read())["seeds"] == [2]
