"""`facegate schedule` and `facegate access-log`: the door's data on the command line.

facegate schedule Ada "Mon-Fri 08:00-18:00, Sat 10:00-14:00"   # set Ada's weekly windows
facegate schedule Ada                                         # show them
facegate schedule Ada --clear                                 # no time limit any more
facegate access-log --since 2026-11-01 --person Ada           # since local midnight, newest first
facegate access-log --csv log.csv                             # export every event
facegate access-log --not-this-person 42                      # event 42's face is not that person
facegate access-log --verify                                  # walk the hash chain: exit 1 at a tampered row
facegate access Ada                                           # how Ada opens the door
facegate access Ada --mode face+pin --pin                     # the PIN typed twice, never on the command line
facegate access Ada --duress                                  # a duress PIN too (opens, raises a silent alarm)
facegate access Ada --mode face+card                          # her card (facegate's card numbers) after her face
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.cli.common import open_gallery, read_secret, say, stdin_lines
from core.door.access_log import AccessLog, stored_time
from core.door.factors import AccessError, access_change
from core.door.schedule import Schedules, format_windows, parse_windows
from core.errors import FaceGateError, StoreError
from core.gallery.store import ACCESS_MODES

COMMANDS = ("schedule", "access-log", "access")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("schedule", parents=[common], help="show or set a person's weekly time windows")
    p.add_argument("name")
    p.add_argument("windows", nargs="?", help='e.g. "Mon-Fri 08:00-18:00, Sat 10:00-14:00"')
    p.add_argument("--clear", action="store_true", help="remove every time limit")
    p = sub.add_parser("access-log", parents=[common], help="list or export the door's access log")
    p.add_argument("--csv", type=Path, default=None, help="write the events to this CSV file")
    p.add_argument("--person", default=None)
    p.add_argument("--verdict", default=None, help='e.g. Granted, Denied, "Denied (schedule)", Unknown')
    p.add_argument("--unknown", action="store_true", help="unknown visitors only")
    p.add_argument(
        "--since",
        default=None,
        help="ISO date or time on this PC's clock (a date: from its local midnight; "
        "a time may end in Z or +HH:MM), e.g. 2026-11-01",
    )
    p.add_argument("--limit", type=int, default=50, help="events to list (default 50; the CSV has all)")
    p.add_argument(
        "--verify",
        action="store_true",
        help="walk the log's hash chain and report the first row edited, inserted or deleted (exit status 1)",
    )
    p.add_argument(
        "--not-this-person",
        type=int,
        default=None,
        metavar="EVENT",
        help="this event's face is not the person it was matched to: never match it to them again",
    )

    p = sub.add_parser("access", parents=[common], help="show or set how a person opens the door: face, face+pin, face+card")
    p.add_argument("name")
    p.add_argument("--mode", choices=ACCESS_MODES, help="face alone (the default), or the face then a PIN or a card")
    p.add_argument(
        "--pin",
        action="store_true",
        help="choose a new PIN (typed twice at a terminal; else one line of standard input or --pin-file; never an argument)",
    )
    p.add_argument(
        "--duress", action="store_true", help="choose a duress PIN: it opens as the PIN does and raises a silent alarm"
    )
    p.add_argument("--no-duress", action="store_true", help="remove the duress PIN")
    p.add_argument("--pin-file", type=Path, help="the new PIN, in a file only you may read")
    p.add_argument("--duress-file", type=Path, help="the new duress PIN, in a file only you may read")


def run(args: argparse.Namespace) -> int:
    if args.command == "schedule":
        return _schedule(args)
    if args.command == "access":
        return _access(args)
    return _access_log(args)


def _access(args: argparse.Namespace) -> int:
    """Show, or set, a person's access mode and PINs. A site's person is the admin's: on a door
    PC the change is refused up front (core.site.people), on an admin PC every door follows."""
    from core.site.people import set_access

    if args.duress and args.no_duress:
        raise FaceGateError("give --duress or --no-duress, not both")
    lines = stdin_lines()
    pin = _new_pin(args.pin_file, "New PIN: ", lines) if args.pin or args.pin_file else None
    duress = _new_pin(args.duress_file, "New duress PIN: ", lines) if args.duress or args.duress_file else None
    change = args.mode is not None or pin is not None or duress is not None or args.no_duress
    with open_gallery(args, write=change) as g:
        person = g.store.person(args.name)
        if change:
            current = g.store.pins(person.id)
            wanted = access_change(args.mode or person.access, pin, "" if args.no_duress else duress, *current)
            set_access(g, person.name, wanted.access, wanted.pin, wanted.duress_pin)
            person = g.store.person(person.id)
        has_pin, has_duress = (record is not None for record in g.store.pins(person.id))
    out = {
        "name": person.name,
        "access": person.access,
        "pin": has_pin,
        "duress_pin": has_duress,
        "card": person.card is not None,
    }
    extras = [w for w, on in (("a PIN", has_pin), ("a duress PIN", has_duress), ("a card", out["card"])) if on]
    say(args, out, f"{person.name}: {person.access}" + (f" ({', '.join(extras)} set)" if extras else ""))
    return 0


def _new_pin(path: Path | None, prompt: str, lines: Iterator[str]) -> str:
    """A new PIN from a 0600 file, typed twice at a terminal (without echo), or a line of stdin."""
    pin = read_secret(path, prompt, lines)
    if path is None and sys.stdin.isatty() and getpass.getpass("Again: ") != pin:
        raise AccessError("the two entries differ; nothing was changed")
    return pin


def _schedule(args: argparse.Namespace) -> int:
    change = args.clear or args.windows is not None
    if args.windows is not None and args.clear:
        raise StoreError("give windows or --clear, not both")
    try:
        windows = parse_windows(args.windows) if args.windows is not None else []
    except ValueError as exc:
        raise StoreError(f"schedule not changed: {exc}") from None
    with open_gallery(args, write=change) as g:
        person = g.store.person(args.name)
        schedules = Schedules(g.store)
        if change:
            schedules.set(person.id, windows)
        windows = schedules.windows(person.id)
    text = format_windows(windows) or "no time limits"
    say(args, {"name": person.name, "windows": [str(w) for w in windows]}, f"{person.name}: {text}")
    return 0


def _access_log(args: argparse.Namespace) -> int:
    try:
        since = stored_time(args.since) if args.since else None
    except ValueError as exc:
        raise FaceGateError(f"--since: {exc}") from None
    filters = {"person": args.person, "verdict": args.verdict, "unknown": args.unknown, "since": since}
    with open_gallery(args, write=args.not_this_person is not None) as g:
        access_log = AccessLog(g.store)
        if args.verify:
            report = access_log.verify()
            say(args, {"ok": report.ok, "rows": report.rows, "bad": report.bad, "problem": report.problem}, report.text())
            return 0 if report.ok else 1
        if args.not_this_person is not None:
            event = access_log.not_this_person(args.not_this_person, g)
            say(
                args,
                {"event": event.id, "not": event.name},
                f"event {event.id}: that face will not be matched to {event.name} again",
            )
            return 0
        if args.csv is not None:
            count = access_log.export_csv(args.csv, **filters)
            say(args, {"csv": str(args.csv), "events": count}, f"{count} events written to {args.csv}")
            return 0
        events = access_log.events(limit=args.limit, **filters)
    rows: list[dict[str, Any]] = [
        {
            "id": e.id,
            "time": e.time,
            "person": e.name,
            "verdict": e.verdict,
            "distance": e.distance,
            "door": e.door,
            "reason": e.reason,
        }
        for e in events
    ]
    say(
        args,
        rows,
        "\n".join(
            f"{e.id:>6} {e.time[:19]} {e.who:<20} {e.verdict:<18} "
            f"{'' if e.distance is None else format(e.distance, '.3f'):>6}  {e.reason}"
            for e in events
        )
        or "no events",
    )
    return 0
