"""GET /v1/models: every model with its tasks, the fields each takes, limits and defaults."""

from __future__ import annotations

import httpx

SDXL = "stability.stable-diffusion-xl-v1"
SDXL_V0 = "stability.stable-diffusion-xl-v0"
NOVA_OMNI = "amazon.nova-2-omni-v1:0"
RETIRED = {
    "amazon.titan-image-generator-v1",
    "amazon.titan-image-generator-v2:0",
    "amazon.nova-canvas-v1:0",
    SDXL,
    SDXL_V0,
    "stability.sd3-large-v1:0",
    "stability.stable-image-ultra-v1:0",
    "stability.stable-image-core-v1:0",
}


SERVED = {
    "amazon.titan-image-generator-v1",
    "amazon.titan-image-generator-v2:0",
    "amazon.nova-canvas-v1:0",
    "stability.stable-diffusion-xl-v1",
    SDXL_V0,
    "stability.sd3-5-large-v1:0",
    "stability.stable-image-ultra-v1:1",
    "stability.stable-image-core-v1:1",
    "stability.sd3-large-v1:0",
    "stability.stable-image-ultra-v1:0",
    "stability.stable-image-core-v1:0",
    "stability.stable-image-inpaint-v1:0",
    "stability.stable-outpaint-v1:0",
    "stability.stable-image-search-replace-v1:0",
    "stability.stable-image-search-recolor-v1:0",
    "stability.stable-image-erase-object-v1:0",
    "stability.stable-image-remove-background-v1:0",
    "stability.stable-image-control-sketch-v1:0",
    "stability.stable-image-control-structure-v1:0",
    "stability.stable-image-style-guide-v1:0",
    "stability.stable-style-transfer-v1:0",
    "stability.stable-fast-upscale-v1:0",
    "stability.stable-conservative-upscale-v1:0",
    "stability.stable-creative-upscale-v1:0",
    NOVA_OMNI,
}
# Without `model`: the default model, else the first model serving the task (for upscale, the
# one `mode` picks by default; control has none: `control` is required).
DEFAULTS = {
    "text-to-image": "amazon.titan-image-generator-v1",
    "inpaint": "amazon.titan-image-generator-v1",
    "outpaint": "amazon.titan-image-generator-v1",
    "variations": "amazon.titan-image-generator-v1",
    "image-to-image": "amazon.titan-image-generator-v1",
    "erase": "stability.stable-image-erase-object-v1:0",
    "search-replace": "stability.stable-image-search-replace-v1:0",
    "search-recolor": "stability.stable-image-search-recolor-v1:0",
    "remove-background": "stability.stable-image-remove-background-v1:0",
    "upscale": "stability.stable-fast-upscale-v1:0",
    "style-transfer": "stability.stable-style-transfer-v1:0",
    "style-guide": "stability.stable-image-style-guide-v1:0",
    "color-guided": "amazon.titan-image-generator-v2:0",
    "edit": NOVA_OMNI,
    "virtual-try-on": "amazon.nova-canvas-v1:0",
}


async def test_every_model_with_its_lifecycle_and_where_it_is_called(
    gateway: httpx.AsyncClient,
) -> None:
    models = {m["id"]: m for m in (await gateway.get("/v1/models")).json()["models"]}
    assert set(models) == SERVED
    for model in models.values():
        live = model["id"] in SERVED - RETIRED
        assert model["status"] == ("active" if live else "retired"), model["id"]
        if model["id"].startswith("stability.") and model["id"] not in (SDXL, SDXL_V0):
            assert model["invoke_id"] == f"us.{model['id']}"
            assert model["region"] == "us-west-2"
        elif model["id"] == NOVA_OMNI:
            assert model["invoke_id"] == f"us.{NOVA_OMNI}"
            assert model["region"] == "us-east-1"
        else:
            assert model["invoke_id"] == model["id"]
            assert model["region"] == "us-east-1"  # the gateway's own
    assert models[SDXL]["end_of_life"] == "2025-05-20"
    assert models["amazon.nova-canvas-v1:0"]["end_of_life"] == "2026-09-30"
    assert models["stability.stable-fast-upscale-v1:0"]["selector"] == {"mode": "fast"}


async def test_each_task_flags_the_model_a_request_without_model_goes_to(
    gateway: httpx.AsyncClient,
) -> None:
    flagged: dict[str, list[str]] = {}
    for model in (await gateway.get("/v1/models")).json()["models"]:
        for task in model["tasks"]:
            if task["default"]:
                flagged.setdefault(task["task"], []).append(model["id"])
    assert flagged == {task: [model_id] for task, model_id in DEFAULTS.items()}


async def test_lists_titan_and_sdxl_with_tasks_limits_and_defaults(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/v1/models")
    assert response.status_code == 200
    models = {m["id"]: m for m in response.json()["models"]}

    titan = models["amazon.titan-image-generator-v1"]
    assert titan["aliases"] == ["titan", "titan-v1"]
    tasks = {t["task"]: t for t in titan["tasks"]}
    assert set(tasks) == {"text-to-image", "inpaint", "outpaint", "variations", "image-to-image"}
    assert "mask_prompt" in tasks["inpaint"]["fields"]
    assert "outpainting_mode" in tasks["outpaint"]["fields"]
    assert all(t["default"] for t in titan["tasks"]), "titan is the default model of every task"
    assert "1173x640" in titan["limits"]["sizes"]
    assert titan["limits"]["images_per_call"] == 5
    assert titan["limits"]["defaults"]["cfg_scale"] == 8.0

    sdxl = models["stability.stable-diffusion-xl-v1"]
    sdxl_tasks = {t["task"]: t for t in sdxl["tasks"]}
    assert "mask_prompt" not in sdxl_tasks["inpaint"]["fields"]
    assert "style_preset" in sdxl_tasks["text-to-image"]["fields"]
    assert not any(t["default"] for t in sdxl["tasks"])
    assert sdxl["limits"]["input_pixels"] == [262_144, 1_048_576]
