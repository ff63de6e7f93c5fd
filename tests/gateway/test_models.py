"""GET /v1/models: every model with its tasks, the fields each takes, limits and defaults."""

from __future__ import annotations

import httpx


async def test_lists_titan_and_sdxl_with_tasks_limits_and_defaults(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/v1/models")
    assert response.status_code == 200
    models = {m["id"]: m for m in response.json()["models"]}
    assert set(models) == {"amazon.titan-image-generator-v1", "stability.stable-diffusion-xl-v1"}

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
