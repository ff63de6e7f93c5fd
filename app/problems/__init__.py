"""RFC 9457 problem details: the error every layer raises (ProblemError), the body every surface
of the native API answers with, and the one table of problem types every surface renders from."""

from .document import (
    MAX_LISTED_ERRORS,
    PROBLEM_JSON,
    FieldProblem,
    Problem,
    ProblemError,
    field_name,
    problem_response,
    request_id_of,
)
from .types import PROBLEM_TYPES, ProblemType, invalid, problem_type

__all__ = [
    "MAX_LISTED_ERRORS",
    "PROBLEM_JSON",
    "PROBLEM_TYPES",
    "FieldProblem",
    "Problem",
    "ProblemError",
    "ProblemType",
    "field_name",
    "invalid",
    "problem_response",
    "problem_type",
    "request_id_of",
]
