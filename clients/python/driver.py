"""Drive the Python client generated from openapi/openapi.json against a live gateway.

    python clients/python/driver.py BASE_URL SPEC   (clients/python/generated on sys.path)

Every operation of the spec is called through its generated module: GET /v1/models (and
?task=), GET /v1/models/{model_id}, text-to-image and color-guided with JSON bodies, and every edit
task twice, with a multipart body that uploads real images from tests/data and with a JSON body
carrying them in base64. Each answer is checked: status, the parsed model, the Served-Model header,
and every image decoded to its expected size. The bodies each task's check had answered are then
submitted as jobs (submit<Task>Job), each job polled to success (getJob), its images fetched by
their signed URLs (getFile) and one job cancelled (cancelJob). A batch (a JSONL file) is submitted
(submitBatch; one with a bad line is refused, naming it), polled until it completes (getBatch), its
result file fetched by its signed URL (getFile) and another batch cancelled (cancelBatch).
Binary answers (`Accept: image/png`, jpeg, webp) go through the generated client's own httpx
client: the generator keeps one media type per status (JSON here) and would parse the bytes as
JSON. A hook records every answer, and the run fails unless each request media type of each
operation and each media type of the 200 answers was answered at least once.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import re
import sys
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx
from gateway_client import Client
from gateway_client.api.batches import cancel_batch, get_batch, submit_batch
from gateway_client.api.jobs import cancel_job, get_file, get_job, submit_text_to_image_job
from gateway_client.api.models import get_model, list_models
from gateway_client.api.usage import get_usage
from gateway_client.models import (
    BatchOut,
    ColorGuidedRequest,
    ControlRequest,
    ControlRequestMultipart,
    ControlRequestMultipartControl,
    EditRequest,
    EditRequestMultipart,
    EraseRequest,
    EraseRequestMultipart,
    ImagesResponse,
    ImageToImageRequest,
    ImageToImageRequestMultipart,
    InpaintRequest,
    InpaintRequestMultipart,
    JobOut,
    MaskConvention,
    ModelInfo,
    ModelList,
    OutpaintRequest,
    OutpaintRequestMultipart,
    Problem,
    RemoveBackgroundRequest,
    RemoveBackgroundRequestMultipart,
    RemoveBackgroundRequestMultipartOutputFormat,
    SearchRecolorRequest,
    SearchRecolorRequestMultipart,
    SearchReplaceRequest,
    SearchReplaceRequestMultipart,
    StyleGuideRequest,
    StyleGuideRequestMultipart,
    StyleGuideRequestMultipartAspectRatio,
    StyleTransferRequest,
    StyleTransferRequestMultipart,
    Task,
    TextToImageRequest,
    UpscaleRequest,
    UpscaleRequestMultipart,
    UsageReport,
    VariationsRequest,
    VariationsRequestMultipart,
    VirtualTryOnRequest,
    VirtualTryOnRequestMultipart,
)
from gateway_client.types import File, Response
from PIL import Image

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
COFFEE = (600, 400)
CHELSEA = (451, 300)
ASTRONAUT = (512, 512)
ROCKET = (640, 427)
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


class Remembered:
    """A generated task module whose first accepted JSON body and multipart body are kept, so
    the jobs checks submit the very bodies the task's own check sent (`submit<Task>Job` takes
    the same request models)."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.bodies: dict[str, Any] = {}

    def sync_detailed(self, *args: Any, body: Any, **kwargs: Any) -> Any:
        """Call the operation; keep `body` when it was answered 200."""
        response = self.module.sync_detailed(*args, body=body, **kwargs)
        if response.status_code == 200:
            kind = "multipart" if type(body).__name__.endswith("Multipart") else "json"
            self.bodies.setdefault(kind, body)
        return response


TASK_MODULES = {
    name: Remembered(importlib.import_module(f"gateway_client.api.images.{name}"))
    for name in (
        "color_guided",
        "control",
        "edit",
        "erase",
        "image_to_image",
        "inpaint",
        "outpaint",
        "remove_background",
        "search_recolor",
        "search_replace",
        "style_guide",
        "style_transfer",
        "text_to_image",
        "upscale",
        "variations",
        "virtual_try_on",
    )
}
color_guided = TASK_MODULES["color_guided"]
control = TASK_MODULES["control"]
edit = TASK_MODULES["edit"]
erase = TASK_MODULES["erase"]
image_to_image = TASK_MODULES["image_to_image"]
inpaint = TASK_MODULES["inpaint"]
outpaint = TASK_MODULES["outpaint"]
remove_background = TASK_MODULES["remove_background"]
search_recolor = TASK_MODULES["search_recolor"]
search_replace = TASK_MODULES["search_replace"]
style_guide = TASK_MODULES["style_guide"]
style_transfer = TASK_MODULES["style_transfer"]
text_to_image = TASK_MODULES["text_to_image"]
upscale = TASK_MODULES["upscale"]
variations = TASK_MODULES["variations"]
virtual_try_on = TASK_MODULES["virtual_try_on"]


class DriverError(AssertionError):
    """An answer the generated client got is not what the operation promises."""


def check(condition: bool, message: str) -> None:
    """Fail the current operation with `message` unless `condition` holds."""
    if not condition:
        raise DriverError(message)


def upload(name: str) -> File:
    """A test image as a file part, with its name and type as a browser would send them."""
    mime = "image/jpeg" if name.endswith(".jpg") else "image/png"
    return File(payload=io.BytesIO((DATA / name).read_bytes()), file_name=name, mime_type=mime)


def b64(name: str) -> str:
    """A test image in base64, as JSON bodies carry it."""
    return base64.b64encode((DATA / name).read_bytes()).decode()


def decoded(data: bytes) -> Image.Image:
    """The image `data` holds, fully decoded (a truncated image fails here, not later)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def expect_images(
    response: Response[ImagesResponse | Problem],
    *,
    n: int,
    size: tuple[int, int],
    model: str,
) -> ImagesResponse:
    """A 200 with `n` images of `size` pixels from `model`, each decoding to its stated type."""
    parsed = response.parsed
    check(
        response.status_code == 200 and isinstance(parsed, ImagesResponse),
        f"expected 200 with images, got {response.status_code}: {response.content[:300]!r}",
    )
    assert isinstance(parsed, ImagesResponse)
    check(parsed.model == model, f"served by {parsed.model}, expected {model}")
    check(response.headers.get("served-model") == model, "Served-Model header")
    check(len(parsed.images) == n, f"{len(parsed.images)} images, expected {n}")
    for out in parsed.images:
        check(out.finish_reason.value == "success", f"finish_reason {out.finish_reason}")
        check(isinstance(out.b64_json, str), "no b64_json")
        assert isinstance(out.b64_json, str)
        image = decoded(base64.b64decode(out.b64_json))
        check(image.size == size, f"image of {image.size}, expected {size}")
        check(
            isinstance(out.mime_type, str) and FORMATS[out.mime_type] == image.format,
            f"mime_type {out.mime_type} but the bytes are {image.format}",
        )
    return parsed


def expect_binary(
    client: Client, path: str, accept: str, *, size: tuple[int, int], **body: Any
) -> None:
    """POST through the generated client's httpx client and expect the image bytes themselves."""
    answer = client.get_httpx_client().post(path, headers={"Accept": accept}, **body)
    check(answer.status_code == 200, f"{accept}: {answer.status_code} {answer.text[:300]}")
    check(answer.headers["content-type"] == accept, f"content-type {answer.headers}")
    check(answer.headers.get("finish-reason") == "success", "Finish-Reason header")
    image = decoded(answer.content)
    check(image.format == FORMATS[accept], f"{accept} answer holds {image.format}")
    check(image.size == size, f"binary image of {image.size}, expected {size}")


def check_list_models(client: Client) -> None:
    """Every model with its tasks; between them the models do every task of the spec."""
    response = list_models.sync_detailed(client=client)
    parsed = response.parsed
    check(response.status_code == 200 and isinstance(parsed, ModelList), "listModels")
    assert isinstance(parsed, ModelList)
    ids = {model.id for model in parsed.models}
    for expected in ("amazon.titan-image-generator-v1", "stability.sd3-5-large-v1:0"):
        check(expected in ids, f"{expected} not listed")
    tasks = {task.task for model in parsed.models for task in model.tasks}
    check(tasks == TASKS, f"tasks listed {sorted(tasks)}, spec has {sorted(TASKS)}")
    for model in parsed.models:
        check(bool(model.tasks) and bool(model.region), f"{model.id} lists no task or region")
        for task in model.tasks:
            check("prompt" in task.fields or task.task in PROMPTLESS, f"{model.id} {task.task}")
    upscalers = list_models.sync_detailed(client=client, task=Task.UPSCALE).parsed
    check(isinstance(upscalers, ModelList), "listModels?task=upscale")
    assert isinstance(upscalers, ModelList)
    modes = {model.selector["mode"] for model in upscalers.models}
    check(modes == {"fast", "conservative", "creative"}, f"upscalers by mode: {sorted(modes)}")


def check_get_model(client: Client) -> None:
    """One model by an alias; an unknown name is a 404 Problem with a suggestion."""
    response = get_model.sync_detailed("sd3.5-large", client=client)
    parsed = response.parsed
    check(response.status_code == 200 and isinstance(parsed, ModelInfo), "getModel")
    assert isinstance(parsed, ModelInfo)
    check(parsed.id == "stability.sd3-5-large-v1:0", f"getModel gave {parsed.id}")
    missing = get_model.sync_detailed("titna", client=client)
    problem = missing.parsed
    check(missing.status_code == 404 and isinstance(problem, Problem), "404 as a Problem")
    assert isinstance(problem, Problem)
    check("did you mean 'titan'?" in problem.detail, f"404 detail {problem.detail!r}")


def check_text_to_image(client: Client) -> None:
    """JSON bodies: Titan's n and size, SD3.5's aspect ratio; a refusal parses as a Problem."""
    body = TextToImageRequest(
        model="titan", prompt="a lighthouse at dusk", n=2, width=1152, height=768
    )
    response = text_to_image.sync_detailed(client=client, body=body)
    expect_images(response, n=2, size=(1152, 768), model="amazon.titan-image-generator-v1")
    body = TextToImageRequest.from_dict(
        {"model": "sd3.5-large", "prompt": "a lighthouse", "aspect_ratio": "16:9"}
    )
    response = text_to_image.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=(1344, 768), model="stability.sd3-5-large-v1:0")
    refused = text_to_image.sync_detailed(
        client=client, body=TextToImageRequest(model="titan", prompt="x", width=1000, height=1000)
    )
    problem = refused.parsed
    check(refused.status_code == 422 and isinstance(problem, Problem), "422 as a Problem")
    assert isinstance(problem, Problem)
    check(problem.status == 422 and bool(problem.errors), f"problem {problem.to_dict()}")
    for accept in ("image/png", "image/jpeg", "image/webp"):
        one = TextToImageRequest(
            model="titan", prompt="a lighthouse", width=1024, height=1024, seed=42
        )
        expect_binary(
            client, "/v1/images/text-to-image", accept, size=(1024, 1024), json=one.to_dict()
        )


def check_color_guided(client: Client) -> None:
    """JSON only: a palette of colours on Titan v2."""
    body = ColorGuidedRequest.from_dict(
        {"model": "titan-v2", "prompt": "a living room", "colors": ["#FF8800", "#0044AA"]}
    )
    response = color_guided.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=(1024, 1024), model="amazon.titan-image-generator-v2:0")


def check_inpaint(client: Client) -> None:
    """Titan's black mask, a seed and a float in multipart; OpenAI's alpha mask in JSON."""
    model = "amazon.titan-image-generator-v1"
    multipart = InpaintRequestMultipart(
        image=upload("coffee.png"),
        mask=upload("coffee-mask-black-edit.png"),
        model="titan",
        prompt="a latte",
        seed=7,
        cfg_scale=6.5,
    )
    response = inpaint.sync_detailed(client=client, body=multipart)
    parsed = expect_images(response, n=1, size=COFFEE, model=model)
    check(parsed.images[0].seed == 7, f"seed {parsed.images[0].seed}, sent 7")
    body = InpaintRequest.from_dict(
        {
            "image": b64("coffee.png"),
            "mask": b64("coffee-mask-alpha-edit.png"),
            "mask_convention": "alpha-is-edit",
            "model": "titan",
            "prompt": "a latte",
        }
    )
    expect_images(inpaint.sync_detailed(client=client, body=body), n=1, size=COFFEE, model=model)


def check_outpaint(client: Client) -> None:
    """Stability outpaint widens the canvas by the pixels asked for."""
    model = "stability.stable-outpaint-v1:0"
    multipart = OutpaintRequestMultipart(
        image=upload("chelsea.png"), model="stability-outpaint", left=64, right=36, prompt="a sofa"
    )
    size = (CHELSEA[0] + 100, CHELSEA[1])
    expect_images(
        outpaint.sync_detailed(client=client, body=multipart), n=1, size=size, model=model
    )
    body = OutpaintRequest.from_dict(
        {"image": b64("chelsea.png"), "model": "stability-outpaint", "up": 20, "prompt": "a sofa"}
    )
    size = (CHELSEA[0], CHELSEA[1] + 20)
    expect_images(outpaint.sync_detailed(client=client, body=body), n=1, size=size, model=model)


def check_variations(client: Client) -> None:
    """Two images in one multipart body (a repeated file part), one in a JSON list."""
    model = "amazon.titan-image-generator-v1"
    multipart = VariationsRequestMultipart(
        images=[upload("coffee-1216x832.png"), upload("chelsea.png")],
        model="titan",
        n=2,
        width=1152,
        height=768,
    )
    response = variations.sync_detailed(client=client, body=multipart)
    expect_images(response, n=2, size=(1152, 768), model=model)
    body = VariationsRequest.from_dict({"images": [b64("coffee.png")], "model": "titan"})
    response = variations.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=(1024, 1024), model=model)


def check_edit(client: Client) -> None:
    """Nova 2 Omni: two images in one multipart body (the first edited); one in JSON, cropped to
    the aspect ratio asked for."""
    model = "amazon.nova-2-omni-v1:0"
    multipart = EditRequestMultipart(
        images=[upload("chelsea.png"), upload("coffee.png")], prompt="put the cat in the cup"
    )
    expect_images(edit.sync_detailed(client=client, body=multipart), n=1, size=CHELSEA, model=model)
    body = EditRequest.from_dict(
        {"images": [b64("coffee.png")], "prompt": "remove the cup", "aspect_ratio": "1:1"}
    )
    expect_images(edit.sync_detailed(client=client, body=body), n=1, size=(400, 400), model=model)


def check_virtual_try_on(client: Client) -> None:
    """Nova Canvas: a garment on the upper body (the default mask type) from uploaded files; in
    JSON, where a mask marks. The answer has the person image's size."""
    model = "amazon.nova-canvas-v1:0"
    multipart = VirtualTryOnRequestMultipart(
        image=upload("astronaut.png"), reference_image=upload("chelsea.png"), model="nova-canvas"
    )
    response = virtual_try_on.sync_detailed(client=client, body=multipart)
    expect_images(response, n=1, size=ASTRONAUT, model=model)
    body = VirtualTryOnRequest.from_dict(
        {
            "image": b64("coffee.png"),
            "reference_image": b64("chelsea.png"),
            "mask": b64("coffee-mask-black-edit.png"),
            "model": "nova-canvas",
        }
    )
    response = virtual_try_on.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=COFFEE, model=model)


def check_image_to_image(client: Client) -> None:
    """A JPEG upload to SD3.5 Large; SDXL from JSON."""
    multipart = ImageToImageRequestMultipart(
        image=upload("rocket.jpg"), model="sd3.5-large", prompt="as a watercolour", strength=0.6
    )
    response = image_to_image.sync_detailed(client=client, body=multipart)
    expect_images(response, n=1, size=ROCKET, model="stability.sd3-5-large-v1:0")
    body = ImageToImageRequest.from_dict(
        {"image": b64("coffee-1216x832.png"), "model": "sdxl", "prompt": "a space ship"}
    )
    response = image_to_image.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=(1216, 832), model="stability.stable-diffusion-xl-v1")


def check_erase(client: Client) -> None:
    """Stability's white-is-edit mask as a file; the image's own transparency in JSON."""
    model = "stability.stable-image-erase-object-v1:0"
    multipart = EraseRequestMultipart(
        image=upload("coffee.png"),
        mask=upload("coffee-mask-white-edit.png"),
        mask_convention=MaskConvention.WHITE_IS_EDIT,
    )
    expect_images(erase.sync_detailed(client=client, body=multipart), n=1, size=COFFEE, model=model)
    body = EraseRequest.from_dict(
        {"image": b64("coffee-mask-alpha-edit.png"), "mask_convention": "alpha-is-edit"}
    )
    expect_images(erase.sync_detailed(client=client, body=body), n=1, size=COFFEE, model=model)


def check_search_replace(client: Client) -> None:
    """Replace what a prompt names."""
    model = "stability.stable-image-search-replace-v1:0"
    multipart = SearchReplaceRequestMultipart(
        image=upload("coffee.png"), search_prompt="the cup", prompt="a teapot"
    )
    response = search_replace.sync_detailed(client=client, body=multipart)
    expect_images(response, n=1, size=COFFEE, model=model)
    body = SearchReplaceRequest.from_dict(
        {"image": b64("chelsea.png"), "search_prompt": "the cat", "prompt": "a dog"}
    )
    response = search_replace.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=CHELSEA, model=model)


def check_search_recolor(client: Client) -> None:
    """Recolour what a prompt names."""
    model = "stability.stable-image-search-recolor-v1:0"
    multipart = SearchRecolorRequestMultipart(
        image=upload("chelsea.png"), select_prompt="the cat", prompt="a black cat"
    )
    response = search_recolor.sync_detailed(client=client, body=multipart)
    expect_images(response, n=1, size=CHELSEA, model=model)
    body = SearchRecolorRequest.from_dict(
        {"image": b64("coffee.png"), "select_prompt": "the cup", "prompt": "a red cup"}
    )
    response = search_recolor.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=COFFEE, model=model)


def check_remove_background(client: Client) -> None:
    """WebP in JSON; PNG bytes as the answer itself, uploaded by multipart and by JSON."""
    model = "stability.stable-image-remove-background-v1:0"
    multipart = RemoveBackgroundRequestMultipart(
        image=upload("astronaut.png"),
        output_format=RemoveBackgroundRequestMultipartOutputFormat.WEBP,
    )
    response = remove_background.sync_detailed(client=client, body=multipart)
    expect_images(response, n=1, size=ASTRONAUT, model=model)
    body = RemoveBackgroundRequest.from_dict({"image": b64("rocket.jpg")})
    response = remove_background.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=ROCKET, model=model)
    path = "/v1/images/remove-background"
    upload_body = RemoveBackgroundRequestMultipart(image=upload("astronaut.png"))
    expect_binary(client, path, "image/png", size=ASTRONAUT, files=upload_body.to_multipart())


def check_upscale(client: Client) -> None:
    """Fast upscale: four times the pixels on each side."""
    model = "stability.stable-fast-upscale-v1:0"
    multipart = UpscaleRequestMultipart(image=upload("chelsea.png"))
    size = (CHELSEA[0] * 4, CHELSEA[1] * 4)
    expect_images(upscale.sync_detailed(client=client, body=multipart), n=1, size=size, model=model)
    body = UpscaleRequest.from_dict({"image": b64("coffee.png"), "mode": "fast"})
    size = (COFFEE[0] * 4, COFFEE[1] * 4)
    expect_images(upscale.sync_detailed(client=client, body=body), n=1, size=size, model=model)


def check_style_transfer(client: Client) -> None:
    """Two uploads in one body: the image to redraw and the style to take."""
    model = "stability.stable-style-transfer-v1:0"
    multipart = StyleTransferRequestMultipart(
        init_image=upload("coffee.png"), style_image=upload("astronaut.png"), style_strength=0.8
    )
    response = style_transfer.sync_detailed(client=client, body=multipart)
    expect_images(response, n=1, size=COFFEE, model=model)
    body = StyleTransferRequest.from_dict(
        {"init_image": b64("chelsea.png"), "style_image": b64("rocket.jpg")}
    )
    response = style_transfer.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=CHELSEA, model=model)


def check_style_guide(client: Client) -> None:
    """A new image in a reference's style, at the aspect ratio asked for."""
    model = "stability.stable-image-style-guide-v1:0"
    multipart = StyleGuideRequestMultipart(
        image=upload("astronaut.png"),
        prompt="a mountain village",
        aspect_ratio=StyleGuideRequestMultipartAspectRatio.RATIO_3_2,
    )
    response = style_guide.sync_detailed(client=client, body=multipart)
    expect_images(response, n=1, size=(1216, 832), model=model)
    body = StyleGuideRequest.from_dict({"image": b64("coffee.png"), "prompt": "a village"})
    response = style_guide.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=(1024, 1024), model=model)


def check_control(client: Client) -> None:
    """Sketch control by multipart, structure control by JSON: each picks its model."""
    multipart = ControlRequestMultipart(
        image=upload("chelsea.png"),
        control=ControlRequestMultipartControl.SKETCH,
        prompt="a castle",
    )
    response = control.sync_detailed(client=client, body=multipart)
    expect_images(response, n=1, size=CHELSEA, model="stability.stable-image-control-sketch-v1:0")
    body = ControlRequest.from_dict(
        {"image": b64("coffee.png"), "control": "structure", "prompt": "a castle"}
    )
    response = control.sync_detailed(client=client, body=body)
    expect_images(response, n=1, size=COFFEE, model="stability.stable-image-control-structure-v1:0")


# Jobs: every task's accepted bodies again, as jobs; then each polled (GET with wait), its images
# fetched by their signed URLs, and one cancelled.
JOBS: list[JobOut] = []
FINISHED: list[JobOut] = []


def rewind(body: Any) -> None:
    """File parts an earlier call read are sent again from their first byte."""
    for field in attrs.fields(type(body)):
        value = getattr(body, field.name)
        for part in value if isinstance(value, list) else [value]:
            if isinstance(part, File):
                part.payload.seek(0)


def check_submit(module: str) -> Callable[[Client], None]:
    """The check of `submit<Task>Job`: the bodies the task's own check had answered, queued."""
    task = module.replace("_", "-")

    def run(client: Client) -> None:
        bodies = TASK_MODULES[module].bodies
        check("json" in bodies, f"{task}: its check had no JSON body answered 200")
        submit = importlib.import_module(f"gateway_client.api.jobs.submit_{module}_job")
        for kind, body in bodies.items():
            rewind(body)
            response = submit.sync_detailed(client=client, body=body)
            job = response.parsed
            check(
                response.status_code == 202 and isinstance(job, JobOut),
                f"{task} {kind}: {response.status_code} {response.content[:300]!r}",
            )
            assert isinstance(job, JobOut)
            check(response.headers.get("location") == job.status_url, "Location: status URL")
            check(job.task == task and job.status.value != "failed", f"{job.to_dict()}")
            JOBS.append(job)

    return run


def check_get_job(client: Client) -> None:
    """Each job polled with ?wait until it ends: succeeded, with an image URL per image; another
    id is a 404 Problem."""
    check(len(JOBS) >= 26, f"{len(JOBS)} jobs submitted")
    for job in JOBS:
        response = get_job.sync_detailed(job.id, client=client, wait=60)
        done = response.parsed
        check(response.status_code == 200 and isinstance(done, JobOut), f"getJob {job.id}")
        assert isinstance(done, JobOut)
        check(done.status.value == "succeeded", f"{done.task}: {done.to_dict()}")
        check(bool(done.images) and all(i.url for i in done.images), f"{done.to_dict()}")
        check(done.progress == 1.0 and done.finished_at is not None, "progress and finished_at")
        FINISHED.append(done)
    missing = get_job.sync_detailed("job_0", client=client)
    check(missing.status_code == 404 and isinstance(missing.parsed, Problem), "404 Problem")


def check_get_file(client: Client) -> None:
    """Every image of every job by its signed URL, decoding to its type; an altered signature
    is a 403 Problem."""
    for job in FINISHED:
        for image in job.images:
            assert isinstance(image.url, str)
            url = httpx.URL(image.url)
            name = url.path.rsplit("/", 1)[1]
            query = dict(url.params)
            response = get_file.sync_detailed(
                name, client=client, expires=query["expires"], signature=query["signature"]
            )
            check(response.status_code == 200, f"getFile {name}: {response.status_code}")
            decoded_image = decoded(response.content)
            check(FORMATS[str(image.mime_type)] == decoded_image.format, f"{name} format")
    image = FINISHED[0].images[0]
    assert isinstance(image.url, str)
    url = httpx.URL(image.url)
    altered = get_file.sync_detailed(
        url.path.rsplit("/", 1)[1], client=client, expires=url.params["expires"], signature="0"
    )
    check(altered.status_code == 403 and isinstance(altered.parsed, Problem), "403 Problem")


def check_cancel_job(client: Client) -> None:
    """A job cancelled: answered as cancelled (or as it ended, when it already had); an id of
    no job is a 404 Problem."""
    body = TextToImageRequest(prompt="a lighthouse", width=512, height=512)
    job = submit_text_to_image_job.sync_detailed(client=client, body=body).parsed
    check(isinstance(job, JobOut), "submitted")
    assert isinstance(job, JobOut)
    response = cancel_job.sync_detailed(job.id, client=client)
    after = response.parsed
    check(response.status_code == 200 and isinstance(after, JobOut), f"cancelJob {job.id}")
    assert isinstance(after, JobOut)
    check(after.status.value in ("cancelled", "succeeded"), f"after cancel: {after.status}")
    missing = cancel_job.sync_detailed("job_0", client=client)
    check(missing.status_code == 404 and isinstance(missing.parsed, Problem), "404 Problem")


# Batches: one of three text-to-image lines polled to its end and its result file read; another
# cancelled.
BATCHES: list[BatchOut] = []


def kite_lines(count: int) -> list[dict[str, Any]]:
    """`count` text-to-image lines, each with its custom_id."""
    return [
        {
            "custom_id": f"kite-{i}",
            "task": "text-to-image",
            "body": {"prompt": f"a kite, number {i}", "width": 512, "height": 512},
        }
        for i in range(count)
    ]


def jsonl_file(lines: list[dict[str, Any]]) -> File:
    """`lines` as the JSONL file submitBatch takes."""
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    return File(payload=io.BytesIO(data), file_name="batch.jsonl", mime_type="application/jsonl")


def check_submit_batch(client: Client) -> None:
    """Three lines accepted (202 with the batch, Location its status URL); a batch with an
    unknown task on its second line refused whole, that line named (422 Problem)."""
    response = submit_batch.sync_detailed(client=client, body=jsonl_file(kite_lines(3)))
    batch = response.parsed
    check(
        response.status_code == 202 and isinstance(batch, BatchOut),
        f"submitBatch: {response.status_code} {response.content[:300]!r}",
    )
    assert isinstance(batch, BatchOut)
    check(response.headers.get("location") == batch.status_url, "Location: status URL")
    check(batch.counts.total == 3, f"{batch.to_dict()}")
    BATCHES.append(batch)
    bad_line = {"custom_id": "typo", "task": "text-to-imag", "body": {"prompt": "a kite"}}
    refused = submit_batch.sync_detailed(client=client, body=jsonl_file([*kite_lines(1), bad_line]))
    check(refused.status_code == 422 and isinstance(refused.parsed, Problem), "422 Problem")
    [reported] = json.loads(refused.content)["lines"]
    check(reported["line"] == 2 and reported["custom_id"] == "typo", f"{reported}")


def check_get_batch(client: Client) -> None:
    """The batch polled with ?wait until it completes; its result file fetched by its signed
    URL (getFile): one succeeded line per custom_id, each with its images' URLs; another id is a
    404 Problem."""
    check(len(BATCHES) == 1, "a batch was submitted")
    done = BATCHES[0]
    for _ in range(5):
        response = get_batch.sync_detailed(done.id, client=client, wait=60)
        parsed = response.parsed
        check(response.status_code == 200 and isinstance(parsed, BatchOut), f"getBatch {done.id}")
        assert isinstance(parsed, BatchOut)
        done = parsed
        if done.status.value == "completed":
            break
    check(done.status.value == "completed" and done.counts.succeeded == 3, f"{done.to_dict()}")
    assert isinstance(done.result_url, str)
    url = httpx.URL(done.result_url)
    result = get_file.sync_detailed(
        url.path.rsplit("/", 1)[1],
        client=client,
        expires=url.params["expires"],
        signature=url.params["signature"],
    )
    check(result.status_code == 200, f"result file: {result.status_code}")
    check(result.headers.get("content-type") == "application/jsonl", "result file type")
    rows = [json.loads(row) for row in result.content.splitlines()]
    check(sorted(row["custom_id"] for row in rows) == ["kite-0", "kite-1", "kite-2"], f"{rows}")
    check(all(row["status"] == "succeeded" and row["images"][0]["url"] for row in rows), "rows")
    missing = get_batch.sync_detailed("batch_0", client=client)
    check(missing.status_code == 404 and isinstance(missing.parsed, Problem), "404 Problem")


def check_cancel_batch(client: Client) -> None:
    """A batch cancelled: answered cancelled (or completed, when it had already ended), every
    line counted; an id of no batch is a 404 Problem."""
    batch = submit_batch.sync_detailed(client=client, body=jsonl_file(kite_lines(2))).parsed
    check(isinstance(batch, BatchOut), "submitted")
    assert isinstance(batch, BatchOut)
    response = cancel_batch.sync_detailed(batch.id, client=client)
    after = response.parsed
    check(response.status_code == 200 and isinstance(after, BatchOut), f"cancelBatch {batch.id}")
    assert isinstance(after, BatchOut)
    # `cancelling` when a worker was recording the last line as the cancel came: it ends it.
    ended = ("cancelled", "cancelling", "completed")
    check(after.status.value in ended, f"after cancel: {after.status}")
    counts = after.counts
    check(counts.succeeded + counts.cancelled + counts.failed == 2, f"{after.to_dict()}")
    missing = cancel_batch.sync_detailed("batch_0", client=client)
    check(missing.status_code == 404 and isinstance(missing.parsed, Problem), "404 Problem")


def check_get_usage(client: Client) -> None:
    """This run's spend (the calling key's, anonymous here): every row summed in the totals, at
    least the images the checks before made; `from` after `to` is a 422 Problem."""
    response = get_usage.sync_detailed(client=client)
    report = response.parsed
    check(response.status_code == 200 and isinstance(report, UsageReport), "getUsage")
    assert isinstance(report, UsageReport)
    check(report.key == "anonymous", f"usage of {report.key}")
    check(report.images > 0 and report.cost_usd > 0, f"usage {report.to_dict()}")
    check(sum(row.images for row in report.usage) == report.images, "rows sum to the images")
    spent = sum(row.cost_usd for row in report.usage)
    check(abs(spent - report.cost_usd) < 1e-6, f"rows sum to ${spent}, total ${report.cost_usd}")
    after = report.to + timedelta(days=1)
    backwards = get_usage.sync_detailed(client=client, from_=after, to=report.to)
    problem = backwards.parsed
    check(backwards.status_code == 422 and isinstance(problem, Problem), "422 Problem")


CHECKS: dict[str, Callable[[Client], None]] = {
    "listModels": check_list_models,
    "getModel": check_get_model,
    "textToImage": check_text_to_image,
    "colorGuided": check_color_guided,
    "inpaint": check_inpaint,
    "outpaint": check_outpaint,
    "variations": check_variations,
    "imageToImage": check_image_to_image,
    "edit": check_edit,
    "virtualTryOn": check_virtual_try_on,
    "erase": check_erase,
    "searchReplace": check_search_replace,
    "searchRecolor": check_search_recolor,
    "removeBackground": check_remove_background,
    "upscale": check_upscale,
    "styleTransfer": check_style_transfer,
    "styleGuide": check_style_guide,
    "control": check_control,
    **{f"submit{name.title().replace('_', '')}Job": check_submit(name) for name in TASK_MODULES},
    "getJob": check_get_job,
    "getFile": check_get_file,
    "cancelJob": check_cancel_job,
    "submitBatch": check_submit_batch,
    "getBatch": check_get_batch,
    "cancelBatch": check_cancel_batch,
    "getUsage": check_get_usage,
}
TASKS: set[str] = set()  # filled from the spec: every /v1/images/<task> path
PROMPTLESS = {
    "variations", "erase", "remove-background", "upscale", "style-transfer", "virtual-try-on",
}  # fmt: skip


class Coverage:
    """What the live gateway answered with 2xx: (method, path, request type, answer type)."""

    def __init__(self) -> None:
        self.answered: set[tuple[str, str, str, str]] = set()

    def hook(self, response: httpx.Response) -> None:
        """httpx response hook: record each successful answer."""
        if response.is_success:
            request = response.request
            self.answered.add(
                (
                    request.method.lower(),
                    request.url.path,
                    _media(request.headers.get("content-type")),
                    _media(response.headers.get("content-type")),
                )
            )

    def missing(self, spec: dict[str, Any]) -> list[str]:
        """Each request media type of each operation, and each 200 answer type, not yet seen."""
        gaps = []
        answer_types: set[str] = set()
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                body = operation.get("requestBody", {}).get("content", {"": {}})
                for media in body:
                    if not any(
                        a[0] == method and _matches(path, a[1]) and a[2] == media
                        for a in self.answered
                    ):
                        gaps.append(f"{operation['operationId']} with a {media or 'no'} body")
                answer_types |= set(operation["responses"].get("200", {}).get("content", {}))
        seen = {a[3] for a in self.answered}
        gaps += [f"a 200 answer of type {media}" for media in sorted(answer_types - seen)]
        return gaps


def _matches(template: str, path: str) -> bool:
    """Whether `path` is one of the spec's `template` (`/v1/models/{model_id}`)."""
    pieces = re.split(r"\{[^}]+\}", template)
    return re.fullmatch(".+".join(re.escape(piece) for piece in pieces), path) is not None


def _media(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def main() -> int:
    """Run every operation's check; print each result; non-zero if any failed."""
    base_url, spec_path = sys.argv[1], sys.argv[2]
    spec: dict[str, Any] = json.loads(Path(spec_path).read_text())
    operations = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    TASKS.update(p.removeprefix("/v1/images/") for p in spec["paths"] if "/images/" in p)
    failures = []
    if set(CHECKS) != operations:
        failures.append(
            f"the driver checks {sorted(CHECKS)} but the spec has {sorted(operations)}: "
            "add a check for each new operation"
        )
    coverage = Coverage()
    client = Client(
        base_url=base_url,
        timeout=httpx.Timeout(120.0),
        httpx_args={"event_hooks": {"response": [coverage.hook]}},
        raise_on_unexpected_status=True,
    )
    with client:
        for operation_id, run in CHECKS.items():
            try:
                run(client)
            except Exception:
                failures.append(f"{operation_id}: {traceback.format_exc()}")
                print(f"FAIL {operation_id}", flush=True)
            else:
                print(f"ok   {operation_id}", flush=True)
    failures += [f"never exercised: {gap}" for gap in coverage.missing(spec)]
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"python client: {len(CHECKS)} operations, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
