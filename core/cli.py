"""`facegate <command>`: the core's verbs on the command line, with --json for scripts.

Every command takes --db PATH (default: the gallery in the user's data folder). Errors are
printed as one line naming what is wrong, with exit status 2; nothing is half-done.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from core.errors import DatabaseDamaged, FaceGateError, StoreError
from core.paths import default_db
from core import cli_door, cli_tools, logs

COMMANDS = ("enroll", "enroll-folder", "identify", "people", "remove", "backup", "restore") + cli_tools.COMMANDS + cli_door.COMMANDS


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, default=None, help="gallery database (default: gallery.db in the user's data folder, or in $FACEGATE_HOME)")
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    common.add_argument("--threshold", type=float, default=None, help="match threshold, Euclidean (default 0.4)")

    parser = argparse.ArgumentParser(prog="facegate", description="FaceGate face recognition, on the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("enroll", parents=[common], help="enroll a person from photos (one face each)")
    p.add_argument("name")
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--denied", action="store_true", help="known but not allowed through the door")
    p = sub.add_parser("enroll-folder", parents=[common],
                       help="enroll one person per subfolder (or files named person.anything)")
    p.add_argument("folder", type=Path)
    p = sub.add_parser("identify", parents=[common], help="name every face in a photo")
    p.add_argument("image", type=Path)
    p.add_argument("--top", type=int, default=3, help="candidates to list per face")
    sub.add_parser("people", parents=[common], help="list enrolled people")
    p = sub.add_parser("remove", parents=[common], help="delete a person and their samples")
    p.add_argument("name")
    p = sub.add_parser("backup", parents=[common], help="back up the whole gallery to one file")
    p.add_argument("file", type=Path)
    p = sub.add_parser("restore", parents=[common], help="replace the gallery with a verified backup")
    p.add_argument("file", type=Path)
    cli_tools.add_parsers(sub, common)
    cli_door.add_parsers(sub, common)
    return parser


def open_gallery(args, write: bool):
    """The gallery at --db; a read-only command falls back to read-only if another FaceGate writes."""
    from core.gallery import Gallery
    from core.match import DEFAULT_THRESHOLD

    db = args.db or default_db()
    threshold = args.threshold if args.threshold is not None else DEFAULT_THRESHOLD
    try:
        return Gallery(db, threshold=threshold)
    except StoreError as exc:  # locked by another FaceGate, or a read-only folder
        if write or not Path(db).exists() or isinstance(exc, DatabaseDamaged):
            raise
        return Gallery(db, threshold=threshold, readonly=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(Path(getattr(args, "db", None) or default_db()).parent)
    try:
        return _run(args)
    except FaceGateError as exc:
        logging.getLogger("facegate.cli").error("%s: %s", args.command, exc)
        if args.json:
            print(json.dumps({"error": str(exc)}))
        else:
            print(f"facegate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("facegate: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


def _run(args) -> int:
    if args.command == "enroll":
        with open_gallery(args, write=True) as g:
            result = g.enroll(args.name, [str(p) for p in args.images], allowed=not args.denied)
        out = {"name": result.person.name, "added": len(result.sample_ids), "samples": result.person.sample_count,
               "skipped": [{"file": f, "reason": r} for f, r in result.skipped]}
        _say(args, out, f"{out['name']}: {out['added']} sample(s) added, {out['samples']} in all"
             + "".join(f"\n  skipped {s['reason']}" for s in out["skipped"]))
        return 0
    if args.command == "enroll-folder":
        return _enroll_folder(args)
    if args.command == "identify":
        with open_gallery(args, write=False) as g:
            found = g.identify(str(args.image))
        rows = [{"box": list(face.box.as_tuple()), "name": m.name,
                 "distance": None if m.distance is None else round(m.distance, 4),
                 "margin": None if m.margin is None else round(m.margin, 4),
                 "candidates": [{"name": c.name, "distance": round(c.distance, 4)} for c in m.candidates[:args.top]],
                 "reason": m.reason} for face, m in found]
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
        rows = [{"name": p.name, "allowed": p.allowed, "samples": p.sample_count, "created": p.created} for p in people]
        _say(args, rows, "\n".join(f"{r['name']:<30} {r['samples']:>4} samples  {'allowed' if r['allowed'] else 'denied'}"
                                   for r in rows) or "no one is enrolled")
        return 0
    if args.command == "remove":
        with open_gallery(args, write=True) as g:
            n = g.remove(args.name)
        _say(args, {"removed": args.name, "samples": n}, f"removed {args.name} and {n} sample(s)")
        return 0
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args)
    if args.command in cli_tools.COMMANDS:
        return cli_tools.run(args, open_gallery)
    if args.command in cli_door.COMMANDS:
        return cli_door.run(args, open_gallery)
    raise AssertionError(args.command)


def _enroll_folder(args) -> int:
    from core.folder_enroll import enroll_folder

    started = time.perf_counter()
    with open_gallery(args, write=True) as g:
        result = enroll_folder(g, args.folder,
                               on_progress=lambda i, n, f: _progress_bar(i, n, Path(f).name, quiet=args.json))
    elapsed = time.perf_counter() - started
    if not args.json:
        sys.stderr.write("\n")
    out = {"people": result.enrolled, "samples": result.samples, "images": result.images,
           "seconds": round(elapsed, 2),
           "images_per_second": round(result.images / elapsed, 2) if elapsed else None,
           "skipped": [{"file": f, "reason": r} for f, r in result.skipped]}
    _say(args, out, f"enrolled {len(result.enrolled)} people, {result.samples} samples from {result.images} "
         f"images in {elapsed:.1f} s" + "".join(f"\n  skipped {s['reason']}" for s in out["skipped"]))
    return 0


def _backup_or_restore(args) -> int:
    from core import backup

    db = args.db or default_db()
    if args.command == "backup":
        with backup.open_store(db) as store:
            info = backup.backup(store, args.file)
        verb = "backed up"
    else:
        info = backup.restore(args.file, db)
        verb = "restored"
    out = {"file": str(info.path), "people": info.people, "samples": info.samples, "events": info.events,
           "sha256": info.sha256, "kept": str(info.kept) if info.kept else None}
    _say(args, out, f"{verb} {info.people} people, {info.samples} samples, {info.events} log events "
         f"({args.file})" + (f"; the previous gallery is kept as {info.kept}" if info.kept else ""))
    return 0


def _progress_bar(i: int, n: int, label: str, quiet: bool) -> None:
    if quiet or n == 0:
        return
    width = 30
    filled = int(width * i / n)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {i}/{n} {label[:30]:<30}")
    sys.stderr.flush()


def _say(args, data, text: str) -> None:
    print(json.dumps(data) if args.json else text)
