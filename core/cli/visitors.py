"""`facegate visitors`: the unknown visitors grouped by face (core.door.visitors).

facegate visitors [--json]                 # one object per visitor: id, first_seen, last_seen, visits, ...
facegate visitors --enroll 7 Courier       # enroll visitor 7 from all of their faces
facegate visitors --enroll 8 Courier --confirm   # add to someone enrolled: the review queue's rule
facegate visitors --enroll 9 Plumber --until 2026-12-05T17:00   # a visitor pass: let in until then, never after
facegate visitors --enroll 9 Cleaner --until 2027-03-31 --schedule "Mon-Fri 18:00-21:00"   # a per-schedule pass
facegate visitors --purge                  # the retention purge now (visitors, old log rows), logged
facegate visitors --retention-days 14      # change the retention period (default 30)
"""

from __future__ import annotations

import argparse
import shlex

from core.cli.common import open_gallery, say
from core.door.access_log import stored_time
from core.door.passes import Passes, validate
from core.door.retention import Retention
from core.door.review import Implausible
from core.door.schedule import Window, format_windows, parse_windows
from core.door.visitors import Visitors, VisitorSettings
from core.errors import FaceGateError

COMMANDS = ("visitors",)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("visitors", parents=[common], help="unknown visitors grouped by face, with their visits")
    p.add_argument(
        "--enroll", nargs=2, metavar=("ID", "NAME"), default=None, help="enroll this visitor as NAME from all of their faces"
    )
    p.add_argument("--denied", action="store_true", help="with --enroll: known but not allowed through the door")
    p.add_argument(
        "--confirm",
        action="store_true",
        help="with --enroll to someone enrolled: the visitor is farther than the threshold, and you looked",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with --enroll to someone enrolled: as an admin, beyond the different-people distance",
    )
    p.add_argument(
        "--until",
        default=None,
        metavar="TIME",
        help="with --enroll: a visitor pass, valid until this time on this PC's clock (e.g. 2026-12-05T17:00); "
        "refused at every door after it, deleted with their faces after the retention period",
    )
    p.add_argument("--from", dest="since", default=None, metavar="TIME", help="with --until: the pass starts at this time")
    p.add_argument(
        "--schedule",
        default=None,
        metavar="WINDOWS",
        help="with --until: a per-schedule pass, valid only inside these weekly windows (e.g. 'Mon-Fri 08:00-18:00')",
    )
    p.add_argument("--purge", action="store_true", help="delete never-enrolled visitors past the retention period")
    p.add_argument("--retention-days", type=float, default=None, help="keep never-enrolled visitors this long")


def _pass_times(args: argparse.Namespace) -> tuple[str | None, str | None, list[Window] | None]:
    """--until, --from (stored form) and --schedule's windows (a clear message when they cannot be read)."""
    for given, flag in ((args.since, "--from"), (args.schedule, "--schedule")):
        if given is not None and args.until is None:
            raise FaceGateError(f"{flag} needs --until: a visitor pass has an end")
    if args.until is None:
        return None, None, None
    try:
        until, since = stored_time(args.until), stored_time(args.since) if args.since is not None else None
        schedule = parse_windows(args.schedule) if args.schedule is not None else None
        validate(until, since, schedule)
    except ValueError as exc:
        raise FaceGateError(f"nobody enrolled: {exc}") from None
    return until, since, schedule


def run(args: argparse.Namespace) -> int:
    write = args.enroll is not None or args.purge or args.retention_days is not None
    with open_gallery(args, write=write) as g:
        settings, _problem = VisitorSettings.load_or_default(g.store)
        if args.retention_days is not None:
            settings.retention_days = args.retention_days
            try:
                settings.save(g.store)
            except ValueError as exc:
                raise FaceGateError(f"visitors settings not changed: {exc}") from None
        visitors = Visitors(g.store, settings)
        if args.enroll is not None:
            visitor_id, name = args.enroll
            if not visitor_id.lstrip("#").isdigit():
                raise FaceGateError(f"visitor id {visitor_id!r} is not a number (see `facegate visitors`)")
            number = int(visitor_id.lstrip("#"))
            until, since, schedule = _pass_times(args)
            try:
                result = visitors.enroll(
                    number,
                    g,
                    name,
                    allowed=not args.denied,
                    confirm=args.confirm,
                    force=args.force,
                    until=until,
                    since=since,
                    schedule=schedule,
                )
            except Implausible as exc:
                flag = "--confirm" if exc.needs == "confirm" else "--force"
                raise FaceGateError(
                    f"{exc}; to add them anyway: facegate visitors --enroll {number} {shlex.quote(exc.name)} {flag}"
                ) from None
            held = Passes(g.store).of(result.person.id) if until is not None else None
            text = held.text() + (f", {format_windows(schedule)}" if schedule else "") if held else None
            say(
                args,
                {
                    "visitor": int(visitor_id.lstrip("#")),
                    "pass": text,
                    "name": result.person.name,
                    "added": len(result.sample_ids),
                    "samples": result.person.sample_count,
                },
                f"visitor #{visitor_id.lstrip('#')} enrolled as {result.person.name}: {len(result.sample_ids)} "
                f"sample(s) added, {result.person.sample_count} in all" + (f"; {text}" if text else ""),
            )
            return 0
        if args.purge or args.retention_days is not None:
            purged = Retention(g, visitors).purge()
            if args.purge:
                say(
                    args,
                    {"deleted": purged.visitors, "log_rows": purged.log_rows, "retention_days": settings.retention_days},
                    purged.text(),
                )
                return 0
        rows = [v.as_json() for v in visitors.all()]
    say(
        args,
        rows,
        "\n".join(
            f"#{r['id']:<5} first {r['first_seen'][:19]}  last {r['last_seen'][:19]}  {r['visits']:>4} visits"
            f"{'  enrolled as ' + r['enrolled_as'] if r['enrolled_as'] else ''}"
            for r in rows
        )
        or "no unknown visitors",
    )
    return 0
