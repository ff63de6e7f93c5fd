"""`python -m app.openapi_export PATH`: write the app's OpenAPI spec (what `make spec` does)."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from .main import create_app
from .settings import Settings


def render_spec() -> bytes:
    """The spec as committed: sorted keys, two-space indent, trailing newline."""
    spec = create_app(Settings()).openapi()
    return orjson.dumps(spec, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main() -> None:
    """Write the spec to the path given (default openapi/openapi.json)."""
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "openapi/openapi.json")
    target.write_bytes(render_spec())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
