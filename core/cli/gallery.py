"""The gallery verbs of ``facegate``: enroll, enroll-folder, identify, people, threshold, remove,
card, import-cards, backup, restore."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from core.cli.common import open_gallery, progress_bar, say
from core.errors import FaceGateError
from core.gallery.photo_views import VIEW_WIDTHS
from core.paths import default_db
from core.records import skipped_json

COMMANDS = (
    "enroll",
    "enroll-folder",
    "identify",
    "people",
    "threshold",
    "remove",
    "card",
    "import-cards",
    "backup",
    "restore",
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("enroll", parents=[common], help="enroll a person from photos (one face each)")
    p.add_argument("name")
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--denied", action="store_true", help="known but not allowed through the door")
    p = sub.add_parser("enroll-folder", parents=[common], help="enroll one person per subfolder (or files named person.anything)")
    p.add_argument("folder", type=Path)
    p = sub.add_parser("identify", parents=[common], help="name every face in a photo")
    p.add_argument("image", type=Path)
    p.add_argument("--top", type=int, default=3, help="candidates to list per face")
    sub.add_parser("people", parents=[common], help="list enrolled people")
    p = sub.add_parser(
        "threshold",
        parents=[common],
        help="give a person their own threshold, stricter than the door's (look-alikes, twins); at a site: on an admin PC",
    )
    p.add_argument("name")
    p.add_argument("value", help="a distance below the door's threshold, or 'door' to follow the door's again")
    p = sub.add_parser(
        "remove", parents=[common], help="delete a person and their samples (at a site: from every door, on an admin PC)"
    )
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="at a site: remove them from every door without asking first")
    p = sub.add_parser(
        "card", parents=[common], help="show, set or clear a person's credential number (what an access panel is sent)"
    )
    p.add_argument("name")
    p.add_argument("number", nargs="?", help="the card number in decimal (left out: show it)")
    p.add_argument("--clear", action="store_true", help="take the person's card number away")
    p = sub.add_parser("import-cards", parents=[common], help="set card numbers from a CSV file of name,card (all lines or none)")
    p.add_argument("file", type=Path)
    p = sub.add_parser("backup", parents=[common], help="back up the whole gallery to one file")
    p.add_argument("file", type=Path)
    p = sub.add_parser("restore", parents=[common], help="replace the gallery with a verified backup")
    p.add_argument("file", type=Path)


def run(args: argparse.Namespace) -> int:
    """Run one of COMMANDS."""
    if args.command == "enroll":
        with open_gallery(args, write=True) as g:
            result = g.enroll(args.name, [str(p) for p in args.images], allowed=not args.denied, views=VIEW_WIDTHS)
        views = result.person.view_count
        out = {
            "name": result.person.name,
            "added": len(result.sample_ids),
            "samples": result.person.sample_count,
            "views": views,
            "skipped": skipped_json(result.skipped),
            "allowed": result.person.allowed,
        }
        blocked = (
            ""
            if result.person.allowed or args.denied
            else f"\n  {out['name']} stays blocked: new faces never let a blocked person in (tick Allowed on the People page)"
        )
        say(
            args,
            out,
            f"{out['name']}: {out['added']} sample(s) added, {out['samples']} in all ({views} of them photos' camera views)"
            + "".join(f"\n  skipped {reason}" for _, reason in result.skipped)
            + blocked,
        )
        return 0
    if args.command == "enroll-folder":
        return _enroll_folder(args)
    if args.command == "identify":
        with open_gallery(args, write=False) as g:
            found = g.identify(str(args.image))
        rows: list[dict[str, Any]] = [
            {
                "box": list(face.box.as_tuple()),
                "name": m.name,
                "distance": None if m.distance is None else round(m.distance, 4),
                "margin": None if m.margin is None else round(m.margin, 4),
                "candidates": [{"name": c.name, "distance": round(c.distance, 4)} for c in m.candidates[: args.top]],
                "reason": m.reason,
            }
            for face, m in found
        ]
        if args.json:
            print(json.dumps(rows))
        else:
            if not rows:
                print(f"{args.image}: no face found")
            for r in rows:
                cands = ", ".join(f"{c['name']} {c['distance']:.3f}" for c in r["candidates"]) or "gallery empty"
                print(f"{tuple(r['box'])}: {r['name'] or 'no match'}   [{cands}]")
        return 0
    if args.command == "people":
        with open_gallery(args, write=False) as g:
            people = g.people()
        rows = [
            {
                "name": p.name,
                "allowed": p.allowed,
                "samples": p.sample_count,
                "views": p.view_count,
                "created": p.created,
                "card": p.card,
                "threshold": p.threshold,
                "access": p.access,
            }
            for p in people
        ]
        say(
            args,
            rows,
            "\n".join(
                f"{r['name']:<30} {r['samples']:>4} samples"
                + (f" ({r['views']} photo views)" if r["views"] else "")
                + f"  {'allowed' if r['allowed'] else 'denied'}"
                + (f"  card {r['card']}" if r["card"] else "")
                + (f"  own threshold {r['threshold']:g}" if r["threshold"] is not None else "")
                + (f"  {r['access']}" if r["access"] != "face" else "")
                for r in rows
            )
            or "no one is enrolled",
        )
        return 0
    if args.command == "threshold":
        return _threshold(args)
    if args.command == "remove":
        return _remove(args)
    if args.command in ("card", "import-cards"):
        return _cards(args)
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args)
    raise AssertionError(args.command)


def _remove(args: argparse.Namespace) -> int:
    """One verb, whatever the PC: a site's person leaves every door (an admin PC, after a
    confirmation), a door PC refuses up front (core.site.people), anyone else leaves this gallery."""
    from core.site.people import WHEN_DOORS_KNOW, plan_removal, remove_person

    with open_gallery(args, write=True) as g:
        plan = plan_removal(g, args.name)
        if plan.warning and not args.yes:
            if not sys.stdin.isatty():
                raise FaceGateError(f"{plan.warning} Say --yes to go ahead.")
            answer = input(f"{plan.warning}\nType yes to remove them everywhere: ")
            if answer.strip().lower() != "yes":
                say(args, {"removed": None}, "not removed")
                return 1
        n = remove_person(g, args.name)
    where = f" from the site and every door ({WHEN_DOORS_KNOW})" if plan.site_wide else ""
    say(args, {"removed": plan.name, "samples": n, "site": plan.site_wide}, f"removed {plan.name} and {n} sample(s){where}")
    return 0


def _cards(args: argparse.Namespace) -> int:
    """Credential numbers, by hand or from a CSV file: at a site through the site (an admin PC;
    a door PC is refused up front, core.site.people), all lines or none."""
    from core.gallery.cards import read_cards
    from core.site.people import set_cards

    if args.command == "card" and args.number is None and not args.clear:
        with open_gallery(args, write=False) as g:
            person = g.store.person(args.name)
        say(
            args,
            {"name": person.name, "card": person.card},
            f"{person.name}: " + (f"card {person.card}" if person.card else "no card"),
        )
        return 0
    if args.command == "card" and args.number is not None and args.clear:
        raise FaceGateError("give a card number or --clear, not both")
    with open_gallery(args, write=True) as g:
        cards = read_cards(g.store, args.file) if args.command == "import-cards" else [(args.name, args.number)]
        people = set_cards(g, cards)
    rows = [{"name": p.name, "card": p.card} for p in people]
    text = "\n".join(f"{r['name']}: " + (f"card {r['card']}" if r["card"] else "no card") for r in rows)
    say(args, rows if args.command == "import-cards" else rows[0], text)
    return 0


def _threshold(args: argparse.Namespace) -> int:
    """A person's own threshold: refused unless stricter than this door's decision threshold; at a
    site, set there by an admin PC (every door follows), refused on a door PC (core.site.people)."""
    from core.door.policy import DecisionSettings
    from core.site.people import set_threshold

    value = None if args.value.strip().lower() == "door" else _distance(args.value)
    with open_gallery(args, write=True) as g:
        door = DecisionSettings.load_or_default(g.store)[0].threshold
        plan = set_threshold(g, args.name, value, door)
    where = " at every door of the site" if plan.site_wide else ""
    text = f"{plan.name} is named only within {value:g}" if value is not None else f"{plan.name} follows the door's threshold"
    say(
        args,
        {"name": plan.name, "threshold": value, "door_threshold": door, "site": plan.site_wide},
        f"{text}{where} (the door's is {door:g})",
    )
    return 0


def _distance(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FaceGateError(f"a threshold is a distance such as 0.3, or 'door'; not {text!r}") from None


def _enroll_folder(args: argparse.Namespace) -> int:
    from core.tools.folder_enroll import enroll_folder

    started = time.perf_counter()
    with open_gallery(args, write=True) as g:
        result = enroll_folder(g, args.folder, on_progress=lambda i, n, f: progress_bar(i, n, Path(f).name, quiet=args.json))
    elapsed = time.perf_counter() - started
    if not args.json:
        sys.stderr.write("\n")
    out = {
        "people": result.enrolled,
        "samples": result.samples,
        "views": result.views,
        "images": result.images,
        "seconds": round(elapsed, 2),
        "images_per_second": round(result.images / elapsed, 2) if elapsed else None,
        "skipped": skipped_json(result.skipped),
        "advice": result.advice,
    }
    say(
        args,
        out,
        f"enrolled {len(result.enrolled)} people, {result.samples} samples from {result.images} "
        f"images in {elapsed:.1f} s ({result.views} of them the photos' faces as a door camera sees them)"
        + "".join(f"\n  skipped {reason}" for _, reason in result.skipped)
        + "".join(f"\n  {text}" for text in result.advice.values()),
    )
    return 0


def _backup_or_restore(args: argparse.Namespace) -> int:
    from core.gallery import backup

    db = args.db or default_db()
    if args.command == "backup":
        with backup.open_store(db) as store:
            info = backup.backup(store, args.file)
        verb = "backed up"
    else:
        info = backup.restore(args.file, db)
        verb = "restored"
    out = {
        "file": str(info.path),
        "people": info.people,
        "samples": info.samples,
        "events": info.events,
        "sha256": info.sha256,
        "kept": str(info.kept) if info.kept else None,
    }
    say(
        args,
        out,
        f"{verb} {info.people} people, {info.samples} samples, {info.events} log events "
        f"({args.file})" + (f"; the previous gallery is kept as {info.kept}" if info.kept else ""),
    )
    return 0
