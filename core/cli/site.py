"""`facegate site ...`: make this PC a door of a site, sync it, see how it stands, leave.

    facegate site init postgresql://postgres@db.example/facegate --door front --password-file pw --admin
    facegate site init URL --door front --password-file pw --admin-password-out admin.pw   # a door PC
    facegate site join postgresql://facegate_admin@db.example/facegate --door back --password-file pw
    facegate site sync [--json] [--watch]   # once: what moved; --watch: for good (a door with no window)
    facegate site status [--json]        # online/offline, cursor, outbox, copy age
    facegate site leave
    facegate site backup FILE URL --password-file pw        # the whole site, with the superuser's URL
    facegate site restore FILE URL --password-file pw       # into a new, empty database
    facegate site upgrade URL --password-file pw            # the site's schema to this version's (superuser)
    facegate site move URL                                  # this door follows its site to a new address
    facegate site standby init DATA PRIMARY_URL HOST:PORT --password-file pw [--sync]   # on the standby's machine
    facegate site standby status [--json]                   # which server is primary, each standby's lag
    facegate site standby promote STANDBY_URL --password-file pw   # the primary died: the standby takes over
    facegate site people / groups / doors / duplicates / proposals [--json]   # admin PCs only
    facegate site approve|reject ID                         # what a door proposed (admin PCs only)
    facegate site group add|remove NAME                     # the admin's verbs (admin PCs only)
    facegate site group open|close GROUP DOOR               # which groups may open which door
    facegate site member add|remove GROUP PERSON
    facegate site person rename OLD NEW / person remove|allow|block NAME
    facegate site merge KEEP DROP                           # a flagged duplicate into the person kept
    facegate site door remove NAME / door enrolls DOOR GROUP|none
    facegate site snapshots on|off                          # the site's privacy setting
    facegate site pass set NAME UNTIL / pass clear NAME / pass purge DAYS   # visitor passes (admin only)
    facegate site passback reset NAME                       # anti-passback: they left by a door without a reader
    facegate site access-log --verify [DOOR]                # walk each door's hash chain at the site (exit 1: broken)

Passwords never go on the command line: --password-file (mode 600), or libpq's ~/.pgpass.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.cli.common import open_gallery, say
from core.errors import FaceGateError
from core.paths import default_db
from core.site.verbs import VERBS, grammar, say_done

if TYPE_CHECKING:
    from core.site.config import SiteConfig
    from core.site.sync import SyncReport

COMMANDS = ("site",)
LISTS = ("people", "groups", "doors", "duplicates", "proposals")


NOUNS = tuple(dict.fromkeys(noun for noun, _ in VERBS))
ACTIONS = (
    "init",
    "join",
    "sync",
    "status",
    "leave",
    "backup",
    "restore",
    "upgrade",
    "move",
    "standby",
    "access-log",
    *LISTS,
    *NOUNS,
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("site", parents=[common], help="share one gallery between many doors (PostgreSQL + pgvector)")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument(
        "words",
        nargs="*",
        metavar="ARG",
        help="init/join: the URL postgresql://USER@HOST:PORT/DB[?sslmode=verify-full&sslrootcert=ca.pem]"
        " (no password in it); the admin's verbs: e.g. group open GROUP DOOR (see the README)",
    )
    p.add_argument("--door", default=None, help="this door's name at the site (default: this PC's name)")
    p.add_argument(
        "--password-file",
        type=Path,
        default=None,
        help="a file only you can read (mode 600) holding the password of the URL's user; without it libpq's ~/.pgpass is used",
    )
    p.add_argument(
        "--admin",
        action="store_true",
        help="init/join: keep the site's admin login on this PC (an admin PC); without it a PC holds only its door's login",
    )
    p.add_argument(
        "--admin-password-out",
        type=Path,
        default=None,
        help="init without --admin: write the new admin password to this new file (mode 600), to take to the admin PC",
    )
    p.add_argument(
        "--sync",
        action="store_true",
        help="standby init: synchronous replication (a commit waits for the standby: nothing is lost "
        "in a failover, and commits wait while the standby is down)",
    )
    p.add_argument("--watch", action="store_true", help="sync: keep this door in sync until stopped (Ctrl-C), as the window does")
    p.add_argument(
        "--verify",
        action="store_true",
        help="access-log: walk each door's hash chain as the site holds it (admin PCs only; exit status 1 when one is broken)",
    )


def run(args: argparse.Namespace) -> int:
    from core.site.config import SiteConfig, SiteError

    db = args.db or default_db()
    try:
        if args.action in ("init", "join"):
            return _init_or_join(args, db)
        if args.action == "leave":  # also when the site file is damaged: leaving is how to mend that
            return _leave(args, db)
        if args.action in ("backup", "restore"):
            return _backup_or_restore(args)
        if args.action == "upgrade":
            return _upgrade(args)
        if args.action == "standby" and args.words[:1] != ["status"]:
            return _standby(args)
        config = SiteConfig.load(db)
        if args.action == "status":
            return _status(args, db, config)
        if config is None:
            raise SiteError(f"{db} does not belong to a site (facegate site init URL, or site join URL --door NAME)")
        if args.action == "sync":
            return _sync(args, config)
        if args.action == "status":
            return _status(args, db, config)
        if args.action == "move":
            return _move(args, db, config)
        if args.action == "standby":
            return _standby_status(args, config)
        if args.action in LISTS:
            return _admin(args, config)
        if args.action == "access-log":
            return _verify_access_logs(args, config)
        return _verb(args, config)
    except FaceGateError:
        raise
    except Exception as exc:  # the driver's own errors (a dropped connection mid-command)
        import psycopg

        if isinstance(exc, psycopg.Error):
            from core.site.config import first_line

            raise SiteError(f"the site refused or stopped answering: {first_line(exc)}") from None
        raise


def write_secret(path: Path, secret: str) -> None:
    """A new file holding ``secret``, mode 600 from the start."""
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")


def _password(args: argparse.Namespace) -> str | None:
    from core.site.config import read_password_file

    return read_password_file(args.password_file) if args.password_file else None


def _init_or_join(args: argparse.Namespace, db: str | Path) -> int:
    from core.site.admin import init_site, join_site
    from core.site.config import SiteError, redact
    from core.site.sync import sync_once

    if len(args.words) != 1:
        raise SiteError(f"site {args.action} needs the site's URL (only), e.g. postgresql://USER@HOST/DB")
    args.url = args.words[0]
    door = args.door or socket.gethostname()
    password = _password(args)
    if args.action == "init" and not args.admin and args.admin_password_out is None:
        raise SiteError(
            "the new site's admin password must go somewhere: keep it on this PC with --admin (an admin "
            "PC), or write it to a new file with --admin-password-out FILE and take that to the admin PC"
        )
    if args.admin_password_out is not None and args.admin_password_out.exists():
        raise SiteError(f"{args.admin_password_out} exists already: name a new file for the admin password")
    with open_gallery(args, write=True) as g:
        if args.action == "init":
            joined = init_site(db, g.store, args.url, password, door, keep_admin=args.admin)
            if args.admin_password_out is not None and joined.admin is not None:
                write_secret(args.admin_password_out, joined.admin.password)
        else:
            joined = join_site(db, g.store, args.url, password, door, keep_admin=args.admin)
        report = sync_once(g, joined.config)
    out = {
        "door": door,
        "door_id": joined.config.door_id,
        "site": redact(args.url),
        "config": str(joined.path),
        "queued": joined.queued,
        "admin_login_kept": joined.config.admin_login is not None,
        "sync": _report_json(report),
    }
    text = (
        f"{'started the site' if args.action == 'init' else 'joined the site'} {out['site']} as door {door!r}; "
        f"logins kept in {joined.path} (mode 600)\n{report.text()}"
    )
    if args.action == "init" and args.admin:
        text += "\nthe admin login is facegate_admin; its password is in that file (give it to other admin PCs in a 600 file)"
    elif args.action == "init":
        text += (
            f"\nthe admin login is facegate_admin; its password is only in {args.admin_password_out} (mode 600): "
            "take it to the admin PC (facegate site join URL --admin --password-file FILE) and delete it here"
        )
    if args.action == "join":
        text += (
            f"\npeople enrolled here join the group 'enrolled at {door}' and are proposals until an admin approves "
            f"them; to let other groups through this door: facegate site group open GROUP {door!r} (admin PC)"
        )
    say(args, out, text)
    return 0


def _report_json(report: SyncReport) -> dict:
    return {
        "pushed_people": report.pushed_people,
        "pushed_samples": report.pushed_samples,
        "pushed_events": report.pushed_events,
        "pulled_people": report.pulled_people,
        "removed_people": report.removed_people,
        "added_samples": report.added_samples,
        "removed_samples": report.removed_samples,
        "cursor": report.cursor,
        "seconds": round(report.seconds, 3),
        "notes": report.notes,
    }


def _sync(args: argparse.Namespace, config: SiteConfig) -> int:
    from core.site.sync import sync_once

    if args.watch:
        return _watch(args, config)
    with open_gallery(args, write=True) as g:
        report = sync_once(g, config)
    say(args, _report_json(report), report.text())
    return 0


def _watch(args: argparse.Namespace, config: SiteConfig) -> int:
    """Keep a door with no window in sync (the same SiteSync thread the window runs), printing
    each round that moved something and every change of online/offline, until Ctrl-C or SIGTERM."""
    import signal
    import threading

    from core.site.sync import SiteSync

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with open_gallery(args, write=True) as g:
        syncer = SiteSync(g, config, on_change=lambda report: say(args, _report_json(report), report.text()))
        syncer.start()
        online = None
        try:
            while not stop.wait(0.5):
                status = syncer.status()
                if status.online != online:
                    online = status.online
                    say(
                        args,
                        {"online": online, "error": status.error},
                        f"site {'online' if online else 'OFFLINE'}" + (f": {status.error}" if status.error else ""),
                    )
                    sys.stdout.flush()
        finally:
            syncer.stop()
    return 0


def _status(args: argparse.Namespace, db: str | Path, config: SiteConfig | None) -> int:
    from core.site.config import SiteError, SiteSettings, one_row, redact
    from core.site.local import LocalSite
    from core.site.search import search_memory
    from core.site.sync import age_text, copy_age, open_door_connection

    if config is None:
        say(args, {"site": None}, f"{db} does not belong to a site")
        return 0
    with open_gallery(args, write=False) as g:
        local = LocalSite(g.store)
        cursor, outbox, heard = local.cursor(), local.outbox_size(), local.heard()
        settings = SiteSettings.load(g.store)
    online, why, behind, server, memory = False, None, None, None, None
    try:
        with open_door_connection(config) as conn:
            online, server = True, f"{conn.info.host}:{conn.info.port}"
            behind = one_row(conn, "SELECT count(*) FROM facegate.changes WHERE seq > %s", (cursor,))[0]
            memory = search_memory(conn)
    except SiteError as exc:
        why = str(exc)
    age = copy_age(heard)
    out = {
        "site": redact(config.url),
        "server": server,
        "door": config.door,
        "online": online,
        "error": why,
        "cursor": cursor,
        "behind": behind,
        "outbox": outbox,
        "heard": heard,
        "copy_age_seconds": None if age is None else round(age, 1),
        "offline_policy": settings.offline_policy,
        "offline_after_hours": settings.offline_after_hours,
        "search_index_bytes": None if memory is None else memory.index_bytes,
        "shared_buffers_bytes": None if memory is None else memory.buffers_bytes,
        "search_memory_advice": None if memory is None else memory.advice(),
    }
    text = (
        f"door {config.door!r} of {out['site']}: "
        + (f"online, primary {server}" if online else "OFFLINE")
        + (f" ({why})" if why else "")
        + f"\ncursor {cursor}"
        + (f", {behind} people to pull" if behind else "")
        + f"; outbox {outbox}\ncopy age: {age_text(age)}; offline policy: {settings.offline_policy} after "
        f"{settings.offline_after_hours:g} h" + (f"\n{out['search_memory_advice']}" if out["search_memory_advice"] else "")
    )
    say(args, out, text)
    return 0


def _backup_or_restore(args: argparse.Namespace) -> int:
    from core.site.backup import backup_site, restore_site
    from core.site.config import SiteError, redact

    if len(args.words) != 2:
        raise SiteError(
            f"usage: facegate site {args.action} FILE URL (the server's superuser, "
            "postgresql://postgres@HOST/DB; its password in --password-file)"
        )
    file, url = Path(args.words[0]), args.words[1]
    if args.action == "backup":
        done = backup_site(url, _password(args), file)
        text = (
            f"backed up the site at {redact(url)} to {file} (mode 600: it holds every login's verifier): "
            f"{done.counts['people']} people, {done.counts['samples']} samples, {done.counts['events']} events, "
            f"{done.roles} logins"
        )
    else:
        done = restore_site(file, url, _password(args))
        text = (
            f"restored the site into {redact(url)}: {done.counts['people']} people, {done.counts['samples']} samples, "
            f"{done.counts['events']} events, {done.roles} logins; point each door at it with "
            f"facegate site move {url}"
        )
    say(args, {"file": str(file), "counts": done.counts, "roles": done.roles, "sha256": done.sha256}, text)
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    """The site's schema brought up to this version's (after installing a new FaceGate on the admin
    PC, before the doors: a newer door may push to tables an older schema lacks)."""
    from core.site.admin import upgrade_site
    from core.site.config import SiteError, redact

    if len(args.words) != 1:
        raise SiteError("usage: facegate site upgrade URL (the server's superuser; its password in --password-file)")
    ran = upgrade_site(args.words[0], _password(args))
    text = f"upgraded the site at {redact(args.words[0])}: " + (", ".join(ran) if ran else "it was up to date")
    say(args, {"migrations": ran}, text)
    return 0


def _move(args: argparse.Namespace, db: str | Path, config: SiteConfig) -> int:
    """This door's site now lives at another address (a restore, a new server): same logins, same cursor."""
    from core.site.config import SiteError, check_url, redact
    from core.site.local import LocalSite
    from core.site.sync import hello, open_door_connection

    if len(args.words) != 1:
        raise SiteError("usage: facegate site move URL (the site's new address; the same database name and logins)")
    check_url(args.words[0])
    moved = type(config)(args.words[0], config.door, config.door_id, config.door_login, config.admin_login)
    with open_gallery(args, write=True) as g, open_door_connection(moved) as conn:
        LocalSite(g.store).note_timeline(0)  # a new server starts its own timelines
        hello(conn, g)  # the server there knows this door's login and id: only then is the file changed
    moved.save(db)
    say(args, {"site": redact(moved.url)}, f"door {config.door!r} now follows its site at {redact(moved.url)}")
    return 0


def _standby(args: argparse.Namespace) -> int:
    """``standby init DATA PRIMARY_URL HOST:PORT`` (on the standby's machine) or ``standby promote URL``."""
    from core.site.config import SiteError, connect, redact, server_addresses
    from core.site.standby import make_standby, promote

    words = list(args.words)
    verb = words.pop(0) if words else ""
    if verb == "init" and len(words) == 3:
        data, primary, address = Path(words[0]), words[1], words[2]
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise SiteError(f"{address!r}: say the standby's address as doors reach it, HOST:PORT")
        password = _password(args)
        make_standby(primary, password, data, int(port), synchronous=args.sync)
        with connect(primary, password=password) as conn, conn.transaction():
            servers = [*server_addresses(primary), address]
            conn.execute("UPDATE facegate.site_settings SET value = %s WHERE key = 'servers'", (",".join(servers),))
        say(
            args,
            {"standby": address, "servers": servers, "synchronous": args.sync},
            f"the standby at {address} streams from {redact(primary)} ({'synchronous' if args.sync else 'asynchronous'});"
            f" doors learn both addresses at their next sync",
        )
        return 0
    if verb == "promote" and len(words) == 1:
        timeline = promote(words[0], _password(args))
        say(
            args,
            {"promoted": redact(words[0]), "timeline": timeline},
            f"{redact(words[0])} is the site's primary now (timeline {timeline}); doors reconnect to it within a "
            "second or two, and refuse the old primary if it comes back (rebuild it as a standby)",
        )
        return 0
    raise SiteError("usage: facegate site standby init DATA PRIMARY_URL HOST:PORT | standby status | standby promote STANDBY_URL")


def _standby_status(args: argparse.Namespace, config: SiteConfig) -> int:
    from core.site.standby import servers_status

    states = servers_status(config.url, login=config.admin_login or config.door_login)
    say(args, [vars(s) for s in states], "\n".join(s.text() for s in states))
    return 0


def _leave(args: argparse.Namespace, db: str | Path) -> int:
    from core.site.admin import leave_site

    with open_gallery(args, write=True) as g:
        left = leave_site(db, g.store)
    text = f"door {left.door!r} left the site; this gallery works on its own now" if left.door else "no site to leave"
    say(args, {"left": left.door, "note": left.note}, text + (f"\n{left.note}" if left.note else ""))
    return 0


def _admin(args: argparse.Namespace, config: SiteConfig) -> int:
    from core.site.admin import SiteAdmin

    with SiteAdmin.from_config(config) as admin:
        if args.action == "proposals":
            proposals = admin.proposals()
            say(
                args,
                [p.as_json() for p in proposals],
                "\n".join(p.text() for p in proposals) or "nothing proposed: every door's enrollments are decided",
            )
            return 0
        rows = {"people": admin.people, "groups": admin.groups, "doors": admin.doors, "duplicates": admin.duplicates}[
            args.action
        ]()
    if args.json:
        print(json.dumps(rows))
    elif args.action == "people":
        print(
            "\n".join(
                f"{r['name']:<24} {r['samples']:>3} samples"
                + (f" ({r['views']} photo views)" if r["views"] else "")
                + f"  {'' if r['allowed'] else 'BLOCKED  '}enrolled at {r['enrolled_at'] or '-'}"
                + (f"  own threshold {r['threshold']:g}" if r["threshold"] is not None else "")
                for r in rows
            )
        )
    elif args.action == "groups":
        print("\n".join(f"{r['name']:<20} {r['people']:>6} people  doors: {', '.join(r['doors']) or '-'}" for r in rows))
    elif args.action == "doors":
        print(
            "\n".join(
                f"{r['name']:<20} {'active' if r['active'] else 'removed':<8} last seen {r['last_seen'] or 'never'}"
                f"  {r['events']} events"
                for r in rows
            )
        )
    else:
        print("\n".join(f"{r['a']} ~ {r['b']}  {r['distance']:.3f}" for r in rows) or "no likely duplicates")
    return 0


def _verify_access_logs(args: argparse.Namespace, config: SiteConfig) -> int:
    from core.site.admin import SiteAdmin
    from core.site.config import SiteError

    if not args.verify or len(args.words) > 1:
        raise SiteError("usage: facegate site access-log --verify [DOOR]")
    with SiteAdmin.from_config(config) as admin:
        reports = admin.verify_access_logs(args.words[0] if args.words else None)
    say(
        args,
        {door: {"ok": r.ok, "rows": r.rows, "bad": r.bad, "problem": r.problem} for door, r in reports.items()},
        "\n".join(f"{door}: {r.text()}" for door, r in reports.items()) or "the site has no doors",
    )
    return 0 if all(r.ok for r in reports.values()) else 1


def _verb(args: argparse.Namespace, config: SiteConfig) -> int:
    """One admin verb (``site NOUN VERB ARG...``): a wrong word or count gets the grammar back,
    an unknown name the site's own answer, a login without the admin's rights a refusal."""
    from core.site.admin import SiteAdmin
    from core.site.config import SiteError

    words = list(args.words)
    key = (args.action, "") if (args.action, "") in VERBS else (args.action, words.pop(0).lower() if words else "")
    verb = VERBS.get(key)
    if verb is None:
        choices = " | ".join(grammar(k, v) for k, v in VERBS.items() if k[0] == args.action)
        raise SiteError(f"site {args.action}: say one of: {choices}")
    if len(words) != len(verb.words):
        raise SiteError(f"usage: facegate {grammar(key, verb)}")
    import psycopg

    with SiteAdmin.from_config(config) as admin:
        try:
            result = verb.call(admin, *words)
        except psycopg.errors.InsufficientPrivilege:
            raise SiteError(
                f"the site refused: {config.admin_login.role if config.admin_login else 'this login'!r} may not change people, groups or doors "
                "(use the site's admin login)"
            ) from None
    text = say_done(verb, words, result)
    say(
        args,
        {
            "verb": " ".join(w for w in key if w),
            "args": words,
            "changed": result is not False,
            "result": result if isinstance(result, int) and not isinstance(result, bool) else None,
            "said": text,
        },
        text,
    )
    return 0
