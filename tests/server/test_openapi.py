"""The committed OpenAPI spec is the app's, and declares what generated clients need."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.openapi_export import render_spec
from app.schemas.requests import IMAGE_FIELDS, REQUEST_MODELS, Task
from emulator.testing import EmulatorServer
from tests.support.gateway import data

SPEC_PATH = Path(__file__).parents[2] / "openapi" / "openapi.json"
EDIT_OPERATIONS = {
    "/v1/images/inpaint": "inpaint",
    "/v1/images/outpaint": "outpaint",
    "/v1/images/variations": "variations",
    "/v1/images/image-to-image": "imageToImage",
    "/v1/images/erase": "erase",
    "/v1/images/search-replace": "searchReplace",
    "/v1/images/search-recolor": "searchRecolor",
    "/v1/images/remove-background": "removeBackground",
    "/v1/images/upscale": "upscale",
    "/v1/images/style-transfer": "styleTransfer",
    "/v1/images/style-guide": "styleGuide",
    "/v1/images/control": "control",
    "/v1/images/edit": "edit",
    "/v1/images/virtual-try-on": "virtualTryOn",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(SPEC_PATH.read_bytes())
    return loaded


def test_committed_spec_matches_the_app() -> None:
    assert SPEC_PATH.read_bytes() == render_spec(), "openapi/openapi.json drifted: run `make spec`"


def test_stable_operation_ids(spec: dict[str, Any]) -> None:
    ids = {path: op["operationId"] for path, item in spec["paths"].items() for op in item.values()}
    assert ids == {
        "/v1/images/text-to-image": "textToImage",
        "/v1/images/color-guided": "colorGuided",
        "/v1/models": "listModels",
        "/v1/models/{model_id}": "getModel",
        **EDIT_OPERATIONS,
        # Jobs: each task's submission at /v1/jobs/<task>, its status (get and cancel share the
        # path: the first method listed, delete, is overwritten here by get) and result files.
        **{f"/v1/jobs/{task.value}": f"submit{_camel(task.value)}Job" for task in Task},
        "/v1/jobs/{job_id}": "getJob",
        "/v1/files/{name}": "getFile",
        "/v1/batches": "submitBatch",
        "/v1/batches/{batch_id}": "getBatch",
        "/v1/usage": "getUsage",
    }
    assert spec["paths"]["/v1/jobs/{job_id}"]["delete"]["operationId"] == "cancelJob"
    assert spec["paths"]["/v1/batches/{batch_id}"]["delete"]["operationId"] == "cancelBatch"


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("-"))


@pytest.mark.parametrize("path", sorted(EDIT_OPERATIONS))
def test_edit_tasks_take_json_and_multipart_with_binary_files(
    spec: dict[str, Any], path: str
) -> None:
    body = spec["paths"][path]["post"]["requestBody"]
    assert (
        body["required"] is False
    )  # openapi-python-client fails at import otherwise (reference §5)
    assert set(body["content"]) == {"application/json", "multipart/form-data"}
    ref = body["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    props = spec["components"]["schemas"][ref]["properties"]
    file_fields = {name: prop for name, prop in props.items() if name in IMAGE_FIELDS}
    assert file_fields
    for name, prop in file_fields.items():
        item = prop["items"] if name == "images" else prop
        assert item == {"type": "string", "format": "binary"} | (
            {"description": item["description"]} if "description" in item else {}
        )


@pytest.mark.parametrize("path", ["/v1/images/text-to-image", *sorted(EDIT_OPERATIONS)])
def test_binary_answers_and_problems_are_declared(spec: dict[str, Any], path: str) -> None:
    responses = spec["paths"][path]["post"]["responses"]
    ok = responses["200"]["content"]
    assert ok["image/png"]["schema"] == {"type": "string", "format": "binary"}
    assert ok["application/json"]["schema"]["$ref"].endswith("/ImagesResponse")
    for status in ("400", "406", "413", "415", "422", "429", "502", "503", "504"):
        assert responses[status]["content"]["application/problem+json"]["schema"]["$ref"].endswith(
            "/Problem"
        )


def test_each_problem_status_has_an_example_of_its_own(spec: dict[str, Any]) -> None:
    """Viewers show a response's example: a 413 must not show the Problem schema's 422."""
    examples = spec["components"]["examples"]
    seen = 0
    for item in spec["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                problem = response.get("content", {}).get("application/problem+json")
                if problem is None:
                    continue
                [ref] = [e["$ref"] for e in problem["examples"].values()]
                example = examples[ref.rsplit("/", 1)[1]]["value"]
                assert example["status"] == int(status), (operation["operationId"], status)
                assert ("errors" in example) == (status == "422")
                seen += 1
    # 16 tasks, each with 15 problem statuses (400 401 402 403 406 408 410 413 415 422 429 431
    # 502 503 504); GET /v1/models (401, 422 for ?task=) and GET /v1/models/{model_id} (401 404
    # 422); each task's job submission the same but 402 (a job spends as it runs); GET and DELETE
    # /v1/jobs/{job_id} (401 404 422 503), GET /v1/files/{name} (403 404 422 503: a signed URL,
    # no key), GET /v1/usage (401 403 422 503), POST /v1/batches (401 413 415 422 503), GET and
    # DELETE /v1/batches/{batch_id} (401 404 422 503).
    assert seen == 16 * 15 + 2 + 3 + 16 * 14 + 2 * 4 + 4 + 4 + 5 + 2 * 4
    slugs = {e["value"]["status"]: e["value"]["type"] for e in examples.values()}
    assert slugs[413] == "/problems/payload-too-large"
    assert slugs[406] == "/problems/not-acceptable"
    assert slugs[400] == "/problems/invalid-json"


def test_an_example_summary_says_the_size_its_body_asks_for(spec: dict[str, Any]) -> None:
    sized = 0
    for item in spec["paths"].values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {})
            for example in content.get("application/json", {}).get("examples", {}).values():
                said = re.search(r"\b(\d+)x(\d+)\b", example["summary"])
                if said:
                    value = example["value"]
                    assert (value["width"], value["height"]) == tuple(map(int, said.groups()))
                    sized += 1
    assert sized >= 1


@pytest.mark.parametrize("task", list(Task))
def test_every_task_has_json_examples_in_its_own_vocabulary(
    spec: dict[str, Any], task: Task
) -> None:
    content = spec["paths"][f"/v1/images/{task.value}"]["post"]["requestBody"]["content"]
    examples = content["application/json"]["examples"]
    assert examples
    fields = set(REQUEST_MODELS[task].model_fields)
    for example in examples.values():
        assert example["summary"]
        assert set(example["value"]) <= fields, example["value"]


def _schemas_in(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every object in the spec with its JSON-pointer-like path."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found += _schemas_in(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _schemas_in(value, f"{path}/{index}")
    return found


def test_enum_members_are_named_by_value_not_position(spec: dict[str, Any]) -> None:
    # openapi-python-client names members of an enum like "16:9" VALUE_0, VALUE_1, ... by position
    # unless x-enum-varnames names them: a new value would rename the others in generated clients.
    named = 0
    for path, node in _schemas_in(spec["components"]["schemas"]):
        values = node.get("enum")
        if not isinstance(values, list) or all(str(v)[:1].isalpha() for v in values):
            continue
        names = node.get("x-enum-varnames")
        assert isinstance(names, list), path
        assert len(names) == len(set(names)) == len(values), path
        assert all(name.isidentifier() and name.isupper() for name in names), names
        named += 1
    assert named
    schemas = spec["components"]["schemas"]
    for aspect in (
        schemas["StyleGuideRequest"]["properties"]["aspect_ratio"]["anyOf"][0],
        schemas["StyleGuideRequestMultipart"]["properties"]["aspect_ratio"],
    ):
        names = dict(zip(aspect["enum"], aspect["x-enum-varnames"], strict=True))
        assert names["3:2"] == "RATIO_3_2"


def test_form_fields_are_never_null(spec: dict[str, Any]) -> None:
    # A form field is sent or left out: generated clients send the text "None" for a nullable one.
    for name, schema in spec["components"]["schemas"].items():
        if name.endswith("Multipart"):
            for field, prop in schema["properties"].items():
                assert b'"type":"null"' not in orjson.dumps(prop), (name, field)
                assert prop.get("default", "") is not None, (name, field)
                assert prop.get("type") or prop.get("anyOf") or prop.get("$ref"), (name, field)


def test_binary_fields_only_in_multipart_and_never_by_content_media_type(
    spec: dict[str, Any],
) -> None:
    # FastAPI >= 0.129.1 emits files as contentMediaType without format: binary, which generators
    # do not treat as files (reference §5); and a binary field in a JSON body cannot be sent.
    binary = [p for p, node in _schemas_in(spec) if node.get("format") == "binary"]
    assert binary
    for path, node in _schemas_in(spec):
        assert "contentMediaType" not in node, path
    for path in binary:
        in_multipart = re.match(r"/components/schemas/\w+Multipart/", path)
        in_answer = re.match(
            r"/paths/.+/responses/200/content/(image/\w+|application/jsonl)/schema$", path
        )
        # A batch is a JSON Lines file, sent as the body itself.
        in_upload = re.match(r"/paths//v1/batches/post/requestBody/content/[\w/-]+/schema$", path)
        assert in_multipart or in_answer or in_upload, path


@pytest.mark.parametrize("path", sorted(EDIT_OPERATIONS))
async def test_a_multipart_form_as_the_spec_fills_it_is_accepted(
    spec: dict[str, Any], gateway: httpx.AsyncClient, emulator: EmulatorServer, path: str
) -> None:
    """What Swagger UI's "Try it out" sends on the first click: the examples the multipart schema
    gives its fields (the task's default model, a prompt), the files, and nothing else."""
    ref = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    schema = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    fields = {
        name: str(prop["examples"][0])
        for name, prop in schema["properties"].items()
        if prop.get("examples") and prop.get("format") != "binary"
    }
    assert "model" in fields
    # The caller attaches a file to each image field the model takes (Stability outpaint takes
    # no mask), as GET /v1/models lists them.
    model = (await gateway.get(f"/v1/models/{fields['model']}")).json()
    [taken] = [t["fields"] for t in model["tasks"] if f"/v1/images/{t['task']}" == path]
    files = [
        (name, ("mask.png" if name == "mask" else "coffee.png", PHOTOS[name], "image/png"))
        for name in schema["properties"]
        if name in IMAGE_FIELDS and name in PHOTOS and name in taken
    ]
    response = await gateway.post(path, data=fields, files=files)
    assert response.status_code == 200, response.text
    assert [image["finish_reason"] for image in response.json()["images"]] == ["success"]
    [call] = emulator.requests()
    assert call["model_id"].endswith(response.json()["model"])


# Files for the image fields of the edit tasks: the photo, and its mask in the default convention
# (the tasks that take a mask need one, or a mask prompt the form leaves to the caller).
PHOTOS = {
    name: data("coffee-mask-black-edit.png" if name == "mask" else "coffee.png")
    for name in ("image", "images", "mask", "init_image", "style_image", "reference_image")
}
