"""`python -m app` and `bedrock-image-gateway`: the gateway's commands.

`serve` (also what a bare `python -m app` does, so `make run` and the Docker image keep their
command), `worker`, `keys` and `emulator`. This module imports only the standard library until a
command runs: `keys create` works on any Python 3.11+, and `--help` needs only pydantic-settings
to list the settings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

PROG = "bedrock-image-gateway"
COMMANDS = ("serve", "worker", "keys", "emulator")


class _Parser(argparse.ArgumentParser):
    """The top-level parser; its help ends with every setting, read from the Settings model only
    when help is asked for (so other commands need not import it)."""

    def format_help(self) -> str:
        self.epilog = settings_help()
        return super().format_help()


def settings_help() -> str:
    """Every setting: its environment variable and default, as `--help` lists them."""
    from pydantic_core import PydanticUndefined

    from .settings import Settings

    lines = [
        "settings (environment variables, or a .env file; docs/settings.md says what each does):"
    ]
    for field, info in Settings.model_fields.items():
        choices = getattr(info.validation_alias, "choices", None)
        names = [str(c) for c in choices] if choices else [f"GATEWAY_{field.upper()}"]
        default = info.default
        shown = "" if default is PydanticUndefined or default is None else f" (default: {default})"
        if isinstance(default, list | dict) and not default:
            shown = ""
        lines.append(f"  {' or '.join(names)}{shown}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """The command line: a command and its arguments."""
    cli = _Parser(
        prog=PROG,
        description="One HTTP API in front of Amazon Bedrock's image models. Without a command, "
        "serve.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = cli.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the gateway on HOST:PORT (with the local emulator unless "
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME or GATEWAY_BACKEND=aws says otherwise)",
        description="Serve the gateway. Flags override their settings.",
    )
    serve.add_argument("--host", help="where to listen (HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="the port (PORT, default 8000)")
    serve.add_argument("--emulator-port", type=int, help="the emulator's (EMULATOR_PORT, 8001)")
    commands.add_parser(
        "worker",
        help="a job worker: runs the jobs queued in GATEWAY_JOBS_REDIS_URL (docs/jobs.md)",
        description="Run queued jobs until stopped (SIGTERM puts running ones back).",
    )
    commands.add_parser(
        "keys",
        help="make an API key: keys create --name NAME [--models ...] [--tasks ...]",
        add_help=False,
    )
    commands.add_parser(
        "emulator",
        help="the local Bedrock emulator alone: emulator [--host H] [--port P]",
        add_help=False,
    )
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    """Run a command (serve when none is given)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "keys":
        from .auth import command

        sys.exit(command.main(args[1:], prog=f"{PROG} keys"))
    if args and args[0] == "emulator":
        # Its own program (it shares no code with the gateway): run it in this process's place.
        os.execv(sys.executable, [sys.executable, "-m", "emulator", *args[1:]])
    parsed = parser().parse_args(args)
    if parsed.command == "worker":
        from . import worker

        worker.main()
        return
    flags = {"HOST": "host", "PORT": "port", "EMULATOR_PORT": "emulator_port"}
    for name, flag in flags.items():
        value = getattr(parsed, flag, None)
        if value is not None:
            os.environ[name] = str(value)
    from . import serve

    serve.main()


if __name__ == "__main__":
    main()
