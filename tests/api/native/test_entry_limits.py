"""An entry's `limits` are typed per family: checked when the registry is built, merged field by
field over a built-in entry's."""

from __future__ import annotations

import pytest

from app.families.registry import ModelRegistry
from app.families.stability.adapter import STYLE_PRESETS
from emulator.testing import EmulatorServer
from tests.support.cli import cli
from tests.support.edits import answer_images, bodies
from tests.support.gateway import image_size, open_gateway, settings_for

CORE = "stability.stable-image-core-v1:1"


@pytest.mark.parametrize(
    ("entry", "line"),
    [
        (
            '[{"id": "stability.stable-image-core-v1:1", "limits": {"style_preset": "maybe"}}]',
            "gateway: refusing to start: GATEWAY_MODELS entry 'stability.stable-image-core-v1:1': "
            "limits.style_preset: Input should be a valid boolean, unable to interpret input",
        ),
        (
            '[{"id": "stability.stable-image-core-v1:1", "limits": {"colour": true}}]',
            "gateway: refusing to start: GATEWAY_MODELS entry 'stability.stable-image-core-v1:1': "
            "limits.colour: Extra inputs are not permitted",
        ),
        (
            '[{"id": "amazon.nova-canvas-v1:0", "limits": {"prompt_max": -5}}]',
            "gateway: refusing to start: GATEWAY_MODELS entry 'amazon.nova-canvas-v1:0': "
            "limits.prompt_max: Input should be greater than or equal to 1",
        ),
        (
            '[{"id": "stability.stable-image-erase-object-v1:0", '
            '"limits": {"image": {"max_pixels": "lots"}}}]',
            "gateway: refusing to start: GATEWAY_MODELS entry "
            "'stability.stable-image-erase-object-v1:0': limits.image.max_pixels: Input should "
            "be a valid integer, unable to parse string as an integer",
        ),
        (
            '[{"id": "mine", "family": "sdxl", "tasks": ["text-to-image"], '
            '"limits": {"sizes": []}}]',
            "gateway: refusing to start: GATEWAY_MODELS entry 'mine': limits.sizes: Extra inputs "
            "are not permitted",
        ),
    ],
)
def test_a_bad_or_unknown_limit_stops_the_start_in_one_line(entry: str, line: str) -> None:
    done = cli(env={"GATEWAY_MODELS": entry})
    assert done.returncode == 78
    assert done.stderr.splitlines() == [line]
    assert done.stdout == ""


async def test_overriding_one_limit_of_core_keeps_its_style_presets(
    emulator: EmulatorServer,
) -> None:
    override = {"id": CORE, "limits": {"output_formats": ["png"]}}
    async with open_gateway(settings_for(emulator, models=[override])) as gateway:
        models = (await gateway.get("/v1/models")).json()["models"]
        [core] = [m for m in models if m["id"] == CORE]
        assert core["limits"]["output_formats"] == ["png"]
        assert core["limits"]["style_presets"] == list(STYLE_PRESETS)
        assert len(STYLE_PRESETS) == 17

        fields = {"model": "core", "prompt": "a lighthouse", "style_preset": "tile-texture"}
        response = await gateway.post("/v1/images/text-to-image", json={**fields, "seed": 3})
        [image] = answer_images(response, 1)
        assert image_size(image["b64_json"]) == (1024, 1024)
        [body] = bodies(emulator, f"us.{CORE}")
        assert body["style_preset"] == "tile-texture"

        refused = await gateway.post(
            "/v1/images/text-to-image", json={**fields, "output_format": "jpeg"}
        )
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["output_format"]


def test_an_image_rule_is_merged_field_by_field() -> None:
    model_id = "stability.stable-image-remove-background-v1:0"
    overrides = [
        {"id": model_id, "limits": {"image": {"max_pixels": 500_000}, "output_formats": ["png"]}},
        {"id": model_id, "limits": {"image": {"min_side": 128}}},
    ]
    entry = ModelRegistry(overrides=overrides).resolve(model_id)
    assert entry is not None
    assert entry.limits == {
        "image": {"max_pixels": 500_000, "min_side": 128},
        "output_formats": ["png"],
    }
