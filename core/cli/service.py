"""`facegate service install|remove|status` and `facegate status`: the door PC's service.

    facegate service install --source 0      # start the kiosk with the desktop session, restart it
    facegate service install --dry-run       # print the unit it would write
    facegate service status [--json]         # what systemd says about it
    facegate service remove
    facegate status [--json]                 # the running app's health, from its heartbeat

`facegate status` reads the heartbeat the running app writes beside the gallery (no network
port) and exits 0 when healthy, 1 when running but unhealthy (stale heartbeat, stalled part,
no frames for --max-frame-age seconds, camera failing, worker or door failing), 3 when FaceGate
is not running.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from core.cli.common import open_gallery, say
from core.errors import StoreError
from core.gallery.admin import AdminLock
from core.paths import default_db
from core.service import heartbeat, unit

COMMANDS = ("service", "status")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("service", parents=[common], help="start the kiosk at login and restart it (systemd user service)")
    p.add_argument("action", choices=("install", "remove", "status"))
    p.add_argument("--source", default=None, help="the camera, URL or file the kiosk watches (default: the last one used)")
    p.add_argument("--screen", default=None, help="the screen the kiosk fills, by number or name (default: the primary)")
    p.add_argument("--dry-run", action="store_true", help="install: print the unit, change nothing")
    p = sub.add_parser("status", parents=[common], help="is the running FaceGate healthy? (exit 0 yes, 1 no, 3 not running)")
    p.add_argument(
        "--max-frame-age",
        type=float,
        default=heartbeat.MAX_FRAME_AGE,
        metavar="S",
        help=f"unhealthy when the last frame is older than this (default {heartbeat.MAX_FRAME_AGE:g} s)",
    )


def run(args: argparse.Namespace) -> int:
    if args.command == "status":
        return _status(args)
    if args.action == "install":
        return _install(args)
    if args.action == "remove":
        steps = unit.remove()
        say(args, [s.__dict__ for s in steps], "\n".join(_line(s) for s in steps))
        return 0
    info = unit.status()
    say(args, info, "\n".join(f"{k}: {v}" for k, v in info.items()))
    return 0 if info.get("ActiveState") == "active" else 3


def _install(args: argparse.Namespace) -> int:
    options = unit_options(args)
    if args.dry_run:
        say(args, {"unit": unit.service_unit(options)}, unit.service_unit(options).rstrip())
        return 0
    db = Path(args.db or default_db())
    if not db.exists():
        raise StoreError(
            f"no gallery at {db}: start FaceGate once, enroll people and choose the admin PIN, then install the service"
        )
    with open_gallery(args, write=False) as g:
        if not AdminLock(g.store).is_set():
            raise StoreError(
                "choose the admin PIN first (facegate admin-pin set, or start FaceGate once): "
                "without it anyone at the door could set it and leave the kiosk"
            )
    steps = unit.install(options)
    say(
        args,
        [s.__dict__ for s in steps],
        "\n".join(_line(s) for s in steps)
        + f"\nFaceGate starts in kiosk mode at the next login (reboot, or: systemctl --user start {unit.SERVICE}).",
    )
    return 0


def unit_options(args: argparse.Namespace) -> unit.UnitOptions:
    """The unit for these arguments: the same gallery, source and screen every time it starts."""
    command = [*unit.facegate_command(), "--kiosk"]
    if args.db:
        command += ["--db", str(Path(args.db).resolve())]
    if args.source:
        command += ["--source", args.source]
    if args.screen:
        command += ["--screen", args.screen]
    home = os.environ.get("FACEGATE_HOME")
    return unit.UnitOptions(command=command, environment={"FACEGATE_HOME": str(Path(home).resolve())} if home else {})


def _line(step: unit.Step) -> str:
    return f"{'ok' if step.ok else '!!'} {step.what}" + (f" ({step.detail})" if step.detail and not step.ok else "")


def _status(args: argparse.Namespace) -> int:
    path = heartbeat.heartbeat_path(args.db or default_db())
    beat = heartbeat.read(path)
    health = heartbeat.judge(beat, max_frame_age=args.max_frame_age)
    shut = [p for p in (_site_problem(Path(args.db or default_db())), _settings_problem(Path(args.db or default_db()))) if p]
    if shut:  # the door stays shut (fail secure): whatever else holds, that is unhealthy
        health = heartbeat.Health(heartbeat.UNHEALTHY, "unhealthy", [*health.problems, *shut], health.heartbeat_age_s)
    if args.json:
        print(
            json.dumps(
                {
                    "state": health.state,
                    "healthy": health.healthy,
                    "problems": health.problems,
                    "heartbeat_age_s": health.heartbeat_age_s,
                    "heartbeat_file": str(path),
                    "heartbeat": None if beat is None else beat.__dict__,
                }
            )
        )
    else:
        print(_describe(health, beat))
    return health.code


def _site_problem(db: Path) -> str | None:
    """Why this gallery's site configuration keeps the door shut (None: it has no site, or a good one)."""
    from core.gallery.store import Store
    from core.site.config import SiteError, site_of

    if not db.exists():
        return None
    store = Store(db, readonly=True)
    try:
        site_of(store)
    except SiteError as exc:
        return f"site: {exc}"
    finally:
        store.close()
    return None


def _settings_problem(db: Path) -> str | None:
    """Why this gallery's saved door settings keep the door shut (None: they do not)."""
    from core.gallery.store import Store
    from core.station.settings import damaged_door_settings

    if not db.exists():
        return None
    store = Store(db, readonly=True)
    try:
        shut = damaged_door_settings(store)
    finally:
        store.close()
    return None if shut is None else f"settings: the door stays shut: {shut}"


def _describe(health: heartbeat.Health, beat: heartbeat.Heartbeat | None) -> str:
    lines = [
        f"FaceGate: {health.state}"
        + (f" (pid {beat.pid}, up {_duration(beat.uptime_s)})" if beat and health.state in ("healthy", "unhealthy") else "")
    ]
    if beat is not None and health.state in ("healthy", "unhealthy"):
        frame = "no frame yet" if beat.last_frame_age_s is None else f"last frame {beat.last_frame_age_s:.1f} s before the beat"
        decision = (
            f"last decision {beat.last_decision} {beat.last_verdict} {beat.last_person or ''}".rstrip()
            if beat.last_decision
            else "no door decision yet"
        )
        lines += [
            f"  camera : {beat.camera} {beat.source} - {beat.fps:.1f} fps, {frame}",
            f"  worker : {'alive' if beat.worker_alive else 'not running'}, {beat.worker_restarts} restarts",
            f"  door   : {beat.door_state} ({beat.door_driver})" + (f" - {beat.door_error}" if beat.door_error else ""),
            f"  gallery: {beat.gallery_people} people; {decision}",
            f"  admin  : {beat.admin}; {beat.mode}",
        ]
    lines += [f"  problem: {p}" for p in health.problems]
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
