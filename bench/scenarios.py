"""The calls measured: each as the native Bedrock body posted straight to the upstream (A) and as
the equivalent gateway request (B), built once as bytes so that the client's cost per request is
the same every time."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import orjson

from .upstream import png_of

TITAN = "amazon.titan-image-generator-v1"
SDXL = "stability.stable-diffusion-xl-v1"
PROMPT = "a red fox in the snow, photograph"
BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"


@dataclass(frozen=True)
class Call:
    """One HTTP request, ready to send."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A call measured both ways; `images` is how many images each answer must hold."""

    name: str
    label: str
    direct: Call
    gateway: Call
    images: int = 1
    binary: bool = False


def invoke(model_id: str, body: dict[str, object]) -> Call:
    """InvokeModel as a client posts it (the upstream checks no signature)."""
    return Call(
        f"/model/{model_id}/invoke",
        orjson.dumps(body),
        {"Content-Type": "application/json", "Accept": "application/json"},
    )


def native(task: str, fields: dict[str, object], accept: str = "application/json") -> Call:
    return Call(
        f"/v1/images/{task}",
        orjson.dumps(fields),
        {"Content-Type": "application/json", "Accept": accept},
    )


def multipart(task: str, fields: dict[str, str], files: dict[str, bytes]) -> Call:
    """A multipart/form-data request, encoded once."""
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for name, data in files.items():
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{name}.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return Call(
        f"/v1/images/{task}",
        out.getvalue(),
        {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Accept": "application/json"},
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def mask_png(width: int, height: int) -> bytes:
    """Titan's convention: black marks the pixels to generate (an ellipse in the middle)."""
    from PIL import Image, ImageDraw

    mask = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(mask).ellipse(
        (width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill="black"
    )
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


def titan_text_image(size: int, n: int) -> dict[str, object]:
    return {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": PROMPT},
        "imageGenerationConfig": {
            "numberOfImages": n,
            "width": size,
            "height": size,
            "cfgScale": 8.0,
            "seed": 42,
        },
    }


def text_to_image(size: int, n: int) -> Scenario:
    return Scenario(
        f"titan-t2i-{size}-n{n}",
        f"Titan text-to-image JSON, {size}², n={n}",
        invoke(TITAN, titan_text_image(size, n)),
        native(
            "text-to-image",
            {"model": "titan", "prompt": PROMPT, "width": size, "height": size, "n": n, "seed": 42},
        ),
        images=n,
    )


def binary() -> Scenario:
    return Scenario(
        "titan-t2i-1024-png",
        "Titan text-to-image, 1024², `Accept: image/png`",
        invoke(TITAN, titan_text_image(1024, 1)),
        native(
            "text-to-image",
            {"model": "titan", "prompt": PROMPT, "width": 1024, "height": 1024, "seed": 42},
            accept="image/png",
        ),
        binary=True,
    )


def inpaint(width: int = 1024, height: int = 1024, name: str = "titan-inpaint-1024") -> Scenario:
    image, mask = png_of(width, height), mask_png(width, height)
    return Scenario(
        name,
        f"Titan inpaint, multipart {width}×{height} PNG + mask",
        invoke(
            TITAN,
            {
                "taskType": "INPAINTING",
                "inPaintingParams": {"image": b64(image), "maskImage": b64(mask), "text": PROMPT},
                "imageGenerationConfig": {"numberOfImages": 1, "cfgScale": 8.0, "seed": 42},
            },
        ),
        multipart(
            "inpaint",
            {"model": "titan", "prompt": PROMPT, "seed": "42"},
            {"image": image, "mask": mask},
        ),
    )


def image_to_image() -> Scenario:
    image = b64(png_of(1024, 1024))
    return Scenario(
        "sdxl-i2i-1024",
        "SDXL image-to-image JSON, 1024² PNG in",
        invoke(
            SDXL,
            {
                "text_prompts": [{"text": PROMPT}],
                "init_image": image,
                "init_image_mode": "IMAGE_STRENGTH",
                "image_strength": 0.35,
                "seed": 42,
            },
        ),
        native(
            "image-to-image",
            {"model": "sdxl", "image": image, "prompt": PROMPT, "image_strength": 0.35, "seed": 42},
        ),
    )


def fan_out(n: int = 10) -> Scenario:
    """n SDXL images through the gateway (n calls made concurrently) against one call."""
    return Scenario(
        f"sdxl-t2i-1024-n{n}",
        f"SDXL text-to-image 1024², n={n} through the gateway vs one direct call",
        invoke(
            SDXL, {"text_prompts": [{"text": PROMPT}], "width": 1024, "height": 1024, "seed": 1}
        ),
        native(
            "text-to-image",
            {"model": "sdxl", "prompt": PROMPT, "width": 1024, "height": 1024, "n": n, "seed": 1},
        ),
        images=n,
    )


def latency_scenarios() -> list[Scenario]:
    """Measurement 1 and 2: added latency and throughput."""
    return [
        text_to_image(1024, 1),
        text_to_image(1024, 5),
        text_to_image(512, 1),
        inpaint(),
        image_to_image(),
        binary(),
    ]
