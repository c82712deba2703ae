"""The gallery database: one SQLite file (WAL, foreign keys) through sqlite-utils.

SQLite is the truth; the hnswlib index beside it is a cache. Every write is one explicit
``BEGIN IMMEDIATE`` transaction (an enrollment's person and all its samples land together or
not at all) and bumps a ``generation`` counter (caches of anything in the file use it); a second
counter, ``samples_generation``, moves only when samples change and is what the index is stamped with.

One writer per database: the SQLite linked here (3.40.1) has the WAL-reset bug that needs two
connections writing or checkpointing at once, so a Store opened for writing takes an exclusive
lock file and all of a process's writes go through its single connection (guarded by a lock,
so threads may share it). Read-only Stores open with mode=ro, which never checkpoints.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlite_utils import Database

from core.errors import DatabaseDamaged, DatabaseLocked, DuplicatePerson, StoreError, UnknownPerson
from core.gallery.files import release_writer_lock, take_writer_lock
from core.gallery.schema import MIGRATIONS
from core.records import DESCRIPTOR_DIM

DESCRIPTOR_DTYPE = np.float32
#: How a person opens the door (core.door.factors): the face alone, or the face and a second factor.
ACCESS_MODES = ("face", "face+pin", "face+card")


#: what a Person is read from, and the same before the person-card, personal-threshold and access-modes migrations
#: How a sample made from a photo's face shrunk to a door camera's view is marked (NewSample.how;
#: core.gallery.photo_views): counted apart, since it is the same photo and not another look.
PHOTO_VIEW = "photo view"
PERSON_COLUMNS = (
    "p.id, p.name, p.allowed, p.notes, p.created, COUNT(s.id), p.card, p.threshold, p.access, "
    f"COUNT(CASE WHEN s.how = '{PHOTO_VIEW}' THEN 1 END)"
)
PERSON_COLUMNS_BEFORE = "p.id, p.name, p.allowed, p.notes, p.created, COUNT(s.id), NULL, NULL, 'face', 0"


@dataclass
class Person:
    id: int
    name: str
    allowed: bool
    notes: str
    created: str
    sample_count: int = 0
    card: str | None = None  # credential number in decimal (clean_card), None: no card
    threshold: float | None = None  # their own stricter threshold (None: the door's); core.gallery.match
    access: str = "face"  # one of ACCESS_MODES
    view_count: int = 0  # of sample_count, those that are a photo's camera views (PHOTO_VIEW)


@dataclass
class NewSample:
    """A sample about to be enrolled: its descriptor, a JPEG thumbnail, where it came from."""

    descriptor: np.ndarray
    thumbnail: bytes | None = None
    source: str = ""
    quality: float | None = None
    how: str = ""  # photo | photo view | click | review | learning | visitor | scan: the sample's provenance


@dataclass
class Sample:
    id: int
    person_id: int
    descriptor: np.ndarray = field(repr=False)
    thumbnail: bytes | None = field(default=None, repr=False)
    source: str = ""
    quality: float | None = None
    created: str = ""


def operator() -> str:
    """Who is adding samples: this process's account (a sample's provenance)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): the number says enough
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def now() -> str:
    """UTC timestamp with milliseconds, sortable as text."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def pack(vec: np.ndarray) -> bytes:
    arr = np.asarray(vec, dtype=DESCRIPTOR_DTYPE).reshape(-1)
    if arr.shape[0] != DESCRIPTOR_DIM or not np.all(np.isfinite(arr)):
        raise ValueError(f"a descriptor must be {DESCRIPTOR_DIM} finite numbers")
    return arr.tobytes()


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=DESCRIPTOR_DTYPE).copy()


#: WAL pages between checkpoints during bulk_writes (64 MB of 4 kB pages).
BULK_CHECKPOINT = 16_384


class Store:
    """People and their samples in one SQLite file. Usable from a prompt: ``Store('g.db').people()``."""

    def __init__(self, path: str | Path, timeout: float = 5.0, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.RLock()
        self._lockfile = None
        if readonly:
            if not self.path.exists():
                raise StoreError(f"{self.path}: no such database")
            uri = f"file:{self.path.resolve().as_posix()}?mode=ro"
            wal = self.path.with_name(self.path.name + "-wal")
            if not os.access(self.path.parent, os.W_OK) and not (wal.exists() and wal.stat().st_size):
                # a read-only folder: SQLite cannot make the -shm a WAL database needs even to read;
                # nobody can write there and no WAL holds newer data, so the file is immutable
                uri += "&immutable=1"
            conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._lockfile = take_writer_lock(self.path)
                # created owner-only before SQLite opens it: SQLite gives -wal/-shm the same mode
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError as exc:
                self.close()
                raise StoreError(
                    f"{self.path}: cannot open the gallery for writing ({exc.strerror}); "
                    "nothing was changed. Make the folder writable, or open it read-only."
                ) from None
            conn = sqlite3.connect(str(self.path), timeout=timeout, check_same_thread=False)
        self.db = Database(conn, execute_plugins=False)
        try:
            with self._errors("open"):
                conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                conn.execute("PRAGMA foreign_keys = ON")
                self._check_integrity()
                if not readonly:
                    self._refuse_foreign()
                    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                        conn.execute("PRAGMA journal_mode = WAL")
                    conn.execute("PRAGMA synchronous = FULL")
                    # 32 MB of pages, not SQLite's 2 MB: a site's first sync writes thousands of rows a
                    # transaction into indexes of random ids (site_id), which a small cache re-reads
                    conn.execute("PRAGMA cache_size = -32768")
                    self._migrate()
                elif "people" not in self.db.table_names():
                    raise DatabaseDamaged(f"{self.path}: not a FaceGate database (no people table)")
        except BaseException:
            self.close()
            raise

    # -- plumbing -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn sqlite3's errors into FaceGate's, naming the file and what we were doing."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                raise DatabaseLocked(
                    f"{self.path}: the database is locked by another program ({doing} did not happen; "
                    "nothing was changed). Close the other program or try again."
                ) from None
            if "readonly" in text or "read-only" in text:
                raise StoreError(f"{self.path}: the database is read-only ({doing} did not happen)") from None
            if "disk is full" in text or "full" in text:
                raise StoreError(f"{self.path}: the disk is full ({doing} did not happen; nothing was changed)") from None
            if "unable to open" in text:
                raise StoreError(f"{self.path}: cannot open the database file ({exc})") from None
            if "malformed" in text or "not a database" in text:
                raise DatabaseDamaged(f"{self.path}: the database file is damaged ({exc})") from None
            raise StoreError(f"{self.path}: {doing} failed ({exc})") from None
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise DatabaseDamaged(
                f"{self.path}: the database file is damaged or not a FaceGate database ({exc}). "
                "Restore a backup, or move the file away to start a new gallery."
            ) from None

    def _check_integrity(self) -> None:
        try:
            rows = self.db.execute("PRAGMA quick_check").fetchall()
        except UnicodeDecodeError:  # the check's own report holds scribbled bytes (a page of text overwritten)
            raise DatabaseDamaged(f"{self.path}: the database file is damaged (its integrity report is unreadable)") from None
        if [r[0] for r in rows] != ["ok"]:
            detail = "; ".join(str(r[0]) for r in rows[:3])
            raise DatabaseDamaged(f"{self.path}: the database file is damaged ({detail})")

    @contextlib.contextmanager
    def write(self, doing: str = "the change") -> Iterator[Database]:
        """One write transaction: everything inside lands together, or nothing does."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only ({doing} refused)")
        with self._lock, self._errors(doing):
            conn = self.db.conn
            if conn.in_transaction:  # nested: the outer transaction decides
                yield self.db
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES('generation', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Many large transactions in a row (a site's first pull): commits meanwhile do not wait
        for the disk (synchronous NORMAL: a crash of the process loses nothing; a power cut may
        lose the last few, which carry their own resume mark and are pulled again) and the WAL
        is checkpointed every BULK_CHECKPOINT pages, not every 1000 (a checkpoint rewrites every
        page of the random-id indexes a transaction touched). As before afterwards."""
        with self._lock:
            conn = self.db.conn
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT}")
        try:
            yield
        finally:
            with self._lock:
                conn.execute("PRAGMA wal_autocheckpoint = 1000")
                conn.execute("PRAGMA synchronous = FULL")

    def copy_to(self, target: sqlite3.Connection) -> None:
        """Copy the whole database into ``target`` with SQLite's online backup, through this
        Store's own connection (no second writer; the window keeps running meanwhile)."""
        with self._lock, self._errors("making a backup"):
            self.db.conn.backup(target)

    def read(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        """Rows of a read-only query (parameters always bound, never pasted)."""
        with self._lock, self._errors("reading"):
            return self.db.execute(sql, params).fetchall()

    def _refuse_foreign(self) -> None:
        """Touch nothing in an SQLite file that some other program made."""
        tables = set(self.db.table_names()) - {"sqlite_sequence"}
        if tables and (
            "meta" not in tables or not self.db.execute("SELECT 1 FROM meta WHERE key LIKE 'migration:%' LIMIT 1").fetchone()
        ):
            raise DatabaseDamaged(f"{self.path}: this SQLite file is not a FaceGate database; it was left untouched")

    def _migrate(self) -> None:
        conn = self.db.conn
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        if conn.in_transaction:
            conn.execute("COMMIT")
        done = {r[0][len("migration:") :] for r in conn.execute("SELECT key FROM meta WHERE key LIKE 'migration:%'").fetchall()}
        for count, (name, migrate) in enumerate(MIGRATIONS, start=1):
            if name in done:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                migrate(self.db)
                conn.execute("INSERT INTO meta(key, value) VALUES(?, ?)", (f"migration:{name}", now()))
                conn.execute(f"PRAGMA user_version = {count}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(Exception):
                self.db.conn.close()
            if self._lockfile is not None:
                release_writer_lock(self._lockfile)
                self._lockfile = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- gallery settings and generation -------------------------------------------------------
    def generation(self) -> int:
        """Moves with every write transaction."""
        rows = self.read("SELECT value FROM meta WHERE key = 'generation'")
        return int(rows[0][0]) if rows else 0

    def samples_generation(self) -> int:
        """Moves only when samples are added, deleted or changed (kept by triggers)."""
        rows = self.read("SELECT value FROM meta WHERE key = 'samples_generation'")
        return int(rows[0][0]) if rows else 0

    def gallery_generation(self) -> int:
        """Moves when people, their samples or "not this person" marks change (kept by triggers)."""
        rows = self.read("SELECT value FROM meta WHERE key = 'gallery_generation'")
        return int(rows[0][0]) if rows else 0

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key = ?", (f"setting:{key}",))
        return rows[0][0] if rows else default

    def set_setting(self, key: str, value: str) -> None:
        with self.write(f"saving setting {key}") as db:
            db.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (f"setting:{key}", str(value)),
            )

    # -- people ---------------------------------------------------------------------------------
    @property
    def _migrated_people(self) -> bool:
        """Whether people have the person-card, personal-threshold and access-modes columns (a
        read-only gallery from before those migrations lacks them: read as NULL - no card, the
        door's threshold - and 'face' for the access mode)."""
        return {"card", "threshold", "access"} <= self.db["people"].columns_dict.keys()

    def people(self) -> list[Person]:
        columns = PERSON_COLUMNS if self._migrated_people else PERSON_COLUMNS_BEFORE
        rows = self.read(
            f"SELECT {columns} FROM people p "
            "LEFT JOIN samples s ON s.person_id = p.id GROUP BY p.id ORDER BY p.name COLLATE NOCASE"
        )
        return [Person(r[0], r[1], bool(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows]

    def person(self, name_or_id: str | int) -> Person:
        """A person by id, or by name as enroll() writes it (spaces tidied: "Ada  Lovelace " is
        Ada Lovelace, so no check made on the typed name can miss the person a write would reach)."""
        col = "p.id" if isinstance(name_or_id, int) else "p.name"
        columns = PERSON_COLUMNS if self._migrated_people else PERSON_COLUMNS_BEFORE
        rows = self.read(
            f"SELECT {columns} FROM people p LEFT JOIN samples s ON s.person_id = p.id WHERE {col} = ? GROUP BY p.id",
            (name_or_id if isinstance(name_or_id, int) else tidy_name(name_or_id),),
        )
        if not rows:
            raise UnknownPerson(f"no person called {name_or_id!r} in {self.path.name}")
        r = rows[0]
        return Person(r[0], r[1], bool(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9])

    def personal_thresholds(self) -> dict[int, float]:
        """Person id -> their own stricter threshold, for those who have one."""
        if "threshold" not in self.db["people"].columns_dict:  # read-only, from before the migration
            return {}
        return dict(self.read("SELECT id, threshold FROM people WHERE threshold IS NOT NULL"))

    def thresholds_of(self, people: Sequence[int]) -> dict[int, float | None]:
        """Person id -> their own threshold or None, for these people only (a pull of 500 people
        into a gallery of 100,000 reads 500 rows, not the whole table)."""
        if not people or "threshold" not in self.db["people"].columns_dict:
            return {}
        return dict(
            self.read(
                "SELECT id, threshold FROM people WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(people)),)
            )
        )

    def find_person(self, name: str) -> Person | None:
        try:
            return self.person(name)
        except UnknownPerson:
            return None

    def enroll(
        self,
        name: str,
        samples: Sequence[NewSample],
        allowed: bool | None = None,
        notes: str | None = None,
        new: bool = False,
        of: int | None = None,
    ) -> tuple[Person, list[int]]:
        """Add ``samples`` to ``name`` (created if new) in one transaction; the person and new sample
        ids. ``new``: only as a new person (a path that checked "nobody of that name" must not add
        to one who appeared since). ``of``: only to that person (by id), still called ``name``: a
        path that judged a face against someone (learning mode, after a grant) must not, if they
        were removed meanwhile (a site's sync), make a new person of the face under their name.
        ``allowed`` sets a new person's standing; of someone already enrolled it can only block
        (False): adding faces never lets a blocked person in again."""
        name = clean_name(name)
        if not samples:
            raise StoreError(f"nothing to enroll for {name!r}: no samples")
        blobs = [pack(s.descriptor) for s in samples]
        with self.write(f"enrolling {name!r}") as db:
            row = db.execute("SELECT id FROM people WHERE name = ?", (name,)).fetchone()
            if of is not None and (row is None or row[0] != of):
                raise StoreError(f"{name} is no longer enrolled as the person the face was judged against: nothing was added")
            if row is not None and new:
                raise StoreError(f"{name} is already enrolled: add the face to them instead (nothing was enrolled)")
            if row is None:
                person_id = inserted_id(
                    db.execute(
                        "INSERT INTO people(name, allowed, notes, created) VALUES(?,?,?,?)",
                        (name, 1 if allowed in (None, True) else 0, notes or "", now()),
                    )
                )
            else:
                person_id = row[0]
                if allowed is False:
                    db.execute("UPDATE people SET allowed = 0 WHERE id = ?", (person_id,))
                if notes is not None:
                    db.execute("UPDATE people SET notes = ? WHERE id = ?", (notes, person_id))
            ids: list[int] = []
            for blob, s in zip(blobs, samples, strict=True):
                cur = db.execute(
                    "INSERT INTO samples(person_id, descriptor, thumbnail, source, quality, created, how, added_by) "
                    "VALUES(?,?,?,?,?,?,?,?)",
                    (person_id, blob, s.thumbnail, s.source, s.quality, now(), s.how, operator()),
                )
                ids.append(inserted_id(cur))
        return self.person(person_id), ids

    def rename(self, name: str, new_name: str) -> Person:
        new_name = clean_name(new_name)
        person = self.person(name)
        other = self.find_person(new_name)
        if other is not None and other.id != person.id:
            raise DuplicatePerson(f"there is already a person called {new_name!r}")
        with self.write(f"renaming {name!r}") as db:
            db.execute("UPDATE people SET name = ? WHERE id = ?", (new_name, person.id))
        return self.person(person.id)

    def update_person(self, name: str, allowed: bool | None = None, notes: str | None = None) -> Person:
        person = self.person(name)
        with self.write(f"updating {name!r}") as db:
            if allowed is not None:
                db.execute("UPDATE people SET allowed = ? WHERE id = ?", (int(allowed), person.id))
            if notes is not None:
                db.execute("UPDATE people SET notes = ? WHERE id = ?", (notes, person.id))
        return self.person(person.id)

    def person_with_card(self, card: str) -> Person | None:
        """Who holds credential number ``card`` (None: nobody)."""
        rows = self.read("SELECT id FROM people WHERE card = ?", (clean_card(card),))
        return self.person(rows[0][0]) if rows else None

    def set_cards(self, cards: Sequence[tuple[str, str | None]]) -> list[Person]:
        """Give each named person a credential number (None clears it), all in one transaction:
        an unknown name, a malformed number or a number held by someone else changes nothing."""
        wanted = [(self.person(name), clean_card(card) if card is not None else None) for name, card in cards]
        holders: dict[str, str] = {}
        for person, card in wanted:
            if card is not None and holders.setdefault(card, person.name) != person.name:
                raise StoreError(f"card {card} is given to both {holders[card]!r} and {person.name!r}")
        with self.write("setting card numbers") as db:
            for person, _ in wanted:  # cleared first, so two people may swap cards in one go
                db.execute("UPDATE people SET card = NULL WHERE id = ?", (person.id,))
            for person, card in wanted:
                if card is None:
                    continue
                other = db.execute("SELECT name FROM people WHERE card = ?", (card,)).fetchone()
                if other is not None:
                    raise StoreError(f"card {card} already belongs to {other[0]!r}; nothing was changed")
                db.execute("UPDATE people SET card = ? WHERE id = ?", (card, person.id))
        return [self.person(person.id) for person, _ in wanted]

    def set_threshold(self, name: str, threshold: float | None) -> Person:
        """Give ``name`` their own threshold (None: the door's again); core.gallery.match checks it."""
        person = self.person(name)
        with self.write(f"setting {name!r}'s threshold") as db:
            db.execute("UPDATE people SET threshold = ? WHERE id = ?", (threshold, person.id))
        return self.person(person.id)

    def set_access(self, name: str, access: str, pin: str | None, duress_pin: str | None) -> Person:
        """Set how ``name`` opens the door, with their PIN and duress PIN as hash records
        (core.gallery.secret; None: none). The caller checks the pairing (core.door.factors)."""
        if access not in ACCESS_MODES:
            raise StoreError(f"access mode {access!r}: choose one of {', '.join(ACCESS_MODES)}")
        person = self.person(name)
        with self.write(f"changing how {person.name!r} opens the door") as db:
            db.execute("UPDATE people SET access = ?, pin = ?, duress_pin = ? WHERE id = ?", (access, pin, duress_pin, person.id))
        return self.person(person.id)

    def pins(self, person_id: int) -> tuple[str | None, str | None]:
        """The person's PIN and duress PIN hash records (None: none, or no such person)."""
        if "pin" not in self.db["people"].columns_dict:  # read-only, from before the migration
            return (None, None)
        rows = self.read("SELECT pin, duress_pin FROM people WHERE id = ?", (person_id,))
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    def remove_person(self, name: str) -> list[int]:
        """Delete a person and all their samples; the removed sample ids."""
        person = self.person(name)
        with self.write(f"removing {name!r}") as db:
            ids = [r[0] for r in db.execute("SELECT id FROM samples WHERE person_id = ?", (person.id,))]
            db.execute("DELETE FROM samples WHERE person_id = ?", (person.id,))
            db.execute("DELETE FROM people WHERE id = ?", (person.id,))
        return ids

    # -- samples --------------------------------------------------------------------------------
    def samples(self, person: str | int | None = None, with_thumbnails: bool = False) -> list[Sample]:
        cols = "id, person_id, descriptor, source, quality, created" + (", thumbnail" if with_thumbnails else "")
        if person is None:
            rows = self.read(f"SELECT {cols} FROM samples ORDER BY id")
        else:
            rows = self.read(f"SELECT {cols} FROM samples WHERE person_id = ? ORDER BY id", (self.person(person).id,))
        return [Sample(r[0], r[1], unpack(r[2]), r[6] if with_thumbnails else None, r[3], r[4], r[5]) for r in rows]

    def thumbnail(self, sample_id: int) -> bytes | None:
        rows = self.read("SELECT thumbnail FROM samples WHERE id = ?", (sample_id,))
        return rows[0][0] if rows else None

    def first_thumbnail(self, person_id: int) -> bytes | None:
        """The JPEG thumbnail of the person's first sample (shown beside their name), None if none."""
        rows = self.read("SELECT thumbnail FROM samples WHERE person_id = ? ORDER BY id LIMIT 1", (person_id,))
        return rows[0][0] if rows else None

    def remove_sample(self, sample_id: int, *with_it: int) -> None:
        """Delete a sample and ``with_it`` (its photo's views) in one transaction."""
        with self.write(f"removing sample {sample_id}") as db:
            if db.execute("DELETE FROM samples WHERE id = ?", (sample_id,)).rowcount == 0:
                raise StoreError(f"no sample {sample_id}")
            for other in with_it:
                db.execute("DELETE FROM samples WHERE id = ?", (other,))

    def vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sample ids, person ids, N x DESCRIPTOR_DIM descriptors) of every sample: what the index is built from."""
        rows = self.read("SELECT id, person_id, descriptor FROM samples ORDER BY id")
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        pids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        mat = (
            np.frombuffer(b"".join(r[2] for r in rows), dtype=DESCRIPTOR_DTYPE).reshape(-1, DESCRIPTOR_DIM)
            if rows
            else np.empty((0, DESCRIPTOR_DIM), DESCRIPTOR_DTYPE)
        )
        return ids, pids, mat

    def sample_owners(self) -> dict[int, int]:
        """sample id -> person id, for turning index hits into people."""
        return dict(self.read("SELECT id, person_id FROM samples"))


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The row id an INSERT just gave (sqlite3 has None there only after other statements)."""
    assert cursor.lastrowid is not None
    return cursor.lastrowid


#: The longest credential number taken: 20 digits covers 64 bits (the raw format's widest).
CARD_DIGITS = 20


def clean_card(card: str | int) -> str:
    """A credential number as stored: decimal digits without leading zeros ("00042" is 42, as a
    panel reads it). Anything else is refused with the reason."""
    text = str(card).strip()
    if not text.isascii() or not text.isdigit():
        raise StoreError(f"{text[:40]!r} is not a card number (decimal digits only)")
    if len(text.lstrip("0")) > CARD_DIGITS:
        raise StoreError(f"card number {text[:40]!r} is too long (at most {CARD_DIGITS} digits)")
    return str(int(text))


def tidy_name(name: str) -> str:
    """A name as it is stored: the ends trimmed, every run of spaces one space."""
    return " ".join(str(name).split())


def clean_name(name: str) -> str:
    """A person's name, tidied; refuse empty names and control characters."""
    name = tidy_name(name)
    if not name:
        raise StoreError("a person needs a name")
    if any(ord(c) < 32 for c in name) or len(name) > 200:
        raise StoreError(f"{name[:40]!r} is not a usable name")
    return name
