"""Schema checks shared by the emulated models, worded like Bedrock's own JSON-schema messages.

Bedrock validates a body against the model's JSON schema and answers with every violation at once:
`ValidationException: 2 schema violations found: #/imageGenerationConfig/numberOfImages: 6 is not
less or equal to 5, #/textToImageParams/text: expected maxLength: 512, actual: 600`. A `Checker`
collects violations the same way, so a caller sees each field it got wrong, named by its JSON path.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .base import BedrockError, validation_error

_MISSING = object()


class Checker:
    """Collects schema violations for one body; `done()` raises them as one ValidationException."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def fail(self, path: str, message: str) -> None:
        """Record one violation at a JSON path such as `#/textToImageParams/text`."""
        self.violations.append(f"{path}: {message}")

    def done(self) -> None:
        """Raise every violation found so far as one ValidationException."""
        if self.violations:
            raise schema_error(self.violations)

    def obj(
        self, body: Mapping[str, Any], key: str, path: str, *, required: bool
    ) -> dict[str, Any]:
        """An object-valued field; a missing optional one reads as `{}`."""
        value = body.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.fail(path, f"required key [{key}] not found")
            return {}
        if not isinstance(value, dict):
            self.fail(f"{path}/{key}", f"expected type: JSONObject, found: {_type_name(value)}")
            return {}
        return value

    def unknown(self, body: Mapping[str, Any], allowed: Collection[str], path: str) -> None:
        """Bedrock's schemas forbid extra keys: `#: extraneous key [foo] is not permitted`."""
        for key in body:
            if key not in allowed:
                self.fail(path, f"extraneous key [{key}] is not permitted")

    def string(
        self,
        body: Mapping[str, Any],
        key: str,
        path: str,
        *,
        required: bool = False,
        min_len: int = 0,
        max_len: int | None = None,
    ) -> str | None:
        """A string field with length bounds (in characters, as Bedrock counts them)."""
        value = self._present(body, key, path, required=required)
        where = f"{path}/{key}"
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.fail(where, f"expected type: String, found: {_type_name(value)}")
            return None
        if len(value) < min_len:
            self.fail(where, f"expected minLength: {min_len}, actual: {len(value)}")
        if max_len is not None and len(value) > max_len:
            self.fail(where, f"expected maxLength: {max_len}, actual: {len(value)}")
        return value

    def integer(
        self,
        body: Mapping[str, Any],
        key: str,
        path: str,
        *,
        lo: int,
        hi: int,
        default: int | None = None,
        required: bool = False,
    ) -> int | None:
        """An integer field within [lo, hi]; a float with no fraction passes, as in JSON schema."""
        value = self._present(body, key, path, required=required)
        where = f"{path}/{key}"
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"expected type: Integer, found: {_type_name(value)}")
            return default
        if isinstance(value, float) and not value.is_integer():
            self.fail(where, f"expected type: Integer, found: Number ({value})")
            return default
        number = int(value)
        self._bounds(where, number, lo, hi)
        return number

    def number(
        self,
        body: Mapping[str, Any],
        key: str,
        path: str,
        *,
        lo: float,
        hi: float,
        default: float | None = None,
        required: bool = False,
    ) -> float | None:
        """A numeric field within [lo, hi]."""
        value = self._present(body, key, path, required=required)
        where = f"{path}/{key}"
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"expected type: Number, found: {_type_name(value)}")
            return default
        self._bounds(where, value, lo, hi)
        return float(value)

    def enum(
        self,
        body: Mapping[str, Any],
        key: str,
        path: str,
        choices: Collection[str],
        *,
        default: str | None = None,
        required: bool = False,
    ) -> str | None:
        """A string field that must be one of `choices`."""
        value = self._present(body, key, path, required=required)
        where = f"{path}/{key}"
        if value is _MISSING:
            return default
        if not isinstance(value, str) or value not in choices:
            self.fail(where, f"{value!r} is not a valid enum value; allowed: {', '.join(choices)}")
            return default
        return value

    def array(
        self,
        body: Mapping[str, Any],
        key: str,
        path: str,
        *,
        min_items: int = 0,
        max_items: int | None = None,
        required: bool = False,
    ) -> list[Any]:
        """An array field with item-count bounds; a missing optional one reads as `[]`."""
        value = self._present(body, key, path, required=required)
        where = f"{path}/{key}"
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.fail(where, f"expected type: JSONArray, found: {_type_name(value)}")
            return []
        if len(value) < min_items:
            self.fail(where, f"expected minimum item count: {min_items}, found: {len(value)}")
        if max_items is not None and len(value) > max_items:
            self.fail(where, f"expected maximum item count: {max_items}, found: {len(value)}")
        return value

    def _present(self, body: Mapping[str, Any], key: str, path: str, *, required: bool) -> Any:
        """The field's value, or _MISSING when absent or null (a violation if required)."""
        value = body.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.fail(path, f"required key [{key}] not found")
            return _MISSING
        return value

    def _bounds(self, where: str, value: float, lo: float, hi: float) -> None:
        if value < lo:
            self.fail(where, f"{value} is not greater or equal to {lo}")
        elif value > hi:
            self.fail(where, f"{value} is not less or equal to {hi}")


def schema_error(violations: list[str]) -> BedrockError:
    """One ValidationException listing every violation, as Bedrock words it."""
    count = len(violations)
    noun = "violation" if count == 1 else "violations"
    return validation_error(f"{count} schema {noun} found: {', '.join(violations)}")


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "JSONArray"
    if isinstance(value, dict):
        return "JSONObject"
    return type(value).__name__
