"""`facegate schedule` and `facegate access-log`: the door's data on the command line.

facegate schedule Ada "Mon-Fri 08:00-18:00, Sat 10:00-14:00"   # set Ada's weekly windows
facegate schedule Ada                                         # show them
facegate schedule Ada --clear                                 # no time limit any more
facegate access-log --since 2026-11-01 --person Ada           # since local midnight, newest first
facegate access-log --csv log.csv                             # export every event
facegate access-log --not-this-person 42                      # event 42's face is not that person
facegate access-log --verify                                  # walk the hash chain: exit 1 at a tampered row
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.common import open_gallery, say
from core.door.access_log import AccessLog, stored_time
from core.door.schedule import Schedules, format_windows, parse_windows
from core.errors import FaceGateError, StoreError

COMMANDS = ("schedule", "access-log")


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


def run(args: argparse.Namespace) -> int:
    if args.command == "schedule":
        return _schedule(args)
    return _access_log(args)


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
