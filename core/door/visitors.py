"""Unknown visitors grouped by face: the same stranger coming back is one visitor, not a new one.

    >>> visitors = Visitors(gallery.store)
    >>> visitor_id, new = visitors.assign([d1, d2, d3], time, snapshot, quality)   # one Unknown visit
    >>> [(v.id, v.first_seen, v.last_seen, v.visits) for v in visitors.all()]
    >>> visitors.enroll(7, gallery, "Courier")     # a person from all of visitor 7's faces
    >>> visitors.enroll(8, gallery, "Courier", confirm=True)   # added to them: the review queue's rule
    >>> visitors.purge()                           # snapshots of never-enrolled visitors past retention

Each Unknown decision of the door (one visit: a track that matched nobody) brings the visit's
descriptors. The visit joins the visitor with the nearest kept face when that face is within
``threshold`` of one of the visit's descriptors; otherwise it starts a new visitor. The
threshold, 0.5, was measured on the bundled clip (haar+hog detector) and photos: Lin-Manuel's three tracks
of the clip (one of them a 50 px face) are at 0.34-0.47 from each other at their nearest, the clip's other man
at 0.58 from any of them; across the shared photos one person's pairs are at most 0.53 (92 % under
0.5) and two people's at least 0.70. It is looser than the door's 0.4 because a wrong join only
puts two strangers under one id (the door is never opened by a visitor), and a missed one is
the noise this module exists to remove.

A visitor keeps up to ``faces_kept`` faces (descriptor, snapshot), each farther than
``diverse`` from the ones already kept, so coming back in another light or pose widens what is
recognised; and the best snapshot (sharpest, biggest) for the window. Snapshots and faces of a
visitor never enrolled are deleted ``retention_days`` after they were last seen, with their faces
in the review queue (their access-log entries stay, without the snapshot and descriptor).

Runs on the DoorDecider's access-log writer thread (assign) and from the window or the CLI
(all, enroll, purge): the in-memory copy of the kept descriptors is guarded by a lock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from core.door.passes import Passes, at_site, validate
from core.door.review import Implausible, nearest_is, not_near_others, own_threshold
from core.door.schedule import Window
from core.errors import StoreError
from core.gallery.api import EnrollResult
from core.gallery.plausible import Plausibility, plausibility
from core.gallery.store import NewSample, Person, inserted_id, now, pack, unpack
from core.gallery.stored_settings import StoredSettings

if TYPE_CHECKING:
    from core.gallery.api import Gallery
    from core.gallery.store import Store

log = logging.getLogger("facegate.visitors")


@dataclass
class VisitorSettings(StoredSettings):
    """How unknown faces are grouped and how long they are kept; stored in the gallery (key "visitors")."""

    KEY: ClassVar[str] = "visitors"

    threshold: float = 0.5  # a visit joins a visitor whose kept face is this near (Euclidean)
    faces_kept: int = 20  # per visitor
    diverse: float = 0.2  # a new face is kept only this far from every kept one
    retention_days: float = 30.0  # snapshots of visitors never enrolled, after they were last seen; expired passes
    access_log_days: float = 0.0  # access-log rows older than this are deleted (core.door.retention); 0: kept

    def check(self) -> None:
        if not 0 < self.threshold < 1.2:
            raise ValueError(f"visitor threshold {self.threshold} must be between 0 and 1.2")
        if self.faces_kept < 1:
            raise ValueError("a visitor keeps at least one face")
        if self.retention_days <= 0:
            raise ValueError("the retention period must be above 0 days")
        if self.access_log_days < 0:
            raise ValueError("the access log's retention cannot be negative (0 keeps every row)")


@dataclass(frozen=True)
class Visitor:
    """One unknown visitor: ``visits`` Unknown decisions since ``first_seen`` (UTC ISO times)."""

    id: int
    first_seen: str
    last_seen: str
    visits: int
    faces: int
    enrolled_as: str | None = None

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "visits": self.visits,
            "faces": self.faces,
            "enrolled_as": self.enrolled_as,
        }


class Visitors:
    """The visitors of one gallery Store."""

    def __init__(self, store: Store, settings: VisitorSettings | None = None) -> None:
        self.store = store
        self.settings = settings or VisitorSettings.load_or_default(store)[0]
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None  # every kept face's descriptor, and its visitor
        self._owners: np.ndarray | None = None

    # -- grouping ----------------------------------------------------------------------------------
    def assign(
        self, descriptors: list[np.ndarray], time: str | None = None, snapshot: bytes | None = None, quality: float = 0.0
    ) -> tuple[int, bool]:
        """Put one Unknown visit into its visitor (a new one if nobody kept is near); returns the
        visitor's id and whether it is new."""
        if not descriptors:
            raise ValueError("a visit needs at least one descriptor to be grouped")
        time = time or now()
        probes = np.asarray(descriptors, dtype=np.float64).reshape(len(descriptors), -1)
        with self._lock:
            vectors, owners = self._kept()
            joined = self._nearest(probes, vectors, owners)
            new = joined is None
            with self.store.write("grouping an unknown visitor") as db:
                if joined is None:
                    cur = db.execute(
                        "INSERT INTO visitors(first_seen, last_seen, visits, best_snapshot, best_quality) VALUES(?,?,1,?,?)",
                        (time, time, snapshot, quality),
                    )
                    visitor_id = inserted_id(cur)
                else:
                    visitor_id = joined
                    db.execute(
                        "UPDATE visitors SET visits = visits + 1, last_seen = max(last_seen, ?) WHERE id = ?", (time, visitor_id)
                    )
                    if snapshot is not None:
                        db.execute(
                            "UPDATE visitors SET best_snapshot = ?, best_quality = ? WHERE id = ? AND "
                            "(best_snapshot IS NULL OR coalesce(best_quality, 0) < ?)",
                            (snapshot, quality, visitor_id, quality),
                        )
                kept = self._to_keep(
                    probes,
                    vectors[owners == visitor_id] if len(vectors) else vectors,
                    int((owners == visitor_id).sum()) if len(vectors) else 0,
                )
                for i, vector in enumerate(kept):
                    db.execute(
                        "INSERT INTO visitor_faces(visitor_id, time, descriptor, snapshot, quality) VALUES(?,?,?,?,?)",
                        (visitor_id, time, pack(vector), snapshot if i == 0 else None, quality),
                    )
            if kept:
                self._vectors = np.vstack([vectors, *kept]) if len(vectors) else np.asarray(kept)
                self._owners = np.concatenate([owners, np.full(len(kept), visitor_id)])
        log.info("unknown visitor #%d: %s", visitor_id, "first visit" if new else "came back")
        return visitor_id, new

    def _nearest(self, probes: np.ndarray, vectors: np.ndarray, owners: np.ndarray) -> int | None:
        """The visitor with a kept face within the threshold of one of the probes (the nearest such)."""
        if not len(vectors):
            return None
        distances = np.linalg.norm(vectors[None, :, :] - probes[:, None, :], axis=2).min(axis=0)
        nearest = int(np.argmin(distances))
        return int(owners[nearest]) if distances[nearest] <= self.settings.threshold else None

    def _to_keep(self, probes: np.ndarray, theirs: np.ndarray, count: int) -> list[np.ndarray]:
        """The visit's descriptors worth keeping: far enough from the visitor's kept faces and each other."""
        chosen: list[np.ndarray] = []
        for probe in probes:
            if count + len(chosen) >= self.settings.faces_kept:
                break
            others = [*theirs, *chosen]
            if not others or min(np.linalg.norm(o - probe) for o in others) > self.settings.diverse:
                chosen.append(probe)
        return chosen

    def _kept(self) -> tuple[np.ndarray, np.ndarray]:
        if self._vectors is None or self._owners is None:
            rows = self.store.read("SELECT visitor_id, descriptor FROM visitor_faces ORDER BY id")
            self._owners = np.array([r[0] for r in rows], dtype=np.int64)
            self._vectors = np.array([unpack(r[1]) for r in rows]) if rows else np.zeros((0, 128))
        return self._vectors, self._owners

    def forget_cache(self) -> None:
        with self._lock:
            self._vectors = self._owners = None

    # -- reading -----------------------------------------------------------------------------------
    def all(self) -> list[Visitor]:
        """Every visitor, the most recently seen first."""
        rows = self.store.read(
            "SELECT v.id, v.first_seen, v.last_seen, v.visits, (SELECT count(*) FROM visitor_faces f "
            "WHERE f.visitor_id = v.id), p.name FROM visitors v LEFT JOIN people p ON p.id = v.person_id "
            "ORDER BY v.last_seen DESC, v.id DESC"
        )
        return [Visitor(*row) for row in rows]

    def visitor(self, visitor_id: int) -> Visitor:
        found = [v for v in self.all() if v.id == visitor_id]
        if not found:
            raise StoreError(f"no unknown visitor #{visitor_id}")
        return found[0]

    def best_snapshot(self, visitor_id: int) -> bytes | None:
        rows = self.store.read("SELECT best_snapshot FROM visitors WHERE id = ?", (visitor_id,))
        return rows[0][0] if rows else None

    def faces(self, visitor_id: int) -> list[tuple[np.ndarray, bytes | None]]:
        """The kept faces of a visitor: (descriptor, snapshot or None), oldest first."""
        rows = self.store.read("SELECT descriptor, snapshot FROM visitor_faces WHERE visitor_id = ? ORDER BY id", (visitor_id,))
        return [(unpack(d), s) for d, s in rows]

    # -- acting ------------------------------------------------------------------------------------
    def enroll(
        self,
        visitor_id: int,
        gallery: Gallery,
        name: str,
        allowed: bool | None = None,
        confirm: bool = False,
        force: bool = False,
        until: str | None = None,
        since: str | None = None,
        schedule: list[Window] | None = None,
    ) -> EnrollResult:
        """Enroll (or add to) the person ``name`` from every kept face of the visitor, in one
        transaction; the visitor is marked enrolled (and so never purged). Returns the EnrollResult.

        ``until`` (and ``since``), stored times: the person holds a visitor pass (core.door.passes),
        valid only inside the weekly windows of ``schedule`` when it is given (a per-schedule pass).
        A new pass holder is enrolled not allowed and allowed once the pass is saved, so a failure
        between the two leaves them out, never in without their pass.

        Adding to someone already enrolled follows the review queue's rule (core.gallery.plausible)
        for the visitor's face farthest from their samples: over the threshold it needs ``confirm``,
        beyond the different-people distance ``force`` (else Implausible); and it never changes
        whether they may enter (``allowed`` is for a new person only)."""
        if schedule is not None and until is None:
            raise StoreError("a schedule is for a visitor pass: give its end too (nobody was enrolled)")
        if until is not None:
            validate(until, since, schedule)
            if at_site(self.store):  # the site's pull would drop a door's own pass
                raise StoreError(
                    f"at a site visitor passes are the site admin's: enroll {name!r} without --until, then on an "
                    f"admin PC: facegate site pass set {name!r} UNTIL (nobody was enrolled)"
                )
        visitor = self.visitor(visitor_id)
        faces = self.faces(visitor_id)
        if not faces:
            raise StoreError(f"visitor #{visitor_id} has no faces kept (deleted after the retention period)")
        distance_note = ""
        person = gallery.store.find_person(name)
        if person is not None:
            for descriptor, _ in faces:  # each face, as the review queue's guards 2 and 4 judge one
                nearest_is(gallery, descriptor, person, f"visitor #{visitor_id}'s face")
                not_near_others(gallery, descriptor, person.id, person.name, f"visitor #{visitor_id}'s face")
            plausible, sample_id = _farthest(gallery, person, [d for d, _ in faces])
            why = plausible.refusal(person.name, confirmed=confirm, forced=force)
            if why is not None:
                raise Implausible(
                    f"visitor #{visitor_id} (its face farthest from {person.name}'s samples): {why}",
                    f"visitor #{visitor_id}",
                    person.name,
                    plausible,
                    sample_id,
                )
            distance_note = f" ({plausible.distance:.3f} from their nearest sample{plausible.how})"
            allowed = None
        samples = [
            NewSample(descriptor, snapshot, f"unknown visitor #{visitor_id}{distance_note}", how="visitor")
            for descriptor, snapshot in faces
        ]
        let_in = person is None and allowed is not False  # a new person, allowed once their pass is saved
        if person is None:  # nobody of that name has as much as a sample near these faces' owner
            for descriptor, _ in faces:
                not_near_others(gallery, descriptor, None, name, f"visitor #{visitor_id}'s face")
        enrolled, ids = gallery.enroll_samples(
            name, samples, allowed=False if until is not None and person is None else allowed, new=person is None
        )
        if until is not None:
            Passes(self.store).set(enrolled.id, until, since, schedule)
            if let_in:
                gallery.set_allowed(enrolled.name, True)
                enrolled = gallery.store.person(enrolled.id)
        result = EnrollResult(enrolled, ids)
        with self.store.write(f"marking visitor #{visitor_id} enrolled") as db:
            db.execute("UPDATE visitors SET person_id = ?, enrolled = ? WHERE id = ?", (result.person.id, now(), visitor.id))
        log.info("unknown visitor #%d enrolled as %s from %d faces", visitor_id, result.person.name, len(samples))
        return result

    def purge(self, at: datetime | None = None) -> int:
        """Delete the visitors never enrolled and not seen for ``retention_days``, with their faces
        and the snapshots and descriptors of their access-log entries; returns how many went."""
        at = at or datetime.now(timezone.utc)
        cutoff = (at - timedelta(days=self.settings.retention_days)).astimezone(timezone.utc).isoformat(timespec="milliseconds")
        old = [
            r[0]
            for r in self.store.read(
                "SELECT id FROM visitors WHERE person_id IS NULL AND enrolled IS NULL AND last_seen < ?", (cutoff,)
            )
        ]
        if not old:
            return 0
        with self.store.write("deleting old visitors' snapshots") as db:
            for visitor_id in old:  # their faces in the review queue (core.door.review) go too
                db.execute(
                    "DELETE FROM recent_faces WHERE event_id IN (SELECT id FROM access_events WHERE visitor_id = ?)",
                    (visitor_id,),
                )
                db.execute("UPDATE access_events SET snapshot = NULL, descriptor = NULL WHERE visitor_id = ?", (visitor_id,))
                db.execute("DELETE FROM visitors WHERE id = ?", (visitor_id,))
        self.forget_cache()
        log.info("deleted %d unknown visitors not seen for %g days, with their snapshots", len(old), self.settings.retention_days)
        return len(old)


def _farthest(gallery: Gallery, person: Person, descriptors: list[np.ndarray]) -> tuple[Plausibility, int]:
    """How plausible the visitor's face farthest from the person's samples is (against their own
    threshold, if stricter), and the person's sample nearest that face."""
    samples = gallery.store.samples(person.id)
    if not samples:
        raise StoreError(f"{person.name} has no samples to compare the visitor with")
    own = np.stack([s.descriptor for s in samples])
    distances = np.linalg.norm(own[None, :, :] - np.stack(descriptors)[:, None, :], axis=2)  # faces x samples
    face = int(np.argmax(distances.min(axis=1)))
    nearest = int(np.argmin(distances[face]))
    return plausibility(float(distances[face, nearest]), own_threshold(gallery, person)), samples[nearest].id
