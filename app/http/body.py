"""Reading a request body as a field dict: JSON, or multipart with images as file parts.

Bodies over a few kilobytes are parsed in a worker thread, so a 25 MB upload never holds the event
loop. Every way a body can be malformed is a 4xx problem saying what is wrong and, where a field is
to blame, naming it: text that is not UTF-8, duplicate keys, numbers out of range, booleans where
numbers go, multipart without a boundary or cut short, too many parts, giant form fields.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from ..problems import FieldProblem, ProblemError, invalid
from ..problems.types import INVALID_JSON, INVALID_MULTIPART, UNSUPPORTED_MEDIA_TYPE
from ..schemas.requests import IMAGE_FIELDS, REQUEST_MODELS
from ..wording import byte_size
from .json_bounds import JsonBounds
from .json_bounds import check as check_bounds
from .upload import read_upload

# Image fields may arrive as repeated parts (`images`) or with the bracket suffix HTML forms and
# several client libraries use (`images[]`).
_LIST_FIELDS = {"images"}
_MAX_FILES = 8
_MAX_FIELDS = 64
# A form field that is not a file holds text: prompts are at most 10,000 characters. Image fields
# may carry base64 text instead of a file part, so only the body cap bounds them.
_MAX_TEXT_PART = 1024 * 1024
# Below this a thread hop costs more than the parse itself.
_PARSE_INLINE_BYTES = 64 * 1024

T = TypeVar("T")


async def read_fields(request: Request, bounds: JsonBounds, *, multipart: bool) -> dict[str, Any]:
    """The body's fields (JSON within `bounds`); images stay base64 text (JSON) or bytes
    (multipart) for the schema."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    parse: Callable[[bytes], dict[str, Any]]
    if multipart and media == "multipart/form-data":
        boundary = _boundary(content_type)
        parse = lambda raw: parse_form(raw, boundary)  # noqa: E731
    elif media in ("", "application/json") or media.endswith("+json"):
        parse = lambda raw: parse_json_object(raw, bounds)  # noqa: E731
    else:
        accepted = "application/json or multipart/form-data" if multipart else "application/json"
        raise UNSUPPORTED_MEDIA_TYPE.error(
            detail=f"the body is {media}; this endpoint takes {accepted}",
        )
    return await read_parsed(request, parse)


async def read_parsed(request: Request, parse: Callable[[bytes], T]) -> T:
    """The body read whole and parsed by `parse`: inline when small, else in a worker thread."""
    raw = await read_upload(request)
    if len(raw) <= _PARSE_INLINE_BYTES:
        return parse(raw)
    return await asyncio.to_thread(parse, raw)


# --- JSON -------------------------------------------------------------------------------------


def _invalid_json(detail: str) -> ProblemError:
    return INVALID_JSON.error(detail=detail)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which of two equal keys wins; refusing both leaves no ambiguity.
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return data


def _no_constant(name: str) -> Any:
    raise _invalid_json(f"{name} is not a JSON value (JSON numbers are finite)")


# Built once: json.loads with hooks builds a decoder per call.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def _utf8(raw: bytes) -> str:
    # RFC 8259: JSON exchanged between systems is UTF-8; a leading byte order mark may be ignored.
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(raw) >= 2 and 0 in raw[:2]):
        raise _invalid_json("the body is UTF-16 or UTF-32; JSON must be UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _invalid_json(
            f"the body is not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        ) from None


def parse_json_object(raw: bytes, bounds: JsonBounds) -> dict[str, Any]:
    """A JSON body within `bounds` as a dict; a ProblemError (400 or 422) for anything else."""
    text = _utf8(raw)
    check_bounds(raw, bounds)
    if not text.strip():
        raise invalid([FieldProblem(field="body", message="a JSON object is required")])
    try:
        data = _decode(text)
    except _DuplicateKey as exc:
        key = _printable(exc.key)
        raise invalid([FieldProblem(field=key, message="is given more than once")]) from None
    except json.JSONDecodeError as exc:
        raise _invalid_json(f"{exc.msg}: line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise _invalid_json("the JSON nests deeper than this server reads") from None
    except ValueError:  # Python's own guard on integer literals
        raise _invalid_json("a number has more than 4300 digits") from None
    if not isinstance(data, dict):
        raise invalid([FieldProblem(field="body", message="must be a JSON object")])
    problems = _value_problems(data)
    if problems:
        raise invalid(problems)
    return data


# Strings longer than this (base64 images) are cut out of the text before the parser sees it.
_LONG_STRING = 64 * 1024
# Stands for the n-th long string while the parser reads the rest; the nonce keeps a caller's
# own string from being taken for one.
_MARK = f"\x00long-{secrets.token_hex(8)}-"


def _decode(text: str) -> Any:
    """`_DECODER.decode(text)`, without the parser stepping through long strings.

    Python's parser reads a string character by character, 5 ms for a 2.9 MB base64 image. With
    no backslash in the text, quotes alternate open and close: each long string is found by
    `str.find`, taken as a slice, and a short mark parsed in its place. Any error is reported from
    the whole text, so its line and column are the caller's.
    """
    if len(text) <= _LONG_STRING or "\\" in text:
        return _DECODER.decode(text)
    pieces: list[str] = []
    long: list[str] = []
    copied = at = 0
    while (start := text.find('"', at)) >= 0 and (end := text.find('"', start + 1)) >= 0:
        at = end + 1
        if end - start > _LONG_STRING:
            pieces += (text[copied:start], json.dumps(f"{_MARK}{len(long)}"))
            long.append(text[start + 1 : end])
            copied = at
    if not long:
        return _DECODER.decode(text)
    pieces.append(text[copied:])
    try:
        return _restore(_DECODER.decode("".join(pieces)), long)
    except json.JSONDecodeError:
        return _DECODER.decode(text)  # raises again, where the caller's text is wrong


def _restore(value: Any, long: list[str]) -> Any:
    if isinstance(value, str):
        return long[int(value[len(_MARK) :])] if value.startswith(_MARK) else value
    if isinstance(value, list):
        return [_restore(item, long) for item in value]
    if isinstance(value, dict):
        return {key: _restore(item, long) for key, item in value.items()}
    return value


def _takes_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    return any(_takes_bool(arg) for arg in typing.get_args(annotation))


# Fields a JSON boolean may fill. Pydantic reads true as 1 for a number field; a caller who sends a
# boolean there meant something else, so it is refused instead.
_BOOLEAN_FIELDS = frozenset(
    name
    for model in REQUEST_MODELS.values()
    for name, info in model.model_fields.items()
    if _takes_bool(info.annotation)
)


# No list field takes more than 10 items: longer lists are refused by their length, unread.
_MAX_WALKED_ITEMS = 1000


def _value_problems(data: dict[str, Any]) -> list[FieldProblem]:
    # Values the schema would misread (booleans as numbers) or that cannot be answered about
    # (1e309 parses as infinity, a lone surrogate escape cannot be encoded again).
    problems: list[FieldProblem] = []
    stack: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = _printable(key)
        if name != key:
            problems.append(FieldProblem(field=name, message="is not a valid field name"))
        elif isinstance(value, bool) and key not in _BOOLEAN_FIELDS:
            problems.append(FieldProblem(field=key, message="must not be a boolean"))
        else:
            stack.append((key, value))
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(FieldProblem(field=path, message="is out of range"))
        elif isinstance(value, str) and _printable(value) != value:
            problems.append(
                FieldProblem(field=path, message="holds an unpaired surrogate, not a character")
            )
        elif isinstance(value, list) and len(value) <= _MAX_WALKED_ITEMS:
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, dict):
            stack.extend((f"{path}.{_printable(k)}", item) for k, item in value.items())
    return sorted(problems, key=lambda p: p.field)


def _printable(text: str) -> str:
    """`text` when it can be encoded as UTF-8, else with its lone surrogates escaped."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# --- multipart --------------------------------------------------------------------------------


def _invalid_multipart(detail: str) -> ProblemError:
    return INVALID_MULTIPART.error(
        detail=detail,
    )


def _boundary(content_type: str) -> bytes:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise _invalid_multipart("the Content-Type has no boundary parameter")
    return boundary


@dataclass
class _Part:
    disposition: bytes = b""
    name: str = ""
    filename: str | None = None
    # The part's bytes as views of the body where they are in it (every byte but those the
    # parser held back at a possible boundary), joined once: one copy of an upload, not three.
    pieces: list[bytes | memoryview] = field(default_factory=list)
    size: int = 0

    def value(self) -> bytes:
        """The part's bytes."""
        return b"".join(self.pieces)


@dataclass
class _Form:
    """python-multipart's callbacks, collecting the parts in memory (the body cap bounds them)."""

    body: bytes = b""
    parts: list[_Part] = field(default_factory=list)
    current: _Part = field(default_factory=_Part)
    header_name: bytes = b""
    header_value: bytes = b""
    files: int = 0
    fields: int = 0
    ended: bool = False

    def on_part_begin(self) -> None:
        self.current = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.current.disposition = self.header_value
        self.header_name = self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.current.disposition)
        if b"name" not in options:
            raise _invalid_multipart("a part has no name in its Content-Disposition header")
        self.current.name = _decode_name(options[b"name"])
        if b"filename" in options:
            self.current.filename = options[b"filename"].decode("utf-8", "replace")
            self.files += 1
            if self.files > _MAX_FILES:
                raise _too_many(self.current.name, "file parts", _MAX_FILES)
        else:
            self.fields += 1
            if self.fields > _MAX_FIELDS:
                raise _too_many(self.current.name, "form fields", _MAX_FIELDS)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.current
        # The parser's own buffers are reused: only the body's bytes are kept as views.
        part.pieces.append(memoryview(data)[start:end] if data is self.body else data[start:end])
        part.size += end - start
        name = _field_of(part.name)
        if part.filename is None and part.size > _MAX_TEXT_PART and name not in IMAGE_FIELDS:
            message = (
                f"is over {byte_size(_MAX_TEXT_PART)}, the most a form field that is not a file "
                "holds (send images as file parts)"
            )
            raise invalid([FieldProblem(field=name, message=message)])

    def on_part_end(self) -> None:
        self.parts.append(self.current)

    def on_end(self) -> None:
        self.ended = True


def _decode_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid_multipart("a part's name is not UTF-8") from None


def _field_of(name: str) -> str:
    return name[:-2] if name.endswith("[]") else name


def _too_many(name: str, what: str, limit: int) -> ProblemError:
    return invalid(
        [FieldProblem(field=_field_of(name), message=f"is past the limit of {limit} {what}")]
    )


def parse_form(raw: bytes, boundary: bytes) -> dict[str, Any]:
    """A multipart/form-data body as fields: text parts as str (UTF-8), file parts as bytes.

    An empty text part, or a file part with neither name nor bytes (a form's file input left
    empty), means "not given". A field sent several times becomes a list.
    """
    form = _Form(body=raw)
    callbacks: Any = {
        "on_part_begin": form.on_part_begin,
        "on_header_field": form.on_header_field,
        "on_header_value": form.on_header_value,
        "on_header_end": form.on_header_end,
        "on_headers_finished": form.on_headers_finished,
        "on_part_data": form.on_part_data,
        "on_part_end": form.on_part_end,
        "on_end": form.on_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(raw)
        parser.finalize()
    except FormParserError as exc:
        raise _invalid_multipart(f"the parts cannot be read: {exc}") from None
    if not form.ended:
        raise _invalid_multipart("the body ends before the closing boundary")
    fields: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for part in form.parts:
        name = _field_of(part.name)
        value: str | bytes
        data = part.value()
        if part.filename is None:
            try:
                value = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                byte = data[exc.start]
                problems.append(
                    FieldProblem(
                        field=name,
                        message=f"is not UTF-8 text: byte 0x{byte:02x} at offset {exc.start}",
                    )
                )
                continue
            if value == "":
                continue
        else:
            if not part.filename and not data:
                continue
            value = data
        if name in _LIST_FIELDS:
            fields.setdefault(name, []).append(value)
        elif name in fields:
            previous = fields[name]
            fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[name] = value
    if problems:
        raise invalid(problems)
    return fields
