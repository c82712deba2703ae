"""The search, scan and evaluation verbs of ``facegate`` (core/cli.py routes them here).

Kept apart from cli.py so the shared command file only needs two small hooks.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COMMANDS = ("search",)


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("search", parents=[common], help="each face of a photo beside its nearest enrolled samples")
    p.add_argument("image", type=Path)
    p.add_argument("--top", type=int, default=5, help="samples to list per face (default 5)")
    p.add_argument("--within", type=float, default=None, help="list every sample within this distance instead")
    p.add_argument("--save", type=Path, default=None, help="save the comparison as a PNG picture")


def run(args, open_gallery) -> int:
    """Run one of COMMANDS; ``open_gallery(args, write)`` is cli.py's way to open --db."""
    if args.command == "search":
        return _search(args, open_gallery)
    raise AssertionError(args.command)


def _search(args, open_gallery) -> int:
    from core.search import result_json, save_comparison, search_photo

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
        print(f"face {face.box.as_tuple()}  ({face.search_ms:.2f} ms)")
        for h in face.hits:
            print(f"  {h.candidate.distance:.3f}  {h.candidate.name}  (sample {h.candidate.sample_id})")
        if not face.hits:
            print("  nothing within reach" if args.within is not None else "  the gallery is empty")
    print(f"searched in {result.seconds:.2f} s" + (f"; comparison saved to {saved}" if saved else ""))
    return 0
