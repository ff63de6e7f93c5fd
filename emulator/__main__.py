"""`python -m emulator --host 127.0.0.1 --port 8001`: the Bedrock emulator alone."""

from __future__ import annotations

import argparse

import uvicorn

from .server import create_app
from .settings import EmulatorSettings


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator until interrupted; flags override EMULATOR_HOST / EMULATOR_PORT."""
    defaults = EmulatorSettings()
    parser = argparse.ArgumentParser(prog="emulator", description="Local Bedrock Runtime emulator")
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    settings = defaults.model_copy(update={"host": args.host, "port": args.port})
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
