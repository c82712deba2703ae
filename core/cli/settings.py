"""`facegate settings`, `facegate rename`, `facegate admin-pin`: set a door PC up without its window
(over SSH, from a script), with the window's own checks.

    facegate settings list [--json]                  # every stored setting, group.field = value
    facegate settings get quality.min_size [--json]  # one setting, or a whole group (get quality)
    facegate settings set quality.min_size 80        # checked as the Settings dialog checks it
    facegate settings reset quality.min_size         # back to the default (or a whole group)
    facegate rename "Old Name" "New Name"
    facegate admin-pin set                           # the PIN from standard input, never the command line

Changing a setting the window keeps behind the admin PIN (core.station.settings.GUARDED: the live
loop, the quality gates, the decision, the door, events, site, visitors, review) needs the PIN
here too, read from --pin-file (a file only its owner may read) or from standard input; with no
PIN set yet, choose one first (``facegate admin-pin set``), as the window makes its user do.
The gallery has one writer: while FaceGate runs (the kiosk service) these verbs are refused with
a clear message; stop it first (``systemctl --user stop facegate``), change, start it again.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from core.cli.common import open_gallery, read_secret, say, stdin_lines
from core.errors import StoreError
from core.gallery.admin import AdminError, AdminLock
from core.gallery.store import Store

COMMANDS = ("settings", "rename", "admin-pin")


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("settings", parents=[common], help="list, read or change the settings kept in the gallery")
    p.add_argument("action", choices=("list", "get", "set", "reset"))
    p.add_argument("key", nargs="?", help="group.field (e.g. quality.min_size), or a group for get/reset")
    p.add_argument("value", nargs="?", help="set: the new value (true/false for a switch)")
    p.add_argument("--pin-file", type=Path, help="the admin PIN, in a file only you may read (default: standard input)")
    p = sub.add_parser("rename", parents=[common], help="rename an enrolled person")
    p.add_argument("old")
    p.add_argument("new")
    p = sub.add_parser(
        "admin-pin", parents=[common], help="choose or change the admin PIN (read from standard input or a 0600 file)"
    )
    p.add_argument("action", choices=("set",))
    p.add_argument("--pin-file", type=Path, help="the new PIN, in a file only you may read (default: standard input)")
    p.add_argument(
        "--current-pin-file",
        type=Path,
        help="the current PIN when changing it (default: standard input, the line before the new one)",
    )


def run(args: argparse.Namespace) -> int:
    if args.command == "rename":
        with open_gallery(args, write=True) as g:
            person = g.rename(args.old, args.new)
        say(args, {"renamed": args.old, "to": person.name}, f"{args.old} is now {person.name}")
        return 0
    if args.command == "admin-pin":
        return _admin_pin(args)
    return _settings(args)


def _settings(args: argparse.Namespace) -> int:
    from core.station import settings as stored

    if args.action in ("get", "set", "reset") and not args.key:
        raise StoreError(f"settings {args.action} needs a key: group.field (facegate settings list shows them)")
    if args.action == "set" and args.value is None:
        raise StoreError(f"settings set {args.key} needs a value")
    write = args.action in ("set", "reset")
    with open_gallery(args, write=write) as g:
        try:
            if args.action == "list":
                values = stored.everything(g.store)
            elif args.action == "get":
                values = stored.get(g.store, args.key)
            else:
                if stored.guarded(args.key):
                    _unlock(g.store, args.pin_file, f"change {args.key}")
                if args.action == "set":
                    stored.set_text(g.store, args.key, args.value)
                else:
                    stored.reset(g.store, args.key)
                values = stored.get(g.store, args.key)
        except ValueError as exc:
            raise StoreError(f"{exc} (nothing changed)") from None
    say(args, values, "\n".join(f"{k} = {_text(v)}" for k, v in values.items()))
    return 0


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _unlock(store: Store, pin_file: Path | None, what: str) -> None:
    """Return when the admin PIN is given right (the window's rule); AdminError otherwise."""
    lock = AdminLock(store)
    if not lock.is_set():
        raise AdminError(f"no admin PIN is set: choose one first (facegate admin-pin set), then {what}")
    lock.verify(read_secret(pin_file, "Admin PIN: ", stdin_lines()))


def _admin_pin(args: argparse.Namespace) -> int:
    lines = stdin_lines()
    with open_gallery(args, write=True) as g:
        lock = AdminLock(g.store)
        current = read_secret(args.current_pin_file, "Current admin PIN: ", lines) if lock.is_set() else None
        new = read_secret(args.pin_file, "New admin PIN: ", lines)
        if args.pin_file is None and sys.stdin.isatty() and getpass.getpass("Again: ") != new:
            raise AdminError("the two entries differ; the PIN is unchanged")
        lock.set_secret(new, current)
    say(
        args,
        {"admin_pin": "changed" if current is not None else "set"},
        "the admin PIN is " + ("changed" if current is not None else "set"),
    )
    return 0
