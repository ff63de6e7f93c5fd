"""The one table of problem types: the spec documents only its types, and the OpenAI and Bedrock
surfaces render each problem by its row (code, retryable), not by lists of their own."""

from __future__ import annotations

import json

import pytest

from app.problems import PROBLEM_TYPES, ProblemType
from app.surfaces.bedrock.errors import STATUS
from app.surfaces.bedrock.errors import from_problem as bedrock_error
from app.surfaces.openai.errors import from_problem as openai_error
from tests.support.files import ROOT

SPEC = ROOT / "openapi" / "openapi.json"
KINDS = sorted(PROBLEM_TYPES.values(), key=lambda kind: kind.slug)


def test_every_documented_problem_is_a_type_of_the_table() -> None:
    examples = json.loads(SPEC.read_text())["components"]["examples"]
    documented = [e["value"] for e in examples.values() if "type" in e["value"]]
    assert len(documented) >= 13
    for value in documented:
        kind = PROBLEM_TYPES[value["type"].removeprefix("/problems/")]
        assert (value["status"], value["title"]) == (kind.status, kind.title)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.slug)
def test_openai_renders_a_type_by_its_row(kind: ProblemType) -> None:
    error = openai_error(kind.error("why"), lambda name: name)
    assert error.code == kind.openai_code
    assert (error.headers.get("x-should-retry") == "false") == (not kind.retryable)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.slug)
def test_bedrock_renders_a_type_by_its_row(kind: ProblemType) -> None:
    # Bedrock's own code comes back for a type made from a Bedrock error; the gateway's own
    # refusals keep theirs whatever Bedrock said.
    upstream = kind.error("why", extra={"upstream_error": "ModelNotReadyException"})
    error = bedrock_error(upstream)
    if kind.from_bedrock:
        assert error.code == "ModelNotReadyException"
    elif kind.bedrock_code is not None:
        assert error.code == kind.bedrock_code
    plain = bedrock_error(kind.error("why"))
    if kind.bedrock_code is not None:
        assert plain.code == kind.bedrock_code
        assert plain.status == (410 if kind.status == 410 else STATUS[kind.bedrock_code])
