"""POST /v1/images/control, style-guide, style-transfer and upscale: Stability's guided and
upscaling Image Services, from JSON and multipart bodies, against the emulator."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.edits import CONTENTS, Content, post
from tests.support.gateway import b64, data, image_size, open_gateway, settings_for
from tests.support.problems import assert_invalid

COFFEE = data("coffee.png")  # 600x400
CHELSEA = data("chelsea.png")  # 451x300
ROCKET = data("rocket.jpg")  # 640x427 JPEG
CONTROL_ID = "stability.stable-image-control-{}-v1:0"
STYLE_GUIDE_ID = "stability.stable-image-style-guide-v1:0"
STYLE_TRANSFER_ID = "stability.stable-style-transfer-v1:0"
UPSCALE_ID = "stability.stable-{}-upscale-v1:0"
FOUR_MP = 4_194_304


def resized(raw: bytes, size: tuple[int, int], fmt: str = "PNG") -> bytes:
    """A test photo resized to `size`, in `fmt`."""
    with Image.open(io.BytesIO(raw)) as image:
        out = io.BytesIO()
        image.convert("RGB").resize(size).save(out, format=fmt)
    return out.getvalue()


def only_call(emulator: EmulatorServer, model_id: str) -> dict[str, Any]:
    """The one Bedrock body received, after checking it went to `model_id`'s us. profile."""
    records = emulator.requests()
    assert [r["model_id"] for r in records] == [f"us.{model_id}"]
    body: dict[str, Any] = records[0]["body"]
    return body


def produced(response: httpx.Response, mime: str = "image/png") -> dict[str, Any]:
    """The one image of a 200 answer, of type `mime`."""
    assert response.status_code == 200, response.text
    images = response.json()["images"]
    assert len(images) == 1
    image: dict[str, Any] = images[0]
    assert image["finish_reason"] == "success"
    assert image["mime_type"] == mime
    return image


def about_four_megapixels(size: tuple[int, int], source: tuple[int, int]) -> None:
    """Within 0.2% of 4 MP, the source's aspect ratio kept."""
    width, height = size
    assert abs(width * height - FOUR_MP) / FOUR_MP < 0.002
    assert width / height == pytest.approx(source[0] / source[1], rel=0.005)


class TestControl:
    @pytest.mark.parametrize("content", CONTENTS)
    @pytest.mark.parametrize("control", ["sketch", "structure"])
    async def test_control_picks_the_model_and_is_not_sent(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content, control: str
    ) -> None:
        fields = {
            "image": COFFEE,
            "prompt": "a red cup",
            "control": control,
            "control_strength": 0.5,
            "negative_prompt": "blur",
            "style_preset": "photographic",
            "seed": 7,
        }
        response = await post(gateway, "control", content, fields)
        image = produced(response)
        assert response.json()["model"] == CONTROL_ID.format(control)
        assert image["seed"] == 7
        assert image_size(image["b64_json"]) == (600, 400)
        assert response.json()["applied"] == {}
        assert only_call(emulator, CONTROL_ID.format(control)) == {
            "image": b64(COFFEE),
            "prompt": "a red cup",
            "control_strength": 0.5,
            "negative_prompt": "blur",
            "style_preset": "photographic",
            "seed": 7,
        }

    async def test_the_model_name_picks_the_control(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(
            gateway,
            "control",
            "json",
            {"model": "control-structure", "image": CHELSEA, "prompt": "a cat", "seed": 3},
        )
        image = produced(response)
        assert image_size(image["b64_json"]) == (451, 300)
        assert response.json()["applied"] == {"control": "structure"}
        body = only_call(emulator, CONTROL_ID.format("structure"))
        assert body == {"image": b64(CHELSEA), "prompt": "a cat", "seed": 3}

    async def test_n_images_are_n_calls_with_consecutive_seeds(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"image": COFFEE, "prompt": "a cup", "control": "sketch", "seed": 40, "n": 3}
        response = await post(gateway, "control", "json", fields)
        assert response.status_code == 200, response.text
        assert [i["seed"] for i in response.json()["images"]] == [40, 41, 42]
        seeds = sorted(r["body"]["seed"] for r in emulator.requests())
        assert seeds == [40, 41, 42]

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_control_is_required_without_a_model(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        response = await post(gateway, "control", content, {"image": COFFEE, "prompt": "a cup"})
        assert_invalid(response, emulator, "control")
        assert "sketch, structure" in response.json()["errors"][0]["message"]

    async def test_a_control_the_named_model_does_not_do_is_refused(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "control-sketch", "control": "structure", "image": COFFEE, "prompt": "x"}
        response = await post(gateway, "control", "json", fields)
        assert_invalid(response, emulator, "control")
        assert "control-structure" in response.json()["errors"][0]["message"]

    async def test_a_small_image_is_named(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"image": resized(COFFEE, (63, 64)), "prompt": "a cup", "control": "sketch"}
        response = await post(gateway, "control", "json", fields)
        assert_invalid(response, emulator, "image")
        assert "at least 64 px" in response.json()["errors"][0]["message"]

    async def test_a_filtered_prompt_is_content_filtered(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"image": COFFEE, "prompt": "a forbidden cup", "control": "structure"}
        response = await post(gateway, "control", "json", fields)
        assert_content_filtered(response)


class TestStyleGuide:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_aspect_ratio_sets_the_size(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "image": ROCKET,
            "prompt": "a lighthouse",
            "aspect_ratio": "16:9",
            "fidelity": 0.8,
            "style_preset": "anime",
            "seed": 11,
            "output_format": "jpeg",
        }
        response = await post(gateway, "style-guide", content, fields)
        image = produced(response, "image/jpeg")
        assert image_size(image["b64_json"]) == (1344, 768)
        assert only_call(emulator, STYLE_GUIDE_ID) == {
            "image": b64(ROCKET),
            "prompt": "a lighthouse",
            "aspect_ratio": "16:9",
            "fidelity": 0.8,
            "style_preset": "anime",
            "seed": 11,
            "output_format": "jpeg",
        }

    async def test_square_by_default(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(gateway, "style-guide", "json", {"image": COFFEE, "prompt": "x"})
        image = produced(response)
        assert image_size(image["b64_json"]) == (1024, 1024)
        body = only_call(emulator, STYLE_GUIDE_ID)
        assert set(body) == {"image", "prompt", "seed"}
        assert body["seed"] == image["seed"]
        assert 1 <= body["seed"] <= 4_294_967_294

    async def test_a_filtered_prompt_is_content_filtered(self, gateway: httpx.AsyncClient) -> None:
        fields = {"image": COFFEE, "prompt": "forbidden colours"}
        assert_content_filtered(await post(gateway, "style-guide", "json", fields))


class TestStyleTransfer:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_every_field_is_sent(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "init_image": COFFEE,
            "style_image": CHELSEA,
            "prompt": "a cup",
            "negative_prompt": "dark",
            "style_strength": 0.6,
            "composition_fidelity": 0.5,
            "change_strength": 0.1,
            "seed": 99,
            "output_format": "webp",
        }
        response = await post(gateway, "style-transfer", content, fields)
        image = produced(response, "image/webp")
        assert image_size(image["b64_json"]) == (600, 400)
        assert image["seed"] == 99
        assert only_call(emulator, STYLE_TRANSFER_ID) == {
            "init_image": b64(COFFEE),
            "style_image": b64(CHELSEA),
            "prompt": "a cup",
            "negative_prompt": "dark",
            "style_strength": 0.6,
            "composition_fidelity": 0.5,
            "change_strength": 0.1,
            "seed": 99,
            "output_format": "webp",
        }

    async def test_images_alone_are_enough(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"init_image": CHELSEA, "style_image": COFFEE, "seed": 1}
        image = produced(await post(gateway, "style-transfer", "multipart", fields))
        assert image_size(image["b64_json"]) == (451, 300)
        body = only_call(emulator, STYLE_TRANSFER_ID)
        assert body == {"init_image": b64(CHELSEA), "style_image": b64(COFFEE), "seed": 1}

    async def test_a_large_init_image_is_named(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"init_image": resized(ROCKET, (3073, 3072), "JPEG"), "style_image": COFFEE}
        response = await post(gateway, "style-transfer", "json", fields)
        assert_invalid(response, emulator, "init_image")
        assert "at most 9437184 pixels" in response.json()["errors"][0]["message"]

    async def test_a_filtered_prompt_is_content_filtered(self, gateway: httpx.AsyncClient) -> None:
        fields = {"init_image": COFFEE, "style_image": CHELSEA, "prompt": "forbidden"}
        assert_content_filtered(await post(gateway, "style-transfer", "json", fields))


class TestFastUpscale:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_fast_is_the_default_mode_and_four_times_the_size(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        response = await post(gateway, "upscale", content, {"image": COFFEE})
        image = produced(response)
        assert image_size(image["b64_json"]) == (2400, 1600)
        assert image["seed"] is None  # no seed: the same image always gives the same pixels
        assert response.json()["model"] == UPSCALE_ID.format("fast")
        assert response.json()["applied"] == {"mode": "fast"}
        assert only_call(emulator, UPSCALE_ID.format("fast")) == {"image": b64(COFFEE)}

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_output_format(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields: dict[str, Any] = {
            "image": resized(COFFEE, (32, 32)),
            "mode": "fast",
            "output_format": "webp",
        }
        image = produced(await post(gateway, "upscale", content, fields), "image/webp")
        assert image_size(image["b64_json"]) == (128, 128)
        body = only_call(emulator, UPSCALE_ID.format("fast"))
        assert body == {"image": b64(fields["image"]), "output_format": "webp"}

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_it_is_deterministic_so_n_and_seed_are_refused(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {"image": COFFEE, "n": 2, "seed": 5, "prompt": "sharper"}
        response = await post(gateway, "upscale", content, fields)
        assert_invalid(response, emulator, "n", "seed", "prompt")
        messages = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert "deterministic" in messages["n"]
        assert "deterministic" in messages["seed"]

    async def test_a_mode_the_named_model_does_not_do_is_refused(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "fast-upscale", "mode": "creative", "image": COFFEE}
        response = await post(gateway, "upscale", "json", fields)
        assert_invalid(response, emulator, "mode")
        assert "creative-upscale" in response.json()["errors"][0]["message"]

    async def test_a_mode_the_configured_default_does_not_do_is_refused(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(emulator, default_models={"upscale": "creative-upscale"})
        async with open_gateway(settings) as gateway:
            fields = {"mode": "fast", "image": COFFEE, "prompt": "sharper"}
            response = await post(gateway, "upscale", "json", fields)
        assert_invalid(response, emulator, "mode")
        assert "fast-upscale" in response.json()["errors"][0]["message"]

    async def test_an_unknown_mode_is_named(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(gateway, "upscale", "json", {"image": COFFEE, "mode": "magic"})
        assert_invalid(response, emulator, "mode")


class TestDetailedUpscale:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_conservative_to_about_four_megapixels(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "image": COFFEE,
            "mode": "conservative",
            "prompt": "an espresso",
            "creativity": 0.2,
            "negative_prompt": "blur",
            "seed": 5,
        }
        image = produced(await post(gateway, "upscale", content, fields))
        about_four_megapixels(image_size(image["b64_json"]), (600, 400))
        assert image["seed"] == 5
        assert only_call(emulator, UPSCALE_ID.format("conservative")) == {
            "image": b64(COFFEE),
            "prompt": "an espresso",
            "creativity": 0.2,
            "negative_prompt": "blur",
            "seed": 5,
        }

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_creative_by_model_name(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "creative-upscale",
            "image": CHELSEA,
            "prompt": "a cat",
            "creativity": 0.5,
            "style_preset": "comic-book",
            "seed": 6,
            "output_format": "jpeg",
        }
        response = await post(gateway, "upscale", content, fields)
        image = produced(response, "image/jpeg")
        about_four_megapixels(image_size(image["b64_json"]), (451, 300))
        assert response.json()["applied"] == {"mode": "creative"}
        assert only_call(emulator, UPSCALE_ID.format("creative")) == {
            "image": b64(CHELSEA),
            "prompt": "a cat",
            "creativity": 0.5,
            "style_preset": "comic-book",
            "seed": 6,
            "output_format": "jpeg",
        }

    @pytest.mark.parametrize(
        ("mode", "creativity"),
        [("conservative", 0.19), ("conservative", 0.51), ("creative", 0.09), ("creative", 0.51)],
    )
    async def test_creativity_one_step_past_per_mode(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, mode: str, creativity: float
    ) -> None:
        fields = {"image": COFFEE, "mode": mode, "prompt": "x", "creativity": creativity}
        response = await post(gateway, "upscale", "json", fields)
        assert_invalid(response, emulator, "creativity")

    @pytest.mark.parametrize("content", CONTENTS)
    @pytest.mark.parametrize("mode", ["conservative", "creative"])
    async def test_prompt_is_required(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content, mode: str
    ) -> None:
        response = await post(gateway, "upscale", content, {"image": COFFEE, "mode": mode})
        assert_invalid(response, emulator, "prompt")

    async def test_style_preset_is_creative_only(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"image": COFFEE, "mode": "conservative", "prompt": "x", "style_preset": "anime"}
        response = await post(gateway, "upscale", "json", fields)
        assert_invalid(response, emulator, "style_preset")

    async def test_the_smallest_inputs_are_taken(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"image": resized(COFFEE, (64, 64)), "mode": "creative", "prompt": "x"}
        image = produced(await post(gateway, "upscale", "json", fields))
        assert image_size(image["b64_json"]) == (2048, 2048)

    @pytest.mark.parametrize("mode", ["conservative", "creative"])
    async def test_a_filtered_prompt_is_content_filtered(
        self, gateway: httpx.AsyncClient, mode: str
    ) -> None:
        fields = {"image": COFFEE, "mode": mode, "prompt": "x", "negative_prompt": "forbidden"}
        assert_content_filtered(await post(gateway, "upscale", "json", fields))


# Each guided tool's request with every limit one step past at once: one row (task, fields, the
# fields the 422 must name), sent as JSON and as multipart.
ALL_PAST: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    (
        "control",
        {
            "image": resized(COFFEE, (161, 64)),  # aspect 2.52:1
            "prompt": "a cup",
            "control": "sketch",
            "control_strength": 1.01,
            "seed": 4_294_967_295,
            "negative_prompt": "n" * 10_001,
        },
        ("image", "control_strength", "seed", "negative_prompt"),
    ),
    (
        "style-guide",
        {
            "image": resized(COFFEE, (64, 161)),
            "prompt": "a lighthouse",
            "negative_prompt": "p" * 10_001,
            "fidelity": 1.01,
            "control_strength": 0.5,
        },
        ("image", "negative_prompt", "fidelity", "control_strength"),
    ),
    (
        "style-transfer",
        {
            "init_image": COFFEE,
            "style_image": resized(CHELSEA, (64, 63)),
            "style_strength": 1.01,
            "composition_fidelity": 1.01,
            "change_strength": 0.09,
            "style_preset": "anime",
        },
        (
            "style_image",
            "style_strength",
            "composition_fidelity",
            "change_strength",
            "style_preset",
        ),
    ),
]


@pytest.mark.parametrize(
    ("task", "fields", "named"), [pytest.param(*row, id=row[0]) for row in ALL_PAST]
)
@pytest.mark.parametrize("content", CONTENTS)
async def test_every_limit_one_step_past_is_named(
    gateway: httpx.AsyncClient,
    emulator: EmulatorServer,
    content: Content,
    task: str,
    fields: dict[str, Any],
    named: tuple[str, ...],
) -> None:
    assert_invalid(await post(gateway, task, content, fields), emulator, *named)


# The upscalers' input image one step past each bound: (mode (None: the default, fast), the
# photo, its size and format, what the message says).
UPSCALE_INPUTS: list[tuple[str | None, bytes, tuple[int, int], str, str]] = [
    (None, COFFEE, (31, 64), "PNG", "at least 32 px"),
    (None, COFFEE, (1537, 615), "PNG", "at most 1536 px"),
    (None, COFFEE, (1025, 1024), "PNG", "at most 1048576 pixels"),
    (None, COFFEE, (161, 64), "PNG", "aspect ratio"),
    ("conservative", ROCKET, (63, 80), "PNG", "at least 64 px"),
    ("conservative", ROCKET, (3073, 3072), "JPEG", "at most 9437184 pixels"),
    ("creative", ROCKET, (80, 63), "PNG", "at least 64 px"),
    ("creative", ROCKET, (1025, 1024), "PNG", "at most 1048576 pixels"),
]


@pytest.mark.parametrize(
    ("mode", "photo", "size", "fmt", "why"),
    [
        pytest.param(*row, id=f"{row[0] or 'fast'}-{row[2][0]}x{row[2][1]}")
        for row in UPSCALE_INPUTS
    ],
)
async def test_upscale_input_one_step_past_is_named(
    gateway: httpx.AsyncClient,
    emulator: EmulatorServer,
    mode: str | None,
    photo: bytes,
    size: tuple[int, int],
    fmt: str,
    why: str,
) -> None:
    fields: dict[str, Any] = {"image": resized(photo, size, fmt)}
    if mode is not None:
        fields |= {"mode": mode, "prompt": "x"}
    response = await post(gateway, "upscale", "json", fields)
    assert_invalid(response, emulator, "image")
    assert why in response.json()["errors"][0]["message"]


class TestConfiguration:
    async def test_entry_limits_override_the_tools(self, emulator: EmulatorServer) -> None:
        override = {
            "id": UPSCALE_ID.format("creative"),
            "limits": {"creativity": [0.2, 0.4], "image": {"max_pixels": 500_000}},
        }
        async with open_gateway(settings_for(emulator, models=[override])) as gateway:
            models = (await gateway.get("/v1/models")).json()["models"]
            limits = next(m for m in models if m["id"] == override["id"])["limits"]
            assert limits["creativity"] == [0.2, 0.4]
            assert limits["image"]["max_pixels"] == 500_000
            assert limits["defaults"]["creativity"] == 0.3
            fields = {
                "image": resized(COFFEE, (800, 700)),
                "mode": "creative",
                "prompt": "x",
                "creativity": 0.45,
            }
            response = await post(gateway, "upscale", "json", fields)
        assert_invalid(response, emulator, "image", "creativity")

    async def test_models_lists_each_tool(self, gateway: httpx.AsyncClient) -> None:
        models = {m["id"]: m for m in (await gateway.get("/v1/models")).json()["models"]}
        fast = models[UPSCALE_ID.format("fast")]
        assert fast["aliases"] == ["fast-upscale"]
        assert fast["invoke_id"] == "us.stability.stable-fast-upscale-v1:0"
        assert fast["region"] == "us-west-2"
        assert fast["read_timeout_s"] == 120
        assert fast["selector"] == {"mode": "fast"}
        assert fast["limits"]["deterministic"] is True
        assert fast["limits"]["fields"] == ["image", "mode", "output_format"]
        assert fast["limits"]["image"]["max_side"] == 1536
        transfer = models[STYLE_TRANSFER_ID]
        assert transfer["limits"]["change_strength"] == [0.1, 1.0]
        assert transfer["limits"]["defaults"]["composition_fidelity"] == 0.9
        assert "style_preset" not in transfer["tasks"][0]["fields"]
        sketch = models[CONTROL_ID.format("sketch")]
        assert sketch["limits"]["defaults"]["control_strength"] == 0.7
        assert sketch["selector"] == {"control": "sketch"}


def assert_content_filtered(response: httpx.Response) -> None:
    """Every image blocked: a 422 content-filtered problem saying so for each."""
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "/problems/content-filtered"
    assert [i["finish_reason"] for i in problem["images"]] == ["content_filtered"]
    assert problem["images"][0]["error"] == "Filter reason: prompt"
