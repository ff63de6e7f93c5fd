"""`python -m app keys create --name NAME [--models ...] [--tasks ...]`: make an API key.

Prints the key once (the gateway keeps only its hash; a lost key cannot be recovered, only
replaced) and the GATEWAY_API_KEYS entry that carries its hash, name and permissions.

A key with a name alone needs nothing but the standard library, so any Python 3.11+ runs the
command from the repository (the Docker section's way); models, tasks and limits are checked by
the gateway's own rules, which need its dependencies (the virtualenv `make` builds).
"""

from __future__ import annotations

import argparse
import json
import sys

from .keygen import NAME_MAX_LENGTH, hash_key, new_key

_LIMITS = ("requests_per_minute", "images_per_minute", "concurrent_requests")
_BUDGET = ("usd_per_day", "usd_per_month", "usd_total")


def parser(prog: str = "python -m app keys") -> argparse.ArgumentParser:
    """The command's arguments (also `python -m app keys`'s)."""
    keys = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[1])
    commands = keys.add_subparsers(dest="command", required=True)
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
        help="tasks it may do (as in POST /v1/images/TASK); all if omitted",
    )
    for limit in _LIMITS:
        create.add_argument(f"--{limit.replace('_', '-')}", type=int, metavar="N", dest=limit)
    for window in _BUDGET:
        create.add_argument(f"--{window.replace('_', '-')}", type=float, metavar="USD", dest=window)
    create.add_argument(
        "--admin", action="store_true", help="may read every key's usage (GET /v1/usage)"
    )
    return keys


def main(argv: list[str] | None = None, prog: str = "python -m app keys") -> int:
    """Run the command; the exit status (2 for a bad argument)."""
    keys = parser(prog)
    args = keys.parse_args(argv)
    if not 1 <= len(args.name) <= NAME_MAX_LENGTH:
        keys.error(f"name: 1 to {NAME_MAX_LENGTH} characters")
    key = new_key()
    entry: dict[str, object] = {"name": args.name, "hash": hash_key(key)}
    if args.models:
        entry["models"] = args.models
    if args.tasks:
        entry["tasks"] = args.tasks
    limits = {name: getattr(args, name) for name in _LIMITS if getattr(args, name) is not None}
    if limits:
        entry["limits"] = limits
    budget = {name: getattr(args, name) for name in _BUDGET if getattr(args, name) is not None}
    if budget:
        entry["budget"] = budget
    if args.admin:
        entry["admin"] = True
    if len(entry) > 2:
        problem = _check(entry)
        if problem:
            keys.error(problem)
    print(f"API key (shown once; the gateway stores only its hash): {key}")
    print("GATEWAY_API_KEYS entry:")
    print(json.dumps(entry, separators=(",", ":")))
    return 0


def _check(entry: dict[str, object]) -> str | None:
    """What the gateway would refuse in `entry` at start (the same checks), or None."""
    # Imported here: they need the gateway's dependencies, which a name-only key does not.
    from ..families.registry import ModelRegistry
    from ..settings import get_settings
    from .keys import KeyConfigError, load_keys

    settings = get_settings()
    registry = ModelRegistry(overrides=settings.models, families=settings.families)
    try:
        load_keys([entry], resolve=registry.resolve)
    except KeyConfigError as exc:
        return str(exc).partition(": ")[2]
    return None


if __name__ == "__main__":
    sys.exit(main(prog="python -m app.auth.command"))
