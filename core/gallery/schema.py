"""The database schema as an ordered list of named migrations.

Each migration runs once, inside the transaction that records its name in ``meta``, so a
crash mid-migration leaves the previous schema intact. Features append their own migrations
(names must stay unique and entries must never be edited once released); PRAGMA user_version
mirrors how many have run, for tools that look at it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

from core.gallery.chain import GENESIS, HEAD_KEY, ROWS_SQL, ChainRow


def _people_and_samples(db: Database) -> None:
    db.execute("""
        CREATE TABLE people (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            allowed INTEGER NOT NULL DEFAULT 1,
            notes TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL
        )""")
    # AUTOINCREMENT: a sample id is never reused, so an index label always means one sample.
    db.execute("""
        CREATE TABLE samples (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            descriptor BLOB NOT NULL,
            thumbnail BLOB,
            source TEXT NOT NULL DEFAULT '',
            quality REAL,
            created TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX samples_person ON samples(person_id)")


def _scanned_videos(db: Database) -> None:
    """Faces found by scanning video files: apart from people/samples, so a scan never enrolls anyone."""
    db.execute("""
        CREATE TABLE scan_videos (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            path TEXT NOT NULL,
            name TEXT NOT NULL,
            fps REAL NOT NULL,
            frame_count INTEGER NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            every INTEGER NOT NULL,
            frames_scanned INTEGER NOT NULL,
            complete INTEGER NOT NULL,
            scanned TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE scan_faces (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            video_id INTEGER NOT NULL REFERENCES scan_videos(id) ON DELETE CASCADE,
            frame INTEGER NOT NULL,
            time REAL NOT NULL,
            left INTEGER NOT NULL,
            top INTEGER NOT NULL,
            right INTEGER NOT NULL,
            bottom INTEGER NOT NULL,
            descriptor BLOB NOT NULL,
            thumbnail BLOB,
            quality REAL
        )""")
    db.execute("CREATE INDEX scan_faces_video ON scan_faces(video_id, frame)")


def _door_access(db: Database) -> None:
    """Door decisions: weekly time windows per person, the access log, and "not this person" marks.

    access_events keeps the name as it was at the time (person_id is cleared if the person is
    deleted, the event stays). negatives are faces an operator said are NOT that person; matching
    skips the person for faces nearer a negative than to the person's own samples.
    """
    db.execute("""
        CREATE TABLE schedules (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            day INTEGER NOT NULL CHECK (day BETWEEN 0 AND 6),
            start TEXT NOT NULL,
            end TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX schedules_person ON schedules(person_id)")
    db.execute("""
        CREATE TABLE access_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            track INTEGER,
            person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
            name TEXT,
            verdict TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            distance REAL,
            margin REAL,
            runner_up TEXT,
            runner_up_distance REAL,
            door TEXT NOT NULL DEFAULT '',
            not_this_person INTEGER NOT NULL DEFAULT 0,
            descriptor BLOB,
            snapshot BLOB
        )""")
    db.execute("CREATE INDEX access_events_time ON access_events(time)")
    db.execute("""
        CREATE TABLE negatives (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            descriptor BLOB NOT NULL,
            event_id INTEGER REFERENCES access_events(id) ON DELETE SET NULL,
            created TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX negatives_person ON negatives(person_id)")


def _samples_generation(db: Database) -> None:
    """A counter that moves only when samples change, whatever the code path (cascading deletes
    too): the index is stamped with it, so access-log or scan writes never make it look stale."""
    db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES('samples_generation', '0')")
    bump = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'samples_generation';"
    db.execute("CREATE TRIGGER samples_generation_insert AFTER INSERT ON samples BEGIN " + bump + " END")
    db.execute("CREATE TRIGGER samples_generation_delete AFTER DELETE ON samples BEGIN " + bump + " END")
    db.execute("CREATE TRIGGER samples_generation_update AFTER UPDATE OF descriptor ON samples BEGIN " + bump + " END")


#: A random version-4 UUID in SQLite's own SQL, for rows a trigger names.
_UUID = (
    "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) "
    "|| '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' "
    "|| lower(hex(randomblob(6))))"
)
#: Triggers act only while this gallery belongs to a site (core.site writes 'site:door'), and not
#: while core.site applies what it pulled from the site ('site:applying', inside that transaction).
_AT_SITE = "EXISTS (SELECT 1 FROM meta WHERE key = 'site:door')"
_LOCAL = f"{_AT_SITE} AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'site:applying')"


def _site_ids(db: Database) -> None:
    """Site-wide ids (UUIDs) and the outbox of a door that belongs to a site (core.site).

    Without a site nothing here does anything: the columns stay NULL and the triggers are idle.
    At a site, every person, sample and access event this door makes gets a UUID the moment it
    is written, in the same transaction, and its own enrollments, edits and events are queued in
    site_outbox, so nothing made offline is ever lost or sent twice (the site ignores a UUID it
    already has).
    """
    for table in ("people", "samples", "negatives", "access_events"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN site_id TEXT")
        db.execute(f"CREATE UNIQUE INDEX {table}_site_id ON {table}(site_id)")
    db.execute("""
        CREATE TABLE site_outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            created TEXT NOT NULL
        )""")
    now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    db.execute(
        f"CREATE TRIGGER site_person_id AFTER INSERT ON people WHEN NEW.site_id IS NULL AND {_AT_SITE} "
        f"BEGIN UPDATE people SET site_id = {_UUID} WHERE id = NEW.id; END"
    )
    for table, kind in (("samples", "sample"), ("access_events", "event")):
        db.execute(
            f"CREATE TRIGGER site_{kind}_id AFTER INSERT ON {table} WHEN NEW.site_id IS NULL AND {_LOCAL} BEGIN "
            f"UPDATE {table} SET site_id = {_UUID} WHERE id = NEW.id; "
            f"INSERT INTO site_outbox(kind, ref, created) VALUES('{kind}', "
            f"(SELECT site_id FROM {table} WHERE id = NEW.id), {now}); END"
        )
    db.execute(
        f"CREATE TRIGGER site_person_update AFTER UPDATE OF name, allowed ON people WHEN {_LOCAL} "
        "AND NEW.site_id IS NOT NULL AND (OLD.name IS NOT NEW.name OR OLD.allowed IS NOT NEW.allowed) BEGIN "
        f"INSERT INTO site_outbox(kind, ref, created) VALUES('update', NEW.site_id, {now}); END"
    )
    db.execute(
        f"CREATE TRIGGER site_person_remove AFTER DELETE ON people WHEN {_LOCAL} AND OLD.site_id IS NOT NULL "
        f"BEGIN INSERT INTO site_outbox(kind, ref, created) VALUES('remove', OLD.site_id, {now}); END"
    )


def _visitors(db: Database) -> None:
    """Unknown visitors grouped by face (core.door.visitors): one row per visitor, the faces kept
    to recognise them again (descriptor, snapshot), and the access-log entries that are theirs."""
    db.execute("""
        CREATE TABLE visitors (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            visits INTEGER NOT NULL DEFAULT 1,
            best_snapshot BLOB,
            best_quality REAL,
            person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
            enrolled TEXT
        )""")
    db.execute("""
        CREATE TABLE visitor_faces (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
            time TEXT NOT NULL,
            descriptor BLOB NOT NULL,
            snapshot BLOB,
            quality REAL
        )""")
    db.execute("CREATE INDEX visitor_faces_visitor ON visitor_faces(visitor_id)")
    db.execute("ALTER TABLE access_events ADD COLUMN visitor_id INTEGER REFERENCES visitors(id) ON DELETE SET NULL")


def _recent_faces(db: Database) -> None:
    """The review queue (core.door.review): the last faces seen at the door, one per logged visit,
    with their quality and nearest people, and what the operator (or learning mode) did with them."""
    db.execute("""
        CREATE TABLE recent_faces (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            event_id INTEGER REFERENCES access_events(id) ON DELETE SET NULL,
            verdict TEXT NOT NULL,
            person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
            name TEXT,
            descriptor BLOB NOT NULL,
            snapshot BLOB,
            sharpness REAL NOT NULL,
            size INTEGER NOT NULL,
            yaw REAL NOT NULL,
            pitch REAL,
            score REAL,
            nearest TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL DEFAULT 'new',
            outcome TEXT NOT NULL DEFAULT '',
            sample_id INTEGER
        )""")
    db.execute("CREATE INDEX recent_faces_time ON recent_faces(time)")


def _sample_provenance(db: Database) -> None:
    """How each sample was taken (photo, click, review, learning, visitor, scan, site) and by whom
    (the operator's account on this PC): the gallery is a security boundary, so every sample can
    be traced. ``created`` says when; at a site, the site records where (the door's own login)."""
    db.execute("ALTER TABLE samples ADD COLUMN how TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE samples ADD COLUMN added_by TEXT NOT NULL DEFAULT ''")


def _gallery_generation(db: Database) -> None:
    """A counter that moves whenever who is enrolled changes: people (added, renamed, removed,
    allowed or not), their samples, and the "not this person" marks. Every page that shows the
    gallery, and the live loop's index, follow it (core.station.watch); access-log and review
    writes leave it alone, so deciding a visit never makes the window re-read the gallery."""
    db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES('gallery_generation', '0')")
    bump = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'gallery_generation';"
    for table in ("people", "samples", "negatives"):
        for event, suffix in (("INSERT", "insert"), ("DELETE", "delete"), ("UPDATE", "update")):
            db.execute(f"CREATE TRIGGER gallery_generation_{table}_{suffix} AFTER {event} ON {table} BEGIN {bump} END")


def _scan_poor_faces(db: Database) -> None:
    """A scan keeps the best view of every followed face even when no view passes the quality gates,
    marked poor with the gates it fails (comma-separated; '' for a good face)."""
    db.execute("ALTER TABLE scan_faces ADD COLUMN poor TEXT NOT NULL DEFAULT ''")


def _person_card(db: Database) -> None:
    """Each person's credential number (decimal, as printed on their card or in the access panel):
    what FaceGate reports to an access panel as a card read after a grant (core.door.osdp) and what
    a face + card door compares a presented card with. NULL: no card; two people never share one."""
    db.execute("ALTER TABLE people ADD COLUMN card TEXT")
    db.execute("CREATE UNIQUE INDEX people_card ON people(card)")


def _personal_threshold(db: Database) -> None:
    """A person's own threshold (NULL: the door's), only ever stricter than the door's: for
    look-alikes and twins, whose faces sit nearer each other than the door's threshold. The match
    rule (core.gallery.match) takes the smaller of the two, so a door made stricter later never
    becomes looser for them."""
    db.execute("ALTER TABLE people ADD COLUMN threshold REAL CHECK (threshold IS NULL OR (threshold > 0 AND threshold < 2))")


def _access_log_chain(db: Database) -> None:
    """Every access-log row carries the hash of the row before it (core.gallery.chain); the rows
    already there are chained once, here, in id order, and the newest hash is kept apart."""
    db.execute("ALTER TABLE access_events ADD COLUMN prev_hash TEXT")
    db.execute("ALTER TABLE access_events ADD COLUMN hash TEXT")
    prev = GENESIS
    for row in db.execute(ROWS_SQL).fetchall():
        digest = ChainRow(*row).content_hash(prev)
        db.execute("UPDATE access_events SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, row[0]))
        prev = digest
    db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (HEAD_KEY, prev))


def _visitor_passes(db: Database) -> None:
    """A person's visitor pass (core.door.passes): valid from (NULL: already) until a moment, UTC ISO."""
    db.execute("""
        CREATE TABLE passes (
            person_id INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
            valid_from TEXT,
            valid_until TEXT NOT NULL
        )""")


def _access_modes(db: Database) -> None:
    """How each person opens the door (core.door.factors): 'face' alone, 'face+pin' or
    'face+card', and their PIN and duress PIN as salted scrypt records (core.gallery.secret;
    NULL: none). At a site these are the admin's: a door's own change of them is queued like a
    rename, refused by the site (door_update changes names only), and the site's version is
    pulled back."""
    db.execute(
        "ALTER TABLE people ADD COLUMN access TEXT NOT NULL DEFAULT 'face' CHECK (access IN ('face', 'face+pin', 'face+card'))"
    )
    db.execute("ALTER TABLE people ADD COLUMN pin TEXT")
    db.execute("ALTER TABLE people ADD COLUMN duress_pin TEXT")
    now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    db.execute(
        f"CREATE TRIGGER site_person_access AFTER UPDATE OF access, pin, duress_pin ON people WHEN {_LOCAL} "
        "AND NEW.site_id IS NOT NULL AND (OLD.access IS NOT NEW.access OR OLD.pin IS NOT NEW.pin "
        "OR OLD.duress_pin IS NOT NEW.duress_pin) BEGIN "
        f"INSERT INTO site_outbox(kind, ref, created) VALUES('update', NEW.site_id, {now}); END"
    )


MIGRATIONS: list[tuple[str, Callable[[Database], None]]] = [
    ("people-and-samples", _people_and_samples),
    ("scanned-videos", _scanned_videos),
    ("door-access", _door_access),
    ("samples-generation", _samples_generation),
    ("site-ids", _site_ids),
    ("visitors", _visitors),
    ("recent-faces", _recent_faces),
    ("sample-provenance", _sample_provenance),
    ("gallery-generation", _gallery_generation),
    ("scan-poor-faces", _scan_poor_faces),
    ("person-card", _person_card),
    ("personal-threshold", _personal_threshold),
    ("access-log-chain", _access_log_chain),
    ("visitor-passes", _visitor_passes),
    ("access-modes", _access_modes),
]
