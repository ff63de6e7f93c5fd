"""`python -m app.keys create --name NAME [--models ...] [--tasks ...]`: make an API key.

Prints the key once (the gateway keeps only its hash; a lost key cannot be recovered, only
replaced) and the GATEWAY_API_KEYS entry that carries its hash, name and permissions.
"""

from __future__ import annotations

import argparse
import sys

import orjson

from .adapters.registry import ModelRegistry
from .auth.keys import KeyConfigError, hash_key, load_keys, new_key
from .schemas.requests import Task
from .settings import get_settings

_LIMITS = ("requests_per_minute", "images_per_minute", "concurrent_requests")


def main(argv: list[str] | None = None) -> int:
    """Run the command; the exit status (2 for a bad argument)."""
    parser = argparse.ArgumentParser(prog="python -m app.keys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="make a key; print it and its settings entry")
    create.add_argument("--name", required=True, help="shown in logs, metrics and 403 answers")
    create.add_argument(
        "--models",
        nargs="+",
        metavar="MODEL",
        help="models it may use (ids or aliases); all if omitted",
    )
    create.add_argument(
        "--tasks",
        nargs="+",
        metavar="TASK",
        choices=[t.value for t in Task],
        help="tasks it may do; all if omitted",
    )
    for limit in _LIMITS:
        create.add_argument(f"--{limit.replace('_', '-')}", type=int, metavar="N", dest=limit)
    args = parser.parse_args(argv)

    key = new_key()
    entry: dict[str, object] = {"name": args.name, "hash": hash_key(key)}
    if args.models:
        entry["models"] = args.models
    if args.tasks:
        entry["tasks"] = args.tasks
    limits = {name: getattr(args, name) for name in _LIMITS if getattr(args, name) is not None}
    if limits:
        entry["limits"] = limits
    try:
        # The same checks as the gateway's at start: an entry printed here is one it accepts.
        load_keys([entry], resolve=ModelRegistry(overrides=get_settings().models).resolve)
    except KeyConfigError as exc:
        parser.error(str(exc).partition(": ")[2])
    print(f"API key (shown once; the gateway stores only its hash): {key}")
    print("GATEWAY_API_KEYS entry:")
    print(orjson.dumps(entry).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
