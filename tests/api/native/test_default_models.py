"""The shipped defaults: a request without `model` goes to a model Bedrock serves today."""

from __future__ import annotations

from app.settings import Settings
from emulator.testing import EmulatorServer
from tests.support.gateway import data, image_size, open_gateway, pixels, settings_for

# What `make run` and a deployment get when GATEWAY_DEFAULT_MODEL is not set (the suite's
# fixtures name Titan instead: conftest.TITAN_DEFAULT).
SHIPPED = {"default_model": Settings.model_fields["default_model"].default}


async def test_every_task_defaults_to_a_live_model_but_color_guided_and_virtual_try_on(
    emulator: EmulatorServer,
) -> None:
    async with open_gateway(settings_for(emulator, **SHIPPED)) as gateway:
        models = (await gateway.get("/v1/models")).json()["models"]
    defaults = {
        info["task"]: (model["id"], model["status"])
        for model in models
        for info in model["tasks"]
        if info["default"]
    }
    assert defaults["text-to-image"] == ("stability.sd3-5-large-v1:0", "active")
    assert defaults["image-to-image"] == ("stability.sd3-5-large-v1:0", "active")
    assert defaults["inpaint"] == ("stability.stable-image-inpaint-v1:0", "active")
    assert defaults["outpaint"] == ("stability.stable-outpaint-v1:0", "active")
    assert defaults["edit"] == ("amazon.nova-2-omni-v1:0", "active")
    # No live model does color-guided or virtual try-on: their defaults are the retired Titan v2
    # and Nova Canvas, served while Bedrock serves them.
    assert defaults.pop("color-guided") == ("amazon.titan-image-generator-v2:0", "retired")
    assert defaults.pop("virtual-try-on") == ("amazon.nova-canvas-v1:0", "retired")
    assert {status for _, status in defaults.values()} == {"active"}


async def test_a_request_without_model_reaches_sd35_and_one_naming_titan_reaches_titan(
    emulator: EmulatorServer,
) -> None:
    async with open_gateway(settings_for(emulator, **SHIPPED)) as gateway:
        answer = await gateway.post(
            "/v1/images/text-to-image",
            json={"prompt": "a red fox", "width": 768, "height": 768, "seed": 42},
        )
        assert answer.status_code == 200, answer.text
        [sd35] = emulator.requests()
        assert sd35["model_id"] == "us.stability.sd3-5-large-v1:0"
        assert sd35["body"]["prompt"] == "a red fox"
        assert sd35["body"]["seed"] == 42
        assert sd35["body"]["aspect_ratio"] == "1:1"
        # SD3.5 draws at its aspect ratios' sizes: 1:1 is 1024x1024 (`applied` says the ratio).
        assert answer.json()["applied"] == {"aspect_ratio": "1:1"}
        assert image_size(answer.json()["images"][0]["b64_json"]) == (1024, 1024)

        named = await gateway.post(
            "/v1/images/text-to-image",
            json={"model": "titan", "prompt": "a red fox", "width": 768, "height": 768},
        )
        assert named.status_code == 200, named.text
        assert emulator.requests()[-1]["model_id"] == "amazon.titan-image-generator-v1"
        assert named.json()["model"] == "amazon.titan-image-generator-v1"


async def test_an_inpaint_without_model_reaches_stability_inpaint(
    emulator: EmulatorServer,
) -> None:
    async with open_gateway(settings_for(emulator, **SHIPPED)) as gateway:
        answer = await gateway.post(
            "/v1/images/inpaint",
            data={"prompt": "a latte"},
            files={
                "image": ("coffee.png", data("coffee.png"), "image/png"),
                "mask": ("mask.png", data("coffee-mask-black-edit.png"), "image/png"),
            },
            headers={"Accept": "image/png"},
        )
    assert answer.status_code == 200, answer.text
    [call] = emulator.requests()
    assert call["model_id"] == "us.stability.stable-image-inpaint-v1:0"
    assert call["body"]["prompt"] == "a latte"
    assert answer.headers["served-model"] == "stability.stable-image-inpaint-v1:0"
    assert pixels(answer.content).shape[:2] == pixels(data("coffee.png")).shape[:2]
