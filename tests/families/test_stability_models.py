"""SD3.5 Large, Stable Image Ultra and Core (and the retired SD3 Large and v1:0s) behind the
native API: exact Bedrock bodies, `us.` profile ids, sizes per aspect ratio, image-to-image,
every limit one step past, lifecycle in GET /v1/models, per-model read timeouts."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.edits import (
    ASTRONAUT,
    CHELSEA,
    COFFEE,
    CONTENTS,
    ROCKET,
    Content,
    answer_images,
    bodies,
    mad,
    post,
)
from tests.support.gateway import b64, image_size, open_gateway, pixels, settings_for
from tests.support.problems import assert_invalid

SD35 = "stability.sd3-5-large-v1:0"
ULTRA = "stability.stable-image-ultra-v1:1"
CORE = "stability.stable-image-core-v1:1"
SD3 = "stability.sd3-large-v1:0"
ULTRA_V10 = "stability.stable-image-ultra-v1:0"
CORE_V10 = "stability.stable-image-core-v1:0"
LIVE = (SD35, ULTRA, CORE)
RETIRED = (SD3, ULTRA_V10, CORE_V10)
TAKE_IMAGES = (SD35, ULTRA, SD3)
TAKE_STYLE = (ULTRA, CORE, ULTRA_V10, CORE_V10)
SEED_MAX = 4_294_967_294

# The sizes the emulator draws per aspect ratio (about one megapixel, as Stability answers).
SIZES = {
    "16:9": (1344, 768),
    "1:1": (1024, 1024),
    "21:9": (1536, 640),
    "2:3": (832, 1216),
    "3:2": (1216, 832),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}


def resized(raw: bytes, size: tuple[int, int], fmt: str = "PNG") -> bytes:
    """`raw` resized to `size`, encoded as `fmt`."""
    with Image.open(io.BytesIO(raw)) as image:
        out = io.BytesIO()
        image.convert("RGB").resize(size).save(out, format=fmt)
    return out.getvalue()


def profile(model_id: str) -> str:
    """What the gateway calls a Stability model by: its `us.` inference profile."""
    return f"us.{model_id}"


async def t2i(gateway: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    """POST a text-to-image JSON body."""
    return await gateway.post("/v1/images/text-to-image", json=fields)


class TestTextToImage:
    @pytest.mark.parametrize("model_id", LIVE + RETIRED)
    async def test_exact_body_by_profile_id(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, model_id: str
    ) -> None:
        fields: dict[str, Any] = {
            "model": model_id,
            "prompt": "a red fox in the snow",
            "negative_prompt": "blurry",
            "aspect_ratio": "16:9",
            "output_format": "png",
            "seed": 42,
        }
        if model_id in TAKE_STYLE:
            fields["style_preset"] = "photographic"
        response = await t2i(gateway, **fields)
        [image] = answer_images(response, 1)
        assert image["seed"] == 42
        assert image_size(image["b64_json"]) == (1344, 768)
        assert response.json()["model"] == model_id
        assert response.json()["applied"] == {}

        [body] = bodies(emulator, profile(model_id))
        expected = {k: v for k, v in fields.items() if k != "model"}
        assert body == expected  # no `mode`: text-to-image is the model's default

    @pytest.mark.parametrize(("ratio", "size"), SIZES.items())
    async def test_image_size_per_aspect_ratio(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        ratio: str,
        size: tuple[int, int],
    ) -> None:
        response = await t2i(gateway, model="core", prompt="a lighthouse", aspect_ratio=ratio)
        [image] = answer_images(response, 1)
        assert image_size(image["b64_json"]) == size
        [body] = bodies(emulator, profile(CORE))
        assert body["aspect_ratio"] == ratio

    async def test_without_ratio_or_size_sends_none(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await t2i(gateway, model="sd3.5", prompt="a lighthouse", seed=5)
        [image] = answer_images(response, 1)
        assert image_size(image["b64_json"]) == (1024, 1024)
        assert response.json()["applied"] == {}
        [body] = bodies(emulator, profile(SD35))
        assert body == {"prompt": "a lighthouse", "seed": 5}

    @pytest.mark.parametrize(
        ("width", "height", "ratio"),
        [(1920, 1080, "16:9"), (1000, 1500, "2:3"), (512, 512, "1:1"), (2560, 1080, "21:9")],
    )
    async def test_width_height_map_to_nearest_ratio(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        width: int,
        height: int,
        ratio: str,
    ) -> None:
        response = await t2i(gateway, model="ultra", prompt="a bridge", width=width, height=height)
        [image] = answer_images(response, 1)
        assert image_size(image["b64_json"]) == SIZES[ratio]
        assert response.json()["applied"] == {"aspect_ratio": ratio}
        assert response.json()["warnings"] == []
        [body] = bodies(emulator, profile(ULTRA))
        assert body["aspect_ratio"] == ratio
        assert "width" not in body
        assert "height" not in body

    @pytest.mark.parametrize(
        ("model_id", "fmt", "mime", "magic"),
        [
            (SD35, "webp", "image/webp", b"RIFF"),
            (SD35, "jpeg", "image/jpeg", b"\xff\xd8\xff"),
            (ULTRA, "jpeg", "image/jpeg", b"\xff\xd8\xff"),
            (CORE, "jpeg", "image/jpeg", b"\xff\xd8\xff"),
        ],
    )
    async def test_output_format_gives_those_bytes(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        model_id: str,
        fmt: str,
        mime: str,
        magic: bytes,
    ) -> None:
        response = await t2i(gateway, model=model_id, prompt="a green field", output_format=fmt)
        assert response.status_code == 200, response.text
        [image] = response.json()["images"]
        assert image["mime_type"] == mime
        raw = base64.b64decode(image["b64_json"])
        assert raw.startswith(magic)
        with Image.open(io.BytesIO(raw)) as decoded:
            assert decoded.format == fmt.upper()
        [body] = bodies(emulator, profile(model_id))
        assert body["output_format"] == fmt

    async def test_filtered_prompt_reports_every_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await t2i(gateway, model="sd3.5", prompt="a forbidden door", n=2, seed=100)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["type"].endswith("content-filtered")
        assert problem["images"] == [
            {"seed": seed, "finish_reason": "content_filtered", "error": "Filter reason: prompt"}
            for seed in (100, 101)
        ]
        assert len(bodies(emulator, profile(SD35))) == 2

    async def test_three_images_are_three_calls_with_distinct_seeds(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await t2i(gateway, model="core", prompt="a kite", n=3)
        images = answer_images(response, 3)
        sent = bodies(emulator, profile(CORE))
        seeds = sorted(b["seed"] for b in sent)
        assert len(set(seeds)) == 3
        assert all(1 <= s <= SEED_MAX for s in seeds)
        assert sorted(i["seed"] for i in images) == seeds
        assert [{k: v for k, v in b.items() if k != "seed"} for b in sent] == [
            {"prompt": "a kite"}
        ] * 3
        assert len({i["b64_json"] for i in images}) == 3

    async def test_given_seed_counts_up(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await t2i(gateway, model="ultra", prompt="a kite", n=3, seed=SEED_MAX - 1)
        images = answer_images(response, 3)
        # Past the last seed it wraps to 1 (0 would mean "random" to the model).
        expected = [1, SEED_MAX - 1, SEED_MAX]
        assert sorted(b["seed"] for b in bodies(emulator, profile(ULTRA))) == expected
        assert sorted(i["seed"] for i in images) == expected


async def i2i(gateway: httpx.AsyncClient, content: Content, **fields: Any) -> httpx.Response:
    """POST an image-to-image body (JSON or multipart)."""
    return await post(gateway, "image-to-image", content, fields)


class TestImageToImage:
    @pytest.mark.parametrize("content", CONTENTS)
    @pytest.mark.parametrize("model_id", TAKE_IMAGES)
    async def test_exact_body_keeps_input_size(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        model_id: str,
        content: Content,
    ) -> None:
        fields: dict[str, Any] = {
            "model": model_id,
            "prompt": "the same cup, in watercolour",
            "negative_prompt": "text",
            "strength": 0.4,
            "seed": 9,
            "output_format": "png",
            "image": COFFEE,
        }
        if model_id == ULTRA:
            fields["style_preset"] = "origami"
        response = await i2i(gateway, content, **fields)
        [image] = answer_images(response, 1)
        assert image_size(image["b64_json"]) == (600, 400)
        assert response.json()["applied"] == {}
        [body] = bodies(emulator, profile(model_id))
        expected = {k: v for k, v in fields.items() if k not in ("model", "image")}
        assert body == {**expected, "mode": "image-to-image", "image": b64(COFFEE)}

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_jpeg_input_sent_as_given(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        response = await i2i(gateway, content, model="sd3.5", prompt="a launch", image=ROCKET)
        [image] = answer_images(response, 1)
        assert image_size(image["b64_json"]) == (640, 427)
        [body] = bodies(emulator, profile(SD35))
        assert body["image"] == b64(ROCKET)

    async def test_default_strength_sent_and_applied(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await i2i(gateway, "json", model="ultra", prompt="a cat", image=CHELSEA)
        answer_images(response, 1)
        assert response.json()["applied"] == {"strength": 0.6}
        [body] = bodies(emulator, profile(ULTRA))
        assert body["strength"] == 0.6

    async def test_closer_to_input_as_strength_falls(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        found = []
        for strength in (0.9, 0.6, 0.3, 0.0):
            response = await i2i(
                gateway,
                "json",
                model="sd3.5",
                prompt="a cat",
                image=CHELSEA,
                strength=strength,
                # One seed for all four: with a random one each, two strengths' distances could
                # come out in either order.
                seed=11,
            )
            [image] = answer_images(response, 1)
            found.append(mad(pixels(image["b64_json"]), pixels(CHELSEA)))
        assert found == sorted(found, reverse=True)
        assert len(set(found)) == 4
        assert found[-1] < 2.0  # strength 0 keeps the input

    async def test_n_calls_share_the_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await i2i(
            gateway, "json", model="sd3-large", prompt="a cat", image=CHELSEA, n=2, seed=3
        )
        answer_images(response, 2)
        sent = bodies(emulator, profile(SD3))
        assert [b["seed"] for b in sent] == [3, 4]
        assert all(b["image"] == b64(CHELSEA) for b in sent)


class TestVariations:
    @pytest.mark.parametrize("content", CONTENTS)
    @pytest.mark.parametrize("model_id", TAKE_IMAGES)
    async def test_one_image_default_strength(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        model_id: str,
        content: Content,
    ) -> None:
        fields = {"model": model_id, "prompt": "an astronaut", "seed": 77, "images": [ASTRONAUT]}
        response = await post(gateway, "variations", content, fields)
        [image] = answer_images(response, 1)
        assert image_size(image["b64_json"]) == (512, 512)
        assert response.json()["applied"] == {"strength": 0.35}
        [body] = bodies(emulator, profile(model_id))
        assert body == {
            "prompt": "an astronaut",
            "mode": "image-to-image",
            "image": b64(ASTRONAUT),
            "strength": 0.35,
            "seed": 77,
        }

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_two_images_refused(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {"model": "sd3.5", "prompt": "x", "images": [ASTRONAUT, CHELSEA]}
        assert_invalid(await post(gateway, "variations", content, fields), emulator, "images")


def _limit_cases() -> list[Any]:
    long = "a" * 10_001
    return [
        pytest.param("text-to-image", {"model": "core", "prompt": long}, "prompt", id="prompt"),
        pytest.param(
            "text-to-image",
            {"model": "core", "prompt": "x", "negative_prompt": long},
            "negative_prompt",
            id="negative_prompt",
        ),
        pytest.param(
            "text-to-image",
            {"model": "sd3.5", "prompt": "x", "seed": SEED_MAX + 1},
            "seed",
            id="seed",
        ),
        pytest.param(
            "image-to-image",
            {"model": "ultra", "prompt": "x", "image": CHELSEA, "seed": SEED_MAX + 1},
            "seed",
            id="seed-i2i",
        ),
        pytest.param(
            "text-to-image",
            {"model": "ultra", "prompt": "x", "output_format": "webp"},
            "output_format",
            id="webp-ultra",
        ),
        pytest.param(
            "text-to-image",
            {"model": "core", "prompt": "x", "output_format": "webp"},
            "output_format",
            id="webp-core",
        ),
        pytest.param(
            "text-to-image",
            {"model": "sd3.5", "prompt": "x", "style_preset": "anime"},
            "style_preset",
            id="style-sd35",
        ),
        pytest.param(
            "image-to-image",
            {"model": "sd3-large", "prompt": "x", "image": CHELSEA, "style_preset": "anime"},
            "style_preset",
            id="style-sd3",
        ),
        pytest.param(
            "text-to-image", {"model": "core", "prompt": "x", "width": 640}, "height", id="width"
        ),
        pytest.param(
            "text-to-image", {"model": "core", "prompt": "x", "height": 640}, "width", id="height"
        ),
        pytest.param(
            "text-to-image",
            {"model": "core", "prompt": "x", "aspect_ratio": "1:1", "width": 64, "height": 64},
            "aspect_ratio",
            id="ratio-and-size",
        ),
        pytest.param(
            "text-to-image", {"model": "core", "prompt": "x", "cfg_scale": 7}, "cfg_scale", id="cfg"
        ),
        pytest.param(
            "image-to-image", {"model": "sd3.5", "image": CHELSEA}, "prompt", id="prompt-i2i"
        ),
        pytest.param(
            "variations", {"model": "ultra", "images": [CHELSEA]}, "prompt", id="prompt-var"
        ),
        pytest.param(
            "image-to-image",
            {"model": "sd3.5", "prompt": "x", "image": CHELSEA, "aspect_ratio": "1:1"},
            "aspect_ratio",
            id="ratio-i2i",
        ),
        pytest.param(
            "image-to-image",
            {"model": "sd3.5", "prompt": "x", "image": CHELSEA, "width": 64, "height": 64},
            ("height", "width"),
            id="size-i2i",
        ),
        pytest.param(
            "image-to-image",
            {"model": "sd3.5", "prompt": "x", "image": CHELSEA, "strength": 1.01},
            "strength",
            id="strength",
        ),
        pytest.param(
            "image-to-image",
            {"model": "sd3.5", "prompt": "x", "image": resized(CHELSEA, (100, 63))},
            "image",
            id="min-side",
        ),
        pytest.param(
            "image-to-image",
            {"model": "sd3.5", "prompt": "x", "image": resized(CHELSEA, (161, 64))},
            "image",
            id="aspect",
        ),
        pytest.param(
            "variations",
            {"model": "sd3.5", "prompt": "x", "images": [resized(CHELSEA, (64, 161))]},
            "images[0]",
            id="aspect-var",
        ),
        pytest.param(
            "image-to-image",
            {"model": "ultra", "prompt": "x", "image": resized(ROCKET, (3073, 3072), "JPEG")},
            "image",
            id="pixels",
        ),
        pytest.param(
            "image-to-image",
            {"model": "core", "prompt": "x", "image": CHELSEA},
            "model",
            id="core-no-i2i",
        ),
    ]


def _by_content() -> list[Any]:
    """Each limit case in each content type its task takes (text-to-image is JSON only)."""
    cases = []
    for case in _limit_cases():
        task, fields, named = case.values
        names = named if isinstance(named, tuple) else (named,)
        for content in CONTENTS if task != "text-to-image" else ("json",):
            cases.append(pytest.param(task, content, fields, names, id=f"{case.id}-{content}"))
    return cases


class TestLimits:
    @pytest.mark.parametrize(("task", "content", "fields", "named"), _by_content())
    async def test_one_step_past_is_named(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        task: str,
        content: Content,
        fields: dict[str, Any],
        named: tuple[str, ...],
    ) -> None:
        response = await post(gateway, task, content, fields)
        assert_invalid(response, emulator, *named)

    @pytest.mark.parametrize(
        ("task", "fields"),
        [
            ("text-to-image", {"model": "core", "prompt": "a" * 10_000}),
            ("text-to-image", {"model": "core", "prompt": "x", "negative_prompt": "a" * 10_000}),
            ("text-to-image", {"model": "sd3.5", "prompt": "x", "seed": SEED_MAX}),
            ("text-to-image", {"model": "sd3.5", "prompt": "x", "width": 1, "height": 8192}),
            (
                "image-to-image",
                {"model": "sd3.5", "prompt": "x", "image": resized(CHELSEA, (100, 64))},
            ),
            (
                "image-to-image",
                {"model": "sd3.5", "prompt": "x", "image": resized(CHELSEA, (160, 64))},
            ),
            ("image-to-image", {"model": "sd3.5", "prompt": "x", "image": CHELSEA, "strength": 1}),
            (
                "image-to-image",
                {"model": "ultra", "prompt": "x", "image": resized(ROCKET, (3072, 3072), "JPEG")},
            ),
        ],
    )
    async def test_at_the_limit_is_served(
        self, gateway: httpx.AsyncClient, task: str, fields: dict[str, Any]
    ) -> None:
        answer_images(await post(gateway, task, "json", fields), 1)


class TestModels:
    async def test_listed_with_lifecycle_region_profile_and_limits(
        self, gateway: httpx.AsyncClient
    ) -> None:
        response = await gateway.get("/v1/models")
        assert response.status_code == 200
        models = {m["id"]: m for m in response.json()["models"] if m["family"] == "stability"}
        assert set(models) == set(LIVE + RETIRED)
        for model_id, model in models.items():
            assert model["invoke_id"] == profile(model_id)
            assert model["region"] == "us-west-2"
            assert model["read_timeout_s"] == 120
            assert model["status"] == ("active" if model_id in LIVE else "retired")
            limits = model["limits"]
            assert set(limits["aspect_ratios"]) == set(SIZES)
            assert limits["seed"] == [0, SEED_MAX]
            assert limits["images_per_call"] == 1
            assert bool(limits["style_presets"]) == (model_id in TAKE_STYLE)
            assert limits["image_to_image"] == (model_id in TAKE_IMAGES)
            tasks = {t["task"] for t in model["tasks"]}
            if model_id in TAKE_IMAGES:
                assert tasks == {"text-to-image", "image-to-image", "variations"}
                assert limits["input_image"]["max_pixels"] == 9_437_184
                assert limits["defaults"]["strength"] == {
                    "variations": 0.35,
                    "image-to-image": 0.6,
                }
            else:
                assert tasks == {"text-to-image"}
                assert "input_image" not in limits

        assert models[SD35]["aliases"] == ["sd3.5-large", "sd3.5"]
        assert models[SD35]["limits"]["output_formats"] == ["png", "jpeg", "webp"]
        assert models[ULTRA]["limits"]["output_formats"] == ["png", "jpeg"]
        assert "tile-texture" in models[CORE]["limits"]["style_presets"]
        assert models[SD3]["successors"] == ["sd3.5-large"]
        assert models[ULTRA_V10]["successors"] == ["ultra"]
        assert models[CORE_V10]["successors"] == ["core"]
        sd35_t2i = next(t for t in models[SD35]["tasks"] if t["task"] == "text-to-image")
        assert {"aspect_ratio", "width", "height", "output_format"} <= set(sd35_t2i["fields"])
        assert "cfg_scale" not in sd35_t2i["fields"]


class TestReadTimeout:
    async def test_entry_timeout_gives_504_while_another_model_answers(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(emulator, models=[{"id": SD35, "read_timeout_s": 0.2}])
        emulator.set_faults(latency_ms={"*": 1000})
        async with open_gateway(settings) as gateway:
            slow = await t2i(gateway, model="sd3.5", prompt="a clock")
            assert slow.status_code == 504, slow.text
            assert slow.headers["content-type"] == "application/problem+json"
            assert slow.json()["type"].endswith("upstream-timeout")
            assert SD35 in slow.json()["detail"]

            other = await t2i(gateway, model="core", prompt="a clock")
            answer_images(other, 1)
        # botocore retries a read timeout: every attempt timed out before the other model's call.
        called = [r["model_id"] for r in emulator.requests()]
        assert called == [profile(SD35)] * settings.max_attempts + [profile(CORE)]
