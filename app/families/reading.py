"""Bedrock request bodies read into the native vocabulary: what every family's reader shares.

A reader turns a body written in a family's own schema (reference §2-§4b) into a task and the
native fields (`prompt`, `mask`, `n`, ...), and remembers where each field came from, so the
gateway's own validation can name a bad field by the caller's JSON path
(`#/textToImageParams/text`). A reader checks only what the native vocabulary cannot: the body's
structure, its keys (Bedrock's schemas forbid unknown ones) and JSON types; every limit is left to
the validator, which knows the model.

Masks arrive in three conventions and leave in the native one, which marks the pixels to generate.
Keys Bedrock documents that carry nothing the native vocabulary has are type-checked and left out
of the fields: they still reach Bedrock when the body passes through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..schemas.requests import Task

# JSON kinds a key must have; "any" is checked by the validator instead.
_KINDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "str": ("String", lambda v: isinstance(v, str)),
    "num": ("Number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "int": ("Integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "bool": ("Boolean", lambda v: isinstance(v, bool)),
    "list": ("JSONArray", lambda v: isinstance(v, list)),
    "obj": ("JSONObject", lambda v: isinstance(v, dict)),
    "any": ("any", lambda v: True),
}
_FIELD_HEAD = re.compile(r"^([^.\[]+)(.*)$")


@dataclass
class Reading:
    """A Bedrock body in the native vocabulary, with the caller's path of every field."""

    task: Task | None
    fields: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    # Where a problem about the request as a whole (the model cannot do the task) points.
    whole: str = "#"

    def fail(self, path: str, message: str) -> None:
        """Record one violation at a JSON path."""
        self.violations.append(f"{path}: {message}")

    def path_of(self, name: str) -> str:
        """The caller's JSON path for a native field name such as `images[2]` or `prompt`."""
        if name in ("model", "body"):
            return self.whole
        match = _FIELD_HEAD.match(name)
        head, rest = (match.group(1), match.group(2)) if match else (name, "")
        suffix = re.sub(r"\[(\d+)\]", r"/\1", rest).replace(".", "/")
        return self.paths.get(head, f"#/{head}") + suffix

    def take(
        self,
        source: Mapping[str, Any],
        spec: Mapping[str, tuple[str | None, str]],
        path: str,
    ) -> None:
        """Copy every key of `source` named in `spec` (key -> (native name or None, kind)).

        Unknown keys and wrong JSON types are violations; a null value reads as absent.
        """
        for key, (native, _) in spec.items():
            # Also for keys not sent: a problem may name a field that is missing.
            if native is not None:
                self.paths.setdefault(native, f"{path}/{key}")
        for key, value in source.items():
            where = f"{path}/{key}"
            if key not in spec:
                self.fail(path, f"extraneous key [{key}] is not permitted")
                continue
            native, kind = spec[key]
            if value is None:
                continue
            expected, fits = _KINDS[kind]
            if not fits(value):
                self.fail(where, f"expected type: {expected}, found: {json_type(value)}")
                continue
            if native is not None:
                self.fields[native] = value
                self.paths[native] = where

    def obj(self, body: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
        """An object-valued key; a missing one reads as empty."""
        value = body.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{path}/{key}", f"expected type: JSONObject, found: {json_type(value)}")
            return {}
        return value


def json_type(value: Any) -> str:
    """The JSON type name Bedrock's messages use."""
    if value is None:
        return "Null"
    for kind in ("bool", "num", "str", "list", "obj"):
        name, fits = _KINDS[kind]
        if fits(value):
            return name
    return type(value).__name__
