"""Titan v1/v2 and Nova Canvas schemas: one request past each limit, refused naming the field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.support.emulator_calls import (
    NOVA,
    TITAN_V1,
    TITAN_V2,
    file_b64,
    file_pixels,
    invoke,
    pixels_b64,
    titan_t2i,
)

COFFEE = file_b64("coffee.png")
COFFEE_MASK = file_b64("coffee-mask-black-edit.png")


def inpaint(**params: Any) -> dict[str, Any]:
    return {"taskType": "INPAINTING", "inPaintingParams": {"image": COFFEE, **params}}


def outpaint(**params: Any) -> dict[str, Any]:
    body = {"image": COFFEE, "text": "a beach", "maskImage": COFFEE_MASK, **params}
    return {"taskType": "OUTPAINTING", "outPaintingParams": body}


def variation(images: list[str], **params: Any) -> dict[str, Any]:
    return {"taskType": "IMAGE_VARIATION", "imageVariationParams": {"images": images, **params}}


def colors(values: list[str], **params: Any) -> dict[str, Any]:
    body = {"text": "a flat logo", "colors": values, **params}
    return {"taskType": "COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams": body}


def t2i_params(**params: Any) -> dict[str, Any]:
    body = titan_t2i()
    body["textToImageParams"].update(params)
    return body


def noise_png(width: int, height: int) -> str:
    return pixels_b64(np.random.default_rng(1).integers(0, 256, (height, width, 3), np.uint8))


LIMITS: list[tuple[str, dict[str, Any], str]] = [
    (TITAN_V1, titan_t2i("x" * 513), "#/textToImageParams/text: expected maxLength: 512"),
    (TITAN_V1, t2i_params(negativeText="x" * 513), "#/textToImageParams/negativeText"),
    (NOVA, titan_t2i("x" * 1025), "#/textToImageParams/text: expected maxLength: 1024"),
    (NOVA, titan_t2i(""), "#/textToImageParams/text: expected minLength: 1"),
    (TITAN_V1, {"taskType": "TEXT_IMAGE", "textToImageParams": {}}, "required key [text]"),
    (TITAN_V1, titan_t2i(numberOfImages=6), "#/imageGenerationConfig/numberOfImages: 6 is not"),
    (TITAN_V1, titan_t2i(numberOfImages=0), "#/imageGenerationConfig/numberOfImages: 0 is not"),
    (TITAN_V2, titan_t2i(cfgScale=10.1), "#/imageGenerationConfig/cfgScale: 10.1 is not"),
    (TITAN_V2, titan_t2i(cfgScale=1.0), "#/imageGenerationConfig/cfgScale: 1.0 is not"),
    (TITAN_V1, titan_t2i(seed=2_147_483_647), "#/imageGenerationConfig/seed"),
    (NOVA, titan_t2i(seed=858_993_460), "#/imageGenerationConfig/seed: 858993460 is not"),
    (TITAN_V1, titan_t2i(width=1025, height=1024), "#/imageGenerationConfig/width"),
    (TITAN_V2, titan_t2i(width=1408, height=1408), "#/imageGenerationConfig/width"),
    (TITAN_V1, titan_t2i(quality="ultra"), "#/imageGenerationConfig/quality"),
    (TITAN_V1, titan_t2i(steps=30), "#/imageGenerationConfig: extraneous key [steps]"),
    (NOVA, titan_t2i(width=4112, height=1024), "#/imageGenerationConfig/width: 4112 is not"),
    (NOVA, titan_t2i(width=304, height=320), "#/imageGenerationConfig/width: 304 is not"),
    (NOVA, titan_t2i(width=1000, height=1024), "#/imageGenerationConfig/width: 1000 is not divi"),
    (NOVA, titan_t2i(width=4096, height=1008), "aspect ratio 4096x1008"),
    (NOVA, titan_t2i(width=2048, height=2048), "expected fewer than 4194304"),
    (NOVA, inpaint(maskImage=COFFEE_MASK) | {"imageGenerationConfig": {"width": 512}},
     "#/imageGenerationConfig: extraneous key [width]"),
    (TITAN_V1, {"taskType": "COLOR_GUIDED_GENERATION"}, "#/taskType: 'COLOR_GUIDED_GENERATION'"),
    (TITAN_V2, {"taskType": "VIRTUAL_TRY_ON"}, "#/taskType: 'VIRTUAL_TRY_ON' is not a valid enum"),
    (TITAN_V1, titan_t2i() | {"extra": 1}, "#: extraneous key [extra]"),
    (TITAN_V1, t2i_params(style="PHOTOREALISM"), "#/textToImageParams: extraneous key [style]"),
    (NOVA, t2i_params(style="WATERCOLOR"), "#/textToImageParams/style"),
    (TITAN_V2, t2i_params(conditionImage=COFFEE, controlStrength=1.1),
     "#/textToImageParams/controlStrength: 1.1 is not"),
    (TITAN_V2, t2i_params(conditionImage=COFFEE, controlMode="DEPTH"),
     "#/textToImageParams/controlMode"),
    (TITAN_V1, inpaint(), "#/inPaintingParams: exactly one of [maskPrompt, maskImage]"),
    (TITAN_V1, inpaint(maskPrompt="cup", maskImage=COFFEE_MASK), "exactly one of"),
    (TITAN_V1, inpaint(maskImage=file_b64("chelsea.png")),
     "#/inPaintingParams/maskImage: mask size 451x300 does not match image size 600x400"),
    (TITAN_V1, inpaint(maskPrompt="cup", text="x" * 513), "#/inPaintingParams/text"),
    (TITAN_V1, inpaint(maskPrompt="cup") | {"inPaintingParams": {"maskPrompt": "cup"}},
     "#/inPaintingParams: required key [image] not found"),
    (TITAN_V1, inpaint(maskPrompt="cup", image=file_b64("coffee-mask-alpha-edit.png")),
     "#/inPaintingParams/image: expected an 8-bit RGB image, found an alpha channel"),
    (TITAN_V1, inpaint(maskPrompt="cup", image="bm90IGFuIGltYWdl"),
     "#/inPaintingParams/image: invalid image"),
    (TITAN_V1, inpaint(maskPrompt="cup", image=noise_png(1409, 64)),
     "#/inPaintingParams/image: image is 1409x64; the longer side must be at most 1408"),
    (TITAN_V2, inpaint(maskPrompt="cup", image=noise_png(1408, 1300)),
     "#/inPaintingParams/image: image is"),
    (NOVA, inpaint(maskPrompt="cup", image=file_b64("coffee-mask-alpha-edit.png")),
     "#/inPaintingParams/image: transparent pixels are not supported"),
    (NOVA, inpaint(maskImage=pixels_b64(np.full((400, 600, 3), 128, np.uint8))),
     "#/inPaintingParams/maskImage: the mask must contain only pure black"),
    (TITAN_V1, inpaint(maskPrompt="cup", returnMask=True),
     "#/inPaintingParams: extraneous key [returnMask]"),
    (TITAN_V1, outpaint(text=None), "#/outPaintingParams: required key [text] not found"),
    (TITAN_V1, outpaint(outPaintingMode="EXACT"), "#/outPaintingParams/outPaintingMode"),
    (NOVA, outpaint() | {"imageGenerationConfig": {"height": 512}},
     "#/imageGenerationConfig: extraneous key [height]"),
    (TITAN_V1, variation([COFFEE] * 6), "#/imageVariationParams/images: expected maximum item"),
    (TITAN_V1, variation([]), "#/imageVariationParams/images: expected minimum item count: 1"),
    (TITAN_V1, variation([COFFEE], similarityStrength=0.19),
     "#/imageVariationParams/similarityStrength: 0.19 is not greater or equal to 0.2"),
    (TITAN_V1, variation([COFFEE], similarityStrength=1.01),
     "#/imageVariationParams/similarityStrength: 1.01 is not less or equal to 1.0"),
    (TITAN_V1, variation([COFFEE, "@@"]), "#/imageVariationParams/images/1: invalid image"),
    (TITAN_V2, colors(["#FF0000"] * 11), "#/colorGuidedGenerationParams/colors: expected max"),
    (TITAN_V2, colors([]), "#/colorGuidedGenerationParams/colors: expected minimum item count"),
    (NOVA, colors(["#FF0000", "red"]), "#/colorGuidedGenerationParams/colors/1: 'red' is not"),
    (TITAN_V2, colors(["#FF0000"], text=None), "#/colorGuidedGenerationParams: required key"),
    (TITAN_V2, {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": COFFEE},
                "imageGenerationConfig": {"numberOfImages": 1}},
     "#: extraneous key [imageGenerationConfig] is not permitted"),
    (NOVA, {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {}},
     "#/backgroundRemovalParams: required key [image] not found"),
]  # fmt: skip


@pytest.mark.parametrize(("model_id", "body", "field"), LIMITS)
def test_past_the_limit_is_refused_naming_the_field(
    runtime: Any, model_id: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        invoke(runtime, model_id, body)
    message = info.value.response["Error"]["Message"]
    assert "schema violation" in message
    assert field in message


def test_every_violation_is_reported_at_once(runtime: Any) -> None:
    body = titan_t2i("x" * 513, numberOfImages=6, seed=-1)
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        invoke(runtime, TITAN_V1, body)
    message = info.value.response["Error"]["Message"]
    assert message.startswith("3 schema violations found: ")
    for field in ("/text:", "/numberOfImages:", "/seed:"):
        assert field in message


@pytest.mark.parametrize(
    ("model_id", "body"),
    [
        (TITAN_V1, titan_t2i("x" * 512, numberOfImages=5, cfgScale=10.0, seed=2_147_483_646)),
        (TITAN_V1, titan_t2i(cfgScale=1.1, seed=0, width=1173, height=640)),
        (NOVA, titan_t2i("x" * 1024, seed=858_993_459, width=4080, height=1024)),
        (NOVA, titan_t2i(width=320, height=1280)),
        (TITAN_V1, variation([COFFEE] * 5, similarityStrength=0.2)),
        (TITAN_V2, colors(["#00FF00"] * 10)),
        (TITAN_V1, inpaint(maskPrompt="cup", image=noise_png(1408, 64))),
    ],
)
def test_at_the_limit_is_accepted(runtime: Any, model_id: str, body: dict[str, Any]) -> None:
    assert invoke(runtime, model_id, body)["images"]


def test_nova_accepts_a_fully_opaque_alpha_channel(runtime: Any) -> None:
    rgba = np.dstack([file_pixels("coffee.png"), np.full((400, 600), 255, np.uint8)])
    answer = invoke(runtime, NOVA, inpaint(maskPrompt="cup", image=pixels_b64(rgba)))
    assert len(answer["images"]) == 1
