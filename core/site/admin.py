"""Starting a site, joining it, leaving it, and the admin's verbs over the central gallery.

    >>> init_site("gallery.db", "postgresql://postgres@db.example/facegate", password, door="front")
    >>> join_site("back.db", "postgresql://facegate_admin@db.example/facegate", admin_password, door="back")
    >>> admin = SiteAdmin.from_config(SiteConfig.load("gallery.db"))
    >>> admin.add_to_group("IT", person="Ada"); admin.open_door("IT", "server room")

The admin verbs run as ``facegate_admin``: PostgreSQL refuses them to a door's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from core.gallery.chain import ChainReport, ChainRow, verify
from core.gallery.store import PHOTO_VIEW, Store
from core.site import schema
from core.site.config import Login, SiteConfig, SiteError, connect, first_line, new_password, one_row, scram_verifier
from core.site.local import LocalSite
from core.site.proposals import Proposal, approve_from_door, decide, list_proposals

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass
class Joined:
    config: SiteConfig
    path: Path
    queued: int  # local items queued for the site (an existing gallery's people and log)
    migrations: list[str]
    admin: Login | None = None  # site init: the admin login made, whether kept on this PC or not


def _add_door(conn: psycopg.Connection, door: str) -> tuple[str, Login]:
    password = new_password()
    try:
        with conn.transaction():
            door_id, role = one_row(
                conn, "SELECT door_id::text, role FROM facegate.add_door(%s, %s)", (door, scram_verifier(password))
            )
    except psycopg.errors.UniqueViolation:
        raise SiteError(
            f"the site already has a door called {door!r}; pick another name, "
            "or remove that door first (facegate site leave there, or the Site page)"
        ) from None
    except psycopg.errors.InsufficientPrivilege:
        raise SiteError("this login may not add doors: join with the site's admin login (facegate_admin)") from None
    return door_id, Login(role, password)


def init_site(db: str | Path, store: Store, url: str, password: str | None, door: str, keep_admin: bool = False) -> Joined:
    """Make the database at ``url`` a FaceGate site (schema, roles) with this PC as its first
    door; ``url`` names a superuser (or an owner with CREATEROLE who may create extensions).
    The first door's enrollments join the group "everyone", which opens it. The admin login is
    kept on this PC only with ``keep_admin`` (an admin PC); otherwise it is in ``Joined.admin``
    for the caller to hand over, and never written here."""
    if SiteConfig.load(db) is not None:
        raise SiteError(f"{db} already belongs to a site; leave it first (facegate site leave)")
    with connect(url, password=password) as conn:
        if schema.version(conn) and one_row(conn, "SELECT count(*) FROM facegate.doors")[0]:
            raise SiteError("that database is already a FaceGate site: join it instead (facegate site join URL --door NAME)")
        require_extension(conn, "vector")
        try:
            ran = schema.migrate(conn)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise SiteError(
                f"this login cannot set up a site ({first_line(exc)}): use a superuser "
                "(the vector extension and the roles need one)"
            ) from None
        admin = Login(schema.ADMIN_ROLE, new_password())
        with conn.transaction():
            conn.execute(
                sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(admin.role), sql.Literal(scram_verifier(admin.password))
                )
            )
    with connect(url, admin) as conn:
        door_id, door_login = _add_door(conn, door)
        site = SiteAdmin(conn)
        site.set_enroll_group(door, schema.DEFAULT_GROUP)
        site.open_door(schema.DEFAULT_GROUP, door)
        site.delete_group(f"enrolled at {door}")  # the first door's own group is "everyone"
    config = SiteConfig(url, door, door_id, door_login, admin if keep_admin else None)
    joined = _joined(db, store, config, ran)
    joined.admin = admin
    return joined


def upgrade_site(url: str, password: str | None) -> list[str]:
    """Bring an existing site's schema up to this version's (the migrations it lacks, each once,
    in one transaction: core.site.schema); ``url`` names a superuser. The names of those run."""
    with connect(url, password=password) as conn:
        if not schema.version(conn):
            raise SiteError("that database is not a FaceGate site yet: start one with facegate site init URL")
        try:
            return schema.migrate(conn)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise SiteError(f"this login cannot upgrade the site ({first_line(exc)}): use the server's superuser") from None


def require_extension(conn: psycopg.Connection, name: str) -> None:
    """Refuse, in words, a server that lacks a PostgreSQL extension the site needs (before any
    migration runs, so nothing is half made)."""
    row = conn.execute("SELECT installed_version IS NOT NULL FROM pg_available_extensions WHERE name = %s", (name,)).fetchone()
    if row is None:
        raise SiteError(
            f"the server has no {name!r} extension (pgvector): install it on the database server "
            "(Debian/Ubuntu: apt install postgresql-16-pgvector, matching the server's version; "
            "or use the pgvector/pgvector container image), then run this again"
        )


def join_site(db: str | Path, store: Store, url: str, password: str | None, door: str, keep_admin: bool = False) -> Joined:
    """Make this PC a new door of the site at ``url`` (the URL names the admin login; its
    password comes from ``password`` or libpq's ~/.pgpass). Only the door's own login is kept,
    unless ``keep_admin`` (an admin PC)."""
    if SiteConfig.load(db) is not None:
        raise SiteError(f"{db} already belongs to a site; leave it first (facegate site leave)")
    with connect(url, password=password) as conn:
        if not schema.version(conn):
            raise SiteError("that database is not a FaceGate site yet: start one with facegate site init URL")
        door_id, door_login = _add_door(conn, door)
        user = conn.info.user
    admin = Login(user, password) if keep_admin and password else None
    return _joined(db, store, SiteConfig(url, door, door_id, door_login, admin), [])


def _joined(db: str | Path, store: Store, config: SiteConfig, ran: list[str]) -> Joined:
    path = config.save(db)
    queued = LocalSite(store).join(config.door_id)
    return Joined(config, path, queued, ran)


@dataclass
class Left:
    """What ``site leave`` did: the door it was (None: the gallery had no site) and what the
    operator must still see to (a door the site still knows, when its file could not be read)."""

    door: str | None
    note: str | None = None


def leave_site(db: str | Path, store: Store) -> Left:
    """Stop being a door: forget the site's logins and bookkeeping; the local gallery stays and
    works alone. With the admin login at hand the door's role is removed at the site too. A
    damaged or missing site file does not stop this (leaving is how such a door is mended)."""
    local = LocalSite(store)
    damaged: str | None = None
    try:
        config = SiteConfig.load(db)
    except SiteError as exc:
        config, damaged = None, str(exc)
    door_id = local.door_id()
    if config is None and door_id is None:
        if damaged is None:
            return Left(None)
        SiteConfig.remove(db)
        return Left(None, f"removed a site file this gallery did not use ({damaged})")
    note = None
    if config is not None and config.admin_login is not None:
        try:
            SiteAdmin.from_config(config).remove_door(config.door)
        except SiteError:
            note = "the site was out of reach: remove this door there later (facegate site door remove NAME)"
    elif config is None:
        note = (
            f"the site file could not be read ({damaged or 'missing'}): on an admin PC remove this door's login "
            f"(facegate site door remove NAME; its id is {door_id})"
        )
    local.leave()
    SiteConfig.remove(db)
    return Left(config.door if config else door_id, note)


class SiteAdmin:
    """The admin's verbs on the central gallery (a connection as facegate_admin, autocommit:
    each verb is its own transaction)."""

    def __init__(self, conn: psycopg.Connection, who: str = schema.ADMIN_ROLE) -> None:
        self.conn = conn
        self.who = who  # recorded with each decision: the admin login and the PC it was used on

    @classmethod
    def from_config(cls, config: SiteConfig) -> SiteAdmin:
        if config.admin_login is None:
            raise SiteError("this PC holds only its door's login; use an admin PC (facegate site init, or join with --admin)")
        conn = connect(config.url, config.admin_login, application="facegate admin")
        if not one_row(conn, "SELECT pg_has_role(current_user, %s, 'USAGE')", (schema.ADMIN_ROLE,))[0]:
            conn.close()  # a door's login in the admin's place: refuse before any verb, not halfway through one
            raise SiteError(
                f"the login {config.admin_login.role!r} is not the site's admin ({schema.ADMIN_ROLE}): "
                "it may not change people, groups or doors"
            )
        return cls(conn, f"{config.admin_login.role} at {config.door}")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SiteAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _do(self, query: str, params: Sequence[object] = ()) -> int:
        with self.conn.transaction():
            return self.conn.execute(query, params).rowcount

    def _person(self, name: str) -> str:
        row = self.conn.execute("SELECT id::text FROM facegate.people WHERE lower(name) = lower(%s)", (name,)).fetchone()
        if row is None:
            raise SiteError(f"the site has no person called {name!r}")
        return row[0]

    def _id(self, table: str, name: str) -> str:
        row = self.conn.execute(
            sql.SQL("SELECT id::text FROM facegate.{} WHERE lower(name) = lower(%s)").format(sql.Identifier(table)), (name,)
        ).fetchone()
        if row is None:
            raise SiteError(f"the site has no {table[:-1].replace('access_', '')} called {name!r}")
        return row[0]

    # -- people ---------------------------------------------------------------------------------
    def people(self) -> list[dict]:
        """Each person: their samples, and of those how many are a photo's camera views (``views``,
        core.gallery.photo_views: counted apart as the People page and ``facegate people`` do)."""
        rows = self.conn.execute(
            "SELECT p.id::text, p.name, p.allowed, count(s.id), d.name, p.threshold, count(s.id) FILTER (WHERE s.how = %s) "
            "FROM facegate.people p LEFT JOIN facegate.samples s ON s.person_id = p.id "
            "LEFT JOIN facegate.doors d ON d.id = p.enrolled_by GROUP BY p.id, d.name ORDER BY lower(p.name)",
            (PHOTO_VIEW,),
        ).fetchall()
        return [
            {
                "id": r[0],
                "name": r[1],
                "allowed": r[2],
                "samples": r[3],
                "views": r[6],
                "enrolled_at": r[4],
                "threshold": _rounded(r[5]),
            }
            for r in rows
        ]

    def rename(self, name: str, new_name: str) -> None:
        try:
            self._do("UPDATE facegate.people SET name = %s WHERE id = %s", (new_name, self._person(name)))
        except psycopg.errors.UniqueViolation:
            raise SiteError(f"the site already has a person called {new_name!r}") from None

    def set_allowed(self, name: str, allowed: bool) -> None:
        self._do("UPDATE facegate.people SET allowed = %s WHERE id = %s", (allowed, self._person(name)))

    def delete(self, name: str) -> None:
        """Delete a person everywhere: every online door drops them within a second or two, an
        offline door when it next syncs (its offline policy applies meanwhile)."""
        self._do("DELETE FROM facegate.people WHERE id = %s", (self._person(name),))

    def delete_id(self, person_id: str) -> bool:
        """Delete the person with this site id everywhere (False: the site had no such person)."""
        return bool(self._do("DELETE FROM facegate.people WHERE id = %s", (person_id,)))

    def delete_samples_id(self, sample_ids: Sequence[str]) -> int:
        """Delete samples everywhere, each with its photo's camera views as the site has them
        (core.gallery.photo_views: marked 'photo view', named after the photo), whichever door
        enrolled them: every door drops them at its next pull of that person. How many went."""
        return self._do(
            "DELETE FROM facegate.samples v USING facegate.samples p WHERE p.id = ANY(%s::uuid[]) AND (v.id = p.id OR "
            "(v.person_id = p.person_id AND v.how = %s AND starts_with(v.source, p.source || ' (seen at ')))",
            (list(sample_ids), PHOTO_VIEW),
        )

    def set_access_id(self, person_id: str, access: str, pin: str | None, duress_pin: str | None) -> bool:
        """How the person with this site id opens every door, with their PIN and duress PIN hash
        records (core.gallery.secret, made on this PC; None: none). False: no such person."""
        return bool(
            self._do(
                "UPDATE facegate.people SET access = %s, pin = %s, duress_pin = %s WHERE id = %s",
                (access, pin, duress_pin, person_id),
            )
        )

    def set_allowed_id(self, person_id: str, allowed: bool) -> bool:
        """Allow or block the person with this site id at every door (False: no such person)."""
        return bool(self._do("UPDATE facegate.people SET allowed = %s WHERE id = %s", (allowed, person_id)))

    def set_cards_id(self, cards: Sequence[tuple[str, str | None]]) -> None:
        """Credential numbers by site id (None clears one), in one transaction: every door
        follows; a number another person holds is refused and nothing changes."""
        try:
            with self.conn.transaction():
                ids = [person_id for person_id, _ in cards]
                self.conn.execute("UPDATE facegate.people SET card = NULL WHERE id = ANY(%s::uuid[])", (ids,))
                for person_id, card in cards:
                    if card is not None:
                        self.conn.execute("UPDATE facegate.people SET card = %s WHERE id = %s", (card, person_id))
        except psycopg.errors.UniqueViolation:
            raise SiteError("a card number given is already another person's at the site; nothing was changed") from None

    def set_threshold_id(self, person_id: str, threshold: float | None) -> bool:
        """Give the person with this site id their own stricter threshold at every door (None: each
        door's own); every door takes the smaller of it and its own (False: no such person)."""
        return bool(self._do("UPDATE facegate.people SET threshold = %s WHERE id = %s", (threshold, person_id)))

    # -- visitor passes (core.door.passes) -------------------------------------------------------
    def set_pass(self, name: str, until: str, since: str | None = None) -> str:
        """Give the person a visitor pass (times in ISO, this PC's clock unless they say their
        offset): every door refuses them outside it, at the moment they come. Its end, in words."""
        end, start = _moment(until), _moment(since) if since else None
        if start is not None and start >= end:
            raise SiteError("a visitor pass must end after it starts")
        self._do(
            "INSERT INTO facegate.passes(person_id, valid_from, valid_until) VALUES (%s, %s, %s) "
            "ON CONFLICT (person_id) DO UPDATE SET valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until",
            (self._person(name), start, end),
        )
        return end.astimezone().strftime("%Y-%m-%d %H:%M")

    def clear_pass(self, name: str) -> bool:
        """The person is a regular one again (False: they held no pass)."""
        return bool(self._do("DELETE FROM facegate.passes WHERE person_id = %s", (self._person(name),)))

    def purge_passes(self, days: float | str) -> list[str]:
        """Delete, everywhere, the people whose visitor pass ended more than ``days`` ago (their
        faces go with them; every door drops them at its next pull): their names."""
        try:
            days = float(days)
        except ValueError:
            raise SiteError(f"{days!r} is not a number of days") from None
        if days < 0:
            raise SiteError("the retention period cannot be negative")
        with self.conn.transaction():
            rows = self.conn.execute(
                "DELETE FROM facegate.people WHERE id IN (SELECT person_id FROM facegate.passes "
                "WHERE valid_until < now() - make_interval(secs => %s)) RETURNING name",
                (days * 86400,),
            ).fetchall()
        return sorted(r[0] for r in rows)

    def reset_passback(self, name: str) -> bool:
        """Forget whether the person is in or out (they left by a door without a reader): their
        next passage anywhere is allowed (False: the site had no state for them)."""
        return bool(self._do("DELETE FROM facegate.presence WHERE person_id = %s", (self._person(name),)))

    # -- what doors proposed --------------------------------------------------------------------
    def proposals(self) -> list[Proposal]:
        return list_proposals(self.conn)

    def approve(self, proposal_id: int | str) -> Proposal:
        return decide(self.conn, _number(proposal_id), True, self.who)

    def reject(self, proposal_id: int | str) -> Proposal:
        return decide(self.conn, _number(proposal_id), False, self.who)

    def approve_door(self, door_id: str) -> int:
        """Approve every open proposal of this door (an admin PC approving its own enrollments)."""
        return approve_from_door(self.conn, door_id, self.who)

    def duplicates(self) -> list[dict]:
        rows = self.conn.execute(
            "SELECT a.name, b.name, d.distance FROM facegate.duplicates d JOIN facegate.people a ON a.id = d.person_a "
            "JOIN facegate.people b ON b.id = d.person_b ORDER BY d.distance"
        ).fetchall()
        return [{"a": r[0], "b": r[1], "distance": round(r[2], 4)} for r in rows]

    def merge(self, keep: str, drop: str) -> int:
        """Move ``drop``'s samples to ``keep`` and delete ``drop`` (a duplicate): samples moved."""
        keep_id, drop_id = self._person(keep), self._person(drop)
        if keep_id == drop_id:
            raise SiteError("a person cannot be merged into themselves")
        with self.conn.transaction():
            moved = self.conn.execute(
                "UPDATE facegate.samples SET person_id = %s WHERE person_id = %s", (keep_id, drop_id)
            ).rowcount
            self.conn.execute(
                "INSERT INTO facegate.group_members SELECT group_id, %s FROM facegate.group_members "
                "WHERE person_id = %s ON CONFLICT DO NOTHING",
                (keep_id, drop_id),
            )
            self.conn.execute("DELETE FROM facegate.people WHERE id = %s", (drop_id,))
        return moved

    # -- groups and doors -----------------------------------------------------------------------
    def groups(self) -> list[dict]:
        rows = self.conn.execute(
            "SELECT g.name, (SELECT count(*) FROM facegate.group_members m WHERE m.group_id = g.id), "
            "coalesce((SELECT array_agg(d.name ORDER BY d.name) FROM facegate.group_doors gd "
            "JOIN facegate.doors d ON d.id = gd.door_id WHERE gd.group_id = g.id), '{}') "
            "FROM facegate.access_groups g ORDER BY g.name"
        ).fetchall()
        return [{"name": r[0], "people": r[1], "doors": list(r[2])} for r in rows]

    def verify_access_logs(self, door: str | None = None) -> dict[str, ChainReport]:
        """Walk each door's access-log chain as the site holds it (core.gallery.chain): door
        name -> what the walk found. Rows pushed before the site kept chains are not walked."""
        doors = self.conn.execute(
            "SELECT id::text, name FROM facegate.doors WHERE %s::text IS NULL OR lower(name) = lower(%s) ORDER BY name",
            (door, door),
        ).fetchall()
        if door is not None and not doors:
            raise SiteError(f"the site has no door called {door!r}")
        reports = {}
        for door_id, name in doors:
            rows = self.conn.execute(
                "SELECT door_seq, time, name, verdict, reason, distance, margin, runner_up, runner_up_distance, answer, "
                "prev_hash, hash FROM facegate.events WHERE door_id = %s AND door_seq IS NOT NULL ORDER BY door_seq",
                (door_id,),
            ).fetchall()
            reports[name] = verify(ChainRow(*r) for r in rows)
        return reports

    def doors(self) -> list[dict]:
        rows = self.conn.execute(
            "SELECT d.name, d.last_seen, d.role IS NOT NULL, (SELECT count(*) FROM facegate.events e "
            "WHERE e.door_id = d.id) FROM facegate.doors d ORDER BY d.name"
        ).fetchall()
        return [{"name": r[0], "last_seen": r[1].isoformat() if r[1] else None, "active": r[2], "events": r[3]} for r in rows]

    def create_group(self, name: str) -> None:
        try:
            self._do("INSERT INTO facegate.access_groups(name) VALUES (%s)", (name,))
        except psycopg.errors.UniqueViolation:
            raise SiteError(f"the site already has a group called {name!r}") from None

    def delete_group(self, name: str) -> None:
        self._do("DELETE FROM facegate.access_groups WHERE id = %s", (self._id("access_groups", name),))

    def open_door(self, group: str, door: str) -> bool:
        """Members of ``group`` may now open ``door`` (False: they already could)."""
        return bool(
            self._do(
                "INSERT INTO facegate.group_doors VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (self._id("access_groups", group), self._id("doors", door)),
            )
        )

    def close_door(self, group: str, door: str) -> bool:
        """Members of ``group`` may no longer open ``door`` (False: they could not)."""
        return bool(
            self._do(
                "DELETE FROM facegate.group_doors WHERE group_id = %s AND door_id = %s",
                (self._id("access_groups", group), self._id("doors", door)),
            )
        )

    def add_to_group(self, group: str, person: str) -> bool:
        """False: ``person`` was already in ``group``."""
        return bool(
            self._do(
                "INSERT INTO facegate.group_members VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (self._id("access_groups", group), self._person(person)),
            )
        )

    def remove_from_group(self, group: str, person: str) -> bool:
        """False: ``person`` was not in ``group``."""
        return bool(
            self._do(
                "DELETE FROM facegate.group_members WHERE group_id = %s AND person_id = %s",
                (self._id("access_groups", group), self._person(person)),
            )
        )

    def set_enroll_group(self, door: str, group: str | None) -> None:
        """The group a door's own enrollments join (None: only the admin can let them in anywhere)."""
        self._do(
            "UPDATE facegate.doors SET enroll_group = %s WHERE id = %s",
            (self._id("access_groups", group) if group else None, self._id("doors", door)),
        )

    def remove_door(self, door: str) -> bool:
        with self.conn.transaction():
            return bool(one_row(self.conn, "SELECT facegate.remove_door(%s)", (door,))[0])

    def keep_snapshots(self, keep: bool) -> None:
        """The site's privacy setting: off (the default) keeps descriptors and text only."""
        self._do("UPDATE facegate.site_settings SET value = %s WHERE key = 'keep_snapshots'", ("true" if keep else "false",))


def _rounded(value: float | None) -> float | None:
    """A real column as it was set (0.3, not 0.30000001192092896)."""
    return None if value is None else round(value, 4)


def _moment(text: str) -> datetime:
    """An ISO time given by the admin: on this PC's clock unless it says its offset (or Z)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SiteError(f"{text!r} is not a time (like 2026-12-05T17:00)") from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def _number(proposal_id: int | str) -> int:
    try:
        return int(str(proposal_id).lstrip("#"))
    except ValueError:
        raise SiteError(f"{proposal_id!r} is not a proposal number (facegate site proposals lists them)") from None
