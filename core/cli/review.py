"""`facegate recent`: the review queue (core.door.review) on the command line.

    facegate recent [--json] [--pending] [--limit 50]   # the last faces seen, newest first
    facegate recent add ID NAME [--confirm | --force]   # face ID becomes a sample of NAME (guarded)
    facegate recent not ID NAME                         # face ID is not NAME: never match it to them
    facegate recent enroll ID NAME                      # a new person from face ID
    facegate recent dismiss ID
    facegate recent learned                             # samples learning mode added
    facegate recent undo ID                             # remove the sample face ID became (added, learned, enrolled)
    facegate recent undo --sample SAMPLE                # remove a learned or added sample by its id
    facegate recent --learning on|off                   # learning mode

A face farther than the match threshold from the person's nearest sample is added only with
--confirm (after looking at both faces: the window shows them side by side); one beyond the
distance at which two faces are different people only with --force, an admin's word (the
command line asks no PIN: whoever runs it can write the gallery's files anyway).
core.gallery.plausible says where the lines are; a refusal exits 2 and names the flag.
"""

from __future__ import annotations

import argparse
import shlex
from functools import partial

from core.cli.common import open_gallery, say
from core.door.access_log import local_time
from core.door.review import Implausible, RecentFaces, Refused
from core.errors import FaceGateError
from core.site.people import remove_sample, withdrawal_note
from core.vision.quality import problems

COMMANDS = ("recent",)
#: action -> how many arguments it takes after it
ACTIONS = {"add": 2, "not": 2, "enroll": 2, "dismiss": 1, "learned": 0, "undo": 1}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("recent", parents=[common], help="the review queue: the last faces seen at the door")
    p.add_argument("action", nargs="?", choices=sorted(ACTIONS), help="what to do (none: list the faces)")
    p.add_argument("arguments", nargs="*", help="ID NAME for add/not/enroll, ID for dismiss and undo")
    p.add_argument("--pending", action="store_true", help="only faces nobody has acted on")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--learning", choices=("on", "off"), default=None, help="switch learning mode")
    p.add_argument(
        "--confirm",
        action="store_true",
        help="add: the face is over the threshold from the person's samples, and you looked: it is them",
    )
    p.add_argument("--force", action="store_true", help="add: as an admin, add a face beyond the different-people distance")
    p.add_argument("--sample", action="store_true", help="undo: the number is a sample id, not a face id")


def run(args: argparse.Namespace) -> int:
    if args.action and len(args.arguments) != ACTIONS[args.action]:
        raise FaceGateError(f"recent {args.action} takes {ACTIONS[args.action]} argument(s), got {len(args.arguments)}")
    numbers = [a for a in args.arguments[:1] if not a.lstrip("#").isdigit()]
    if args.action not in (None, "learned") and numbers:
        raise FaceGateError(f"{numbers[0]!r} is not a number (see `facegate recent`)")
    write = args.action not in (None, "learned") or args.learning is not None
    with open_gallery(args, write=write) as g:
        recent = RecentFaces(g, remove_sample=partial(remove_sample, g))
        if args.learning is not None:
            recent.settings.learning = args.learning == "on"
            recent.settings.save(g.store)
            say(args, {"learning": recent.settings.learning}, f"learning mode {args.learning}")
            if args.action is None:
                return 0
        if args.action in ("add", "not", "enroll", "dismiss", "undo"):
            return _act(args, recent, int(args.arguments[0].lstrip("#")))
        if args.action == "learned":
            rows = recent.learned()
            say(
                args,
                rows,
                "\n".join(
                    f"sample {r['sample']:>6} {r['person']:<20} {r['time'][:19]}  {r['source']}"
                    + (f"  (undo: facegate recent undo {r['face']})" if r["face"] else "")
                    for r in rows
                )
                or "no learned samples",
            )
            return 0
        faces = recent.recent(args.limit, pending=args.pending)
    rows = [f.as_json() for f in faces]
    say(
        args,
        rows,
        "\n".join(
            f"{f.id:>6} {local_time(f.time)} {f.verdict:<18} {(f.name or '-'):<16} "
            f"{', '.join(f'{n} {d:.3f}' for n, d in f.nearest):<32} {f.quality.size:>4} px "
            f"{', '.join(problems(f.quality)) or 'good':<12} "
            f"{f.status}{' - ' + f.outcome if f.outcome and f.outcome != f.status else ''}"
            for f in faces
        )
        or "no recent faces",
    )
    return 0


def _act(args: argparse.Namespace, recent: RecentFaces, number: int) -> int:
    name = args.arguments[1] if len(args.arguments) > 1 else ""
    if args.action == "add":
        try:
            sample = recent.add(number, name, confirm=args.confirm, force=args.force)
        except Implausible as exc:
            flag = "--confirm" if exc.needs == "confirm" else "--force"
            raise Refused(
                f"{exc}; to add it anyway: facegate recent add {number} {shlex.quote(exc.name)} {flag}"
                f" (undo: facegate recent undo {number})"
            ) from None
        say(
            args,
            {"face": number, "added_to": name, "sample": sample},
            f"face {number} added to {name} (sample {sample}; undo: facegate recent undo {number})",
        )
    elif args.action == "not":
        recent.not_this(number, name)
        say(args, {"face": number, "not": name}, f"face {number} will not be matched to {name} again")
    elif args.action == "enroll":
        sample = recent.enroll_new(number, name)
        say(args, {"face": number, "enrolled": name, "sample": sample}, f"{name} enrolled from face {number}")
    elif args.action == "dismiss":
        recent.dismiss(number)
        say(args, {"face": number, "dismissed": True}, f"face {number} dismissed")
    elif args.sample:
        recent.undo_sample(number)
        say(args, {"undone_sample": number}, f"sample {number} removed{withdrawal_note(recent.gallery)}")
    else:
        sample = recent.undo(number)
        say(
            args,
            {"face": number, "undone_sample": sample},
            f"face {number}: sample {sample} removed{withdrawal_note(recent.gallery)}",
        )
    return 0
