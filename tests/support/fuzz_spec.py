"""The committed spec loaded for schemathesis, and the checks every fuzzed answer must pass.

The run is short and deterministic by default (what `make test` runs). `FUZZ_EXAMPLES=N` (what
`make fuzz` sets) raises the examples per operation and lets Hypothesis draw at random.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis import Case, CheckFunction, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SPEC_PATH = Path(__file__).parents[2] / "openapi" / "openapi.json"
SHORT_RUN_EXAMPLES = 10
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", SHORT_RUN_EXAMPLES))
RANDOMISED = "FUZZ_EXAMPLES" in os.environ
REQUEST_TIMEOUT_S = 60

CONFORMANCE: list[CheckFunction] = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def load_schema() -> schemathesis.BaseSchema:
    """openapi/openapi.json with the spec's own examples and random positive and negative data;
    the long run adds the coverage phase (every field's boundaries and wrong types, missing
    required fields, other methods): some 4,000 requests, too many for `make test`."""
    # Jobs, batches and their files need a Redis and workers: tests/api/jobs/test_jobs.py and
    # test_batches.py send them their bad input (and the submissions are the image tasks' bodies,
    # fuzzed at /v1/images).
    schema = schemathesis.openapi.from_path(SPEC_PATH).exclude(tag="jobs").exclude(tag="batches")
    phases = ["examples", "coverage", "fuzzing"] if RANDOMISED else ["examples", "fuzzing"]
    schema.config.phases.update(phases=phases)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        deterministic=not RANDOMISED,
        # No example database: a failure is reported with its curl line, not replayed later.
        database="none",
    )
    return schema


def checks_for(case: Case[Any]) -> list[CheckFunction]:
    """Every answer: no 5xx, and status, content type, headers and body as documented.

    Schema-violating data must be refused (negative_data_rejection) in JSON only: a multipart
    body carries text, so a wrong type (false, 3, a list) or an empty field ("not given", as
    HTML forms send it) arrives as a valid value or no value at all. positive_data_acceptance is
    not used: the schema is the union of every model's fields, and a model refuses with 422 what
    it does not take (Titan's sizes, SDXL's steps), which the schema cannot say.
    """
    checks = [not_a_server_error, *CONFORMANCE]
    if case.media_type == "application/json":
        checks.append(negative_data_rejection)
    return checks
