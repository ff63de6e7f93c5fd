"""A model family is one package: a throwaway one, written here into a temporary directory and
named by GATEWAY_FAMILIES, is served on the native API and on the Bedrock surface with no file of
app/ changed; a family without a Bedrock-surface writer stops the start."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from app.families import stability
from app.families.base import TaskHandler
from app.families.registry import ModelRegistry, RegistryError
from app.families.stability.adapter import ImageToImage, StabilityAdapter, TextToImage
from app.schemas.images import FinishReason, GeneratedImage
from app.schemas.requests import Task
from emulator.testing import EmulatorServer
from tests.support.cli import cli
from tests.support.gateway import image_size, open_gateway, pixels, settings_for

# A toy schema: {"prompt", "seed"} in, Core's body out (the emulator serves Core), its own limit
# (`seed_max`), and an answer shape of its own on the Bedrock surface.
TOY = '''
"""A throwaway family: {"prompt", "seed"} bodies, called through Stable Image Core."""

from typing import Any

from app.families.base import Call, Family, FamilyLimits, ModelAdapter, ModelEntry, TaskHandler
from app.families.reading import Reading
from app.families.vocabulary import OpenAIVocabulary
from app.problems import FieldProblem
from app.schemas.images import FinishReason, GeneratedImage
from app.schemas.requests import Task, TextToImageRequest


class ToyLimits(FamilyLimits):
    seed_max: int = 1000


class ToyTextToImage(TaskHandler[TextToImageRequest]):
    request_type = TextToImageRequest

    def check(self, entry, request: TextToImageRequest):
        limit = ToyLimits.model_validate(entry.limits).seed_max
        if request.seed is not None and request.seed > limit:
            return [FieldProblem(field="seed", message=f"is above {limit}")]
        return []

    def plan(self, entry, request: TextToImageRequest, rng):
        # Its one quality is its model's own: `quality` is taken, and not sent.
        seed = request.seed if request.seed is not None else rng.randint(0, 1000)
        return [Call(body={"prompt": request.prompt, "seed": seed}, seeds=(seed,))]


class ToyAdapter(ModelAdapter):
    family = "toy"
    limits_model = ToyLimits
    handlers = {Task.TEXT_TO_IMAGE: ToyTextToImage()}

    def fields(self, task):
        return frozenset({"prompt", "seed", "quality"})

    def parse(self, call, payload):
        return [
            GeneratedImage(b64=data, seed=call.seeds[0], finish_reason=FinishReason.SUCCESS)
            for data in payload["images"]
        ]

    def describe(self, entry):
        return {"seed_max": ToyLimits.model_validate(entry.limits).seed_max}


def read(entry: ModelEntry, body: dict[str, Any]) -> Reading:
    reading = Reading(task=Task.TEXT_TO_IMAGE)
    reading.take(body, {"prompt": ("prompt", "str"), "seed": ("seed", "int")}, "#")
    return reading


def write(images: list[GeneratedImage]) -> dict[str, Any]:
    return {"pictures": [image.b64 for image in images]}


MODELS = (
    ModelEntry(
        id="toy.painter-v1:0",
        family="toy",
        aliases=("toy",),
        tasks=(Task.TEXT_TO_IMAGE,),
        invoke_id="us.stability.stable-image-core-v1:1",
        limits={"seed_max": 500},
    ),
)
EXAMPLES = {
    Task.TEXT_TO_IMAGE: {
        "toy": {"summary": "The toy: a paper boat", "value": {"model": "toy", "prompt": "a boat"}}
    }
}
# OpenAI's qualities as the toy's: whatever is asked, it draws what OpenAI calls `low`.
OPENAI = OpenAIVocabulary(
    quality={"hd": "premium", "standard": "standard"},
    drawn_quality={"premium": "low", "standard": "low"},
)
FAMILY = Family(
    adapter=ToyAdapter(),
    models=MODELS,
    reader=read,
    writer=WRITER,
    examples=EXAMPLES,
    openai=OPENAI,
)
'''


def toy_package(root: Path, name: str, writer: str) -> Path:
    """The toy family as package `name` under `root`, with `writer` as its writer."""
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(TOY).replace("WRITER", writer))
    return root


async def test_a_family_package_from_settings_is_served_on_both_surfaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer
) -> None:
    monkeypatch.syspath_prepend(str(toy_package(tmp_path, "toy_family_served", "write")))
    settings = settings_for(emulator, families=["toy_family_served"])
    async with open_gateway(settings) as gateway:
        models = (await gateway.get("/v1/models")).json()["models"]
        [toy] = [m for m in models if m["id"] == "toy.painter-v1:0"]
        assert toy["family"] == "toy"
        assert toy["limits"] == {"seed_max": 500}

        fields = {"model": "toy", "prompt": "a paper boat", "seed": 7}
        native = await gateway.post("/v1/images/text-to-image", json=fields)
        assert native.status_code == 200, native.text
        [image] = native.json()["images"]
        assert image["seed"] == 7
        assert image_size(image["b64_json"]) == (1024, 1024)
        [record] = emulator.requests()
        assert record["model_id"] == "us.stability.stable-image-core-v1:1"
        assert record["body"] == {"prompt": "a paper boat", "seed": 7}

        # The toy's own limit, named on the native API ...
        too_big = await gateway.post("/v1/images/text-to-image", json={**fields, "seed": 501})
        assert too_big.status_code == 422
        assert [e["field"] for e in too_big.json()["errors"]] == ["seed"]

        # ... and by the caller's JSON path on the Bedrock surface, read by the toy's reader.
        emulator.reset()
        body = {"prompt": "a paper boat", "seed": 9}
        passed = await gateway.post("/model/toy.painter-v1:0/invoke", json=body)
        assert passed.status_code == 200, passed.text
        [record] = emulator.requests()
        assert record["body"] == body
        [drawn] = passed.json()["images"]
        assert pixels(drawn).shape == (1024, 1024, 3)
        refused = await gateway.post(
            "/model/toy.painter-v1:0/invoke", json={**body, "seed": 501, "style": "x"}
        )
        assert refused.status_code == 400
        message = refused.json()["message"]
        assert "#/seed: is above 500" in message
        assert "#: extraneous key [style] is not permitted" in message
        assert len(emulator.requests()) == 1

        # Its spec examples are its package's, beside the built-in families' ...
        spec = (await gateway.get("/openapi.json")).json()
        examples = spec["paths"]["/v1/images/text-to-image"]["post"]["requestBody"]["content"][
            "application/json"
        ]["examples"]
        assert examples["toy"]["value"] == {"model": "toy", "prompt": "a boat"}
        assert {"titan", "sd35"} <= examples.keys()

        # ... and so is how OpenAI's quality maps onto it.
        emulator.reset()
        openai = await gateway.post(
            "/openai/v1/images/generations",
            json={"model": "toy", "prompt": "a paper boat", "quality": "hd"},
        )
        assert openai.status_code == 200, openai.text
        assert openai.json()["quality"] == "low"
        assert "warning" not in openai.headers
        [record] = emulator.requests()
        assert record["body"]["prompt"] == "a paper boat"
        assert record["body"].keys() == {"prompt", "seed"}


def test_the_family_writer_is_reached_through_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(toy_package(tmp_path, "toy_family_written", "write")))
    registry = ModelRegistry(families=["toy_family_written"])
    entry = registry.resolve("toy")
    assert entry is not None
    family = registry.family(entry)
    assert family.name == "toy"
    made = GeneratedImage(b64="aW1n", seed=3, finish_reason=FinishReason.SUCCESS)
    assert family.writer([made]) == {"pictures": ["aW1n"]}


def test_a_family_without_a_writer_stops_the_start(tmp_path: Path) -> None:
    toy_package(tmp_path, "toy_family_unwritten", "None")
    done = cli(env={"GATEWAY_FAMILIES": '["toy_family_unwritten"]', "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 78
    assert done.stderr.splitlines() == [
        "gateway: refusing to start: GATEWAY_FAMILIES entry 'toy_family_unwritten': toy has no "
        "Bedrock-surface writer"
    ]


def test_an_unknown_family_module_stops_the_start() -> None:
    with pytest.raises(RegistryError, match="GATEWAY_FAMILIES entry 'no_such_family_pkg'"):
        ModelRegistry(families=["no_such_family_pkg"])


def test_a_model_given_a_task_its_family_has_no_handler_for_stops_the_start() -> None:
    core = {"id": "stability.stable-image-core-v1:1", "tasks": ["text-to-image", "inpaint"]}
    with pytest.raises(RegistryError) as raised:
        ModelRegistry(overrides=[core])
    assert str(raised.value) == (
        "GATEWAY_MODELS entry 'stability.stable-image-core-v1:1': tasks: family 'stability' "
        "does not do inpaint"
    )


def test_a_handler_typed_to_another_task_s_request_stops_the_start() -> None:
    class Misfiled(StabilityAdapter):
        family = "misfiled"
        handlers: ClassVar[Mapping[Task, TaskHandler[Any]]] = {Task.TEXT_TO_IMAGE: ImageToImage()}

    family = dataclasses.replace(stability.FAMILY, adapter=Misfiled(), models=())
    with pytest.raises(RegistryError) as raised:
        ModelRegistry(families=[family])
    assert str(raised.value) == (
        "family 'misfiled': handlers: text-to-image: typed to ImageToImageRequest, the task's "
        "request is TextToImageRequest"
    )


def test_each_handler_is_reached_through_the_registry_by_model_and_task() -> None:
    registry = ModelRegistry()
    core = registry.resolve("core")
    sd35 = registry.resolve("sd3.5-large")
    assert core is not None
    assert sd35 is not None
    assert isinstance(registry.handler(core, Task.TEXT_TO_IMAGE), TextToImage)
    assert isinstance(registry.handler(sd35, Task.IMAGE_TO_IMAGE), ImageToImage)
