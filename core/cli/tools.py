"""The search, scan and evaluation verbs of ``facegate`` (core.cli.main routes them here)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.cli.common import open_gallery, progress_bar
from core.errors import FaceGateError
from core.paths import default_db
from core.vision.detection import DEFAULT_METHOD, METHODS

COMMANDS = ("search", "scan", "scan-search", "eval")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("search", parents=[common], help="each face of a photo beside its nearest enrolled samples")
    p.add_argument("image", type=Path)
    p.add_argument("--top", type=int, default=5, help="samples to list per face (default 5)")
    p.add_argument("--within", type=float, default=None, help="list every sample within this distance instead")
    p.add_argument("--save", type=Path, default=None, help="save the comparison as a PNG picture")
    p.add_argument(
        "--site",
        action="store_true",
        help="search the whole site (PostgreSQL + pgvector): every door's people, and where the face was seen",
    )
    p = sub.add_parser("scan", parents=[common], help="find and keep every face in a video file")
    p.add_argument("video", type=Path)
    p.add_argument("--every", type=int, default=5, help="look at every Nth frame (default 5)")
    p.add_argument(
        "--method",
        default=DEFAULT_METHOD,
        choices=METHODS,
        help=f"face detector (default {DEFAULT_METHOD}: finds faces from 40 px at a few ms a frame)",
    )
    p = sub.add_parser("scan-search", parents=[common], help="faces in scanned videos most like each face of a photo")
    p.add_argument("image", type=Path)
    p.add_argument("--top", type=int, default=10, help="distinct faces to list per face (default 10)")
    p.add_argument(
        "--fold", type=float, default=None, help="fold faces closer than this under their best representative (default 0.3)"
    )
    p.add_argument("--within", type=float, default=None, help="list only faces within this distance")
    p.add_argument(
        "--hide-poor",
        action="store_true",
        help="leave out faces kept from a poor view (small, blurred, turned: listed with a warning otherwise)",
    )
    p = sub.add_parser(
        "eval", parents=[common], help="precision@k, FAR and FRR on a folder of people (or, without DIR, on the gallery)"
    )
    p.add_argument(
        "folder",
        type=Path,
        nargs="?",
        default=None,
        help="one subfolder per person, or files named person.anything; omit to evaluate --db",
    )
    p.add_argument("--rounds", type=int, default=5, help="probe/gallery splits (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the splits (default 0)")
    p.add_argument("--probes", type=int, default=1, help="probes per person and round (default 1)")
    p.add_argument("--target-far", type=float, default=None, help="FAR the recommended threshold keeps to (0.01)")
    p.add_argument("--plot", type=Path, default=None, help="save the FAR/FRR plot as PNG")
    p.add_argument("--csv", type=Path, default=None, help="save the threshold table (FAR, GAR, FRR) as CSV")


def run(args: argparse.Namespace) -> int:
    """Run one of COMMANDS."""
    if args.command == "search":
        return _search(args)
    if args.command == "scan":
        return _scan(args)
    if args.command == "scan-search":
        return _scan_search(args)
    if args.command == "eval":
        return _eval(args)
    raise AssertionError(args.command)


def _search(args: argparse.Namespace) -> int:
    from core.tools.search import result_json, save_comparison, search_photo

    if args.site:
        return _search_site(args)

    with open_gallery(args, write=False) as g:
        result = search_photo(g, str(args.image), top=args.top, within=args.within)
    saved = save_comparison(result, args.save) if args.save else None
    if args.json:
        data = result_json(result)
        data["saved"] = str(saved) if saved else None
        print(json.dumps(data))
        return 0
    if not result.faces:
        print(f"{args.image}: no face found")
    for face in result.faces:
        print(f"face {face.box.as_tuple()}  ({face.search_ms:.2f} ms)" + (f"  WARNING: {face.warning}" if face.problems else ""))
        for h in face.hits:
            print(f"  {h.candidate.distance:.3f}  {h.candidate.name}  (sample {h.candidate.sample_id})")
        if not face.hits:
            print("  nothing within reach" if args.within is not None else "  the gallery is empty")
    print(f"searched in {result.seconds:.2f} s" + (f"; comparison saved to {saved}" if saved else ""))
    return 0


def _search_site(args: argparse.Namespace) -> int:
    from core.site.admin import SiteAdmin
    from core.site.config import SiteConfig, SiteError
    from core.site.search import search_json, search_site

    config = SiteConfig.load(args.db or default_db())
    if config is None:
        raise SiteError("this gallery does not belong to a site (facegate site init / join)")
    with open_gallery(args, write=False) as g:
        faces = g.faces(str(args.image))
    with SiteAdmin.from_config(config) as admin:
        found = [
            (face.box, search_site(admin.conn, face.descriptor, args.top, args.within))
            for face in faces
            if face.descriptor is not None
        ]
    if args.json:
        print(json.dumps({"faces": [{"box": list(box.as_tuple()), **search_json(f)} for box, f in found]}))
        return 0
    if not found:
        print(f"{args.image}: no face found")
    for box, f in found:
        print(f"face {box.as_tuple()}  (site searched in {f.search_ms:.1f} ms)")
        for h in f.hits:
            print(f"  {h.distance:.3f}  {h.person}  (sample {h.sample_id[:8]}, enrolled at {h.enrolled_at or '?'})")
        if not f.hits:
            print("  no enrolled sample" + (f" within {args.within}" if args.within is not None else ""))
        for s in f.sightings:
            print(f"  seen {s.time[:19]} at {s.door}: {s.name or 'unknown'} {s.verdict} ({s.distance:.3f})")
    return 0


def _scan(args: argparse.Namespace) -> int:
    from core.tools.scan import ScanLibrary, ScanSettings

    with open_gallery(args, write=True) as g:
        result = ScanLibrary(g).scan(
            args.video,
            ScanSettings(every=args.every, method=args.method),
            on_progress=lambda i, n, found: progress_bar(i, n, f"{found} faces", args.json),
        )
    if not args.json:
        sys.stderr.write("\n")
    out = {
        "video": str(args.video),
        "video_id": result.video_id,
        "frames": result.frames_read,
        "frames_scanned": result.frames_scanned,
        "faces": result.faces,
        "faces_seen": result.seen,
        "seconds": round(result.seconds, 2),
        "frames_per_second": round(result.frames_per_second, 2),
        "poor_faces": result.poor,
        "kept_poor": result.poor_faces,
    }
    print(
        json.dumps(out)
        if args.json
        else f"{args.video}: {result.faces} face(s) kept of {result.seen} seen in {result.frames_scanned} of "
        f"{result.frames_read} frames (each face's most frontal view per half second; {result.seconds:.1f} s, "
        f"{result.frames_per_second:.1f} scanned frames/s)"
        + (f"; {result.poor} views too small, blurred or turned away" if result.poor else "")
        + (f"; {result.poor_faces} of the faces kept from a poor view only (marked poor)" if result.poor_faces else "")
    )
    return 0


def _scan_search(args: argparse.Namespace) -> int:
    from core.tools.scan import DEFAULT_FOLD, ScanLibrary
    from core.tools.search import poor_warning

    fold = DEFAULT_FOLD if args.fold is None else args.fold
    with open_gallery(args, write=False) as g:
        found = ScanLibrary(g).similar_to_photo(
            str(args.image), top=args.top, fold_distance=fold, within=args.within, hide_poor=args.hide_poor
        )
    rows: list[dict[str, Any]] = [
        {
            "box": list(box.as_tuple()),
            "poor": problems,
            "warning": poor_warning(problems),
            "similar": [
                {
                    "face_id": h.face.id,
                    "video": h.face.video,
                    "frame": h.face.frame,
                    "time": round(h.face.time, 3),
                    "box": list(h.face.box.as_tuple()),
                    "distance": round(h.distance, 4),
                    "count": h.count,
                    "poor": h.face.poor,
                    "folded": [f.id for f in h.folded],
                }
                for h in hits
            ],
        }
        for box, hits, problems in found
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print(f"{args.image}: no face found")
    for row in rows:
        print(f"face {tuple(row['box'])}" + (f"  WARNING: {row['warning']}" if row["poor"] else ""))
        for h in row["similar"]:
            more = f"  (+{h['count'] - 1} similar)" if h["count"] > 1 else ""
            warn = f"  [poor view: {h['poor']}]" if h["poor"] else ""
            print(f"  {h['distance']:.3f}  {h['video']} frame {h['frame']} ({h['time']:.2f} s){more}{warn}")
        if not row["similar"]:
            print("  no scanned face (scan a video first)")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from core.gallery.match import DEFAULT_THRESHOLD
    from core.tools.evaluate import (
        DEFAULT_TARGET_FAR,
        describe_folder,
        evaluate,
        evaluate_gallery,
        report_json,
        report_text,
        save_table,
    )
    from core.tools.plots import save_plot
    from core.vision.describe import Describer
    from core.vision.detection import Detector

    target = DEFAULT_TARGET_FAR if args.target_far is None else args.target_far
    if args.folder is None:
        with open_gallery(args, write=False) as g:
            report = evaluate_gallery(g.store, target_far=target)
    else:
        photos = describe_folder(
            args.folder, Describer(), Detector(), on_progress=lambda i, n, f: progress_bar(i, n, Path(f).name, args.json)
        )
        if not args.json:
            sys.stderr.write(f"\n{len(photos.images)} photos described in {photos.seconds:.1f} s\n")
        report = evaluate(photos, rounds=args.rounds, seed=args.seed, probes_per_person=args.probes, target_far=target)
    current = args.threshold if args.threshold is not None else DEFAULT_THRESHOLD
    saved = save_plot(report, args.plot, current=current) if args.plot else None
    try:
        table = save_table(report, args.csv) if args.csv else None
    except OSError as exc:
        raise FaceGateError(f"{args.csv}: cannot be saved ({exc.strerror or exc})") from None
    if args.json:
        data = report_json(report)
        data["plot"] = str(saved) if saved else None
        if table:
            data["csv"] = str(table)
        print(json.dumps(data))
    else:
        print(
            report_text(report) + (f"\nplot saved to {saved}" if saved else "") + (f"\ntable saved to {table}" if table else "")
        )
    return 0
