"""The review queue ("Recent faces"): the last faces seen at this door, and what teaches the gallery.

    >>> recent = RecentFaces(gallery)
    >>> recent.recent()                   # newest first: snapshot, verdict, nearest people, quality
    >>> recent.add(12, "Ada")             # face 12 becomes a sample of Ada - if every guard allows it
    >>> recent.add(12, "Ada", confirm=True)  # ... over the threshold, after looking at both faces
    >>> recent.undo(12)                   # the sample face 12 became is removed again (or the person enrolled)
    >>> recent.not_this(13, "Ada")        # face 13 is not Ada: never match it to her again
    >>> recent.enroll_new(14, "Courier")  # a new person from face 14
    >>> recent.dismiss(15)

One face per logged visit (the DoorDecider records it on its writer thread, with the descriptor
the worker process computed and the quality of the shot). Teaching the gallery from the camera's
own faces is what makes a strict threshold work, and also the easiest way to poison it: a
sample of the wrong person opens the door for them. So adding a sample is guarded (check_add):

1. only a good shot: past the live loop's quality gates (core.vision.quality: big, sharp, facing
   the camera, clearly a face);
2. only when the face is nearer that person than anyone else, by the decision margin;
3. only a plausible face (core.gallery.plausible): one farther than the threshold (theirs, when
   a look-alike has a stricter one of their own) from the person's nearest sample needs ``confirm`` (the operator looked at both faces), one beyond the
   distance at which faces are different people needs ``force`` (an admin); with one person
   enrolled, guard 2 is always true and this is what keeps a stranger out;
4. never when the new sample would lie within the threshold of someone else's sample - that
   other person's face would then match this person.

Guards 2 and 4 are module functions (nearest_is, not_near_others) that core.door.visitors applies
to every face of a visitor added to someone. A new person (enroll_new) is only ever created, never
added to someone whose name it turns out to share (Store.enroll's ``new``), and adding faces never
lets a blocked person in again.

Every sample the queue adds says how in its source ("review: recent face #12 (0.452 from their
nearest sample, confirmed)"), and is undone in one step (undo).

Learning mode (off by default) adds such samples by itself after a confident, live grant (the
door's consensus and liveness passed) when the face covers a condition the person's samples lack:
at least ``learn_min_spread`` from their nearest own sample, still within the threshold and
``learn_min_margin`` nearer them than anyone else, and past the same guards; at most
``learn_per_week`` per person in 7 days. Learned samples are marked (their source starts with
"learned") and undone one by one (undo).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import ClassVar

import numpy as np

from core.door.access_log import AccessEvent
from core.errors import FaceGateError, StoreError
from core.gallery.api import Gallery
from core.gallery.plausible import CONFIRM, Plausibility, plausibility
from core.gallery.store import NewSample, Person, inserted_id, now, pack, unpack
from core.gallery.stored_settings import StoredSettings
from core.records import Candidate, Quality
from core.vision.quality import problems

log = logging.getLogger("facegate.review")
LEARNED = "learned"  # the start of a learned sample's source
REVIEW = "review"  # the start of the source of a sample an operator added from the queue
_FIELDS = "id, time, event_id, verdict, name, person_id, sharpness, size, yaw, pitch, score, nearest, status, outcome, sample_id"


class Refused(FaceGateError):
    """A guard of the review queue said no; the message says which and why."""


class Implausible(Refused):
    """Guard 3: the face is too far from the person's samples to add without ``confirm`` (or,
    beyond the different-people distance, ``force``). Carries what a dialog needs to show both
    faces: ``what`` was refused ("face #12", "visitor #7"), and the person's nearest sample."""

    def __init__(self, message: str, what: str, name: str, plausible: Plausibility, sample_id: int) -> None:
        super().__init__(message)
        self.what, self.name, self.plausible, self.sample_id = what, name, plausible, sample_id

    @property
    def needs(self) -> str:
        """ "confirm" (an operator's look) or "force" (an admin)."""
        return "confirm" if self.plausible.level == CONFIRM else "force"


def own_threshold(gallery: Gallery, person: Person) -> float:
    """The distance within which the door names ``person``: the door's threshold, or their own
    stricter one (a look-alike's): a face the door would not name them on is not "within" for them."""
    return gallery.threshold if person.threshold is None else min(gallery.threshold, person.threshold)


def nearest_is(gallery: Gallery, descriptor: np.ndarray, person: Person, what: str) -> Candidate:
    """Guard 2, for any face about to become a sample of ``person``: it is nearer them than anyone
    else, by the door's margin; returns their nearest candidate (Refused otherwise)."""
    candidates = gallery.candidates(descriptor)
    if not candidates or candidates[0].person_id != person.id:
        nearest = candidates[0] if candidates else None
        raise Refused(
            f"{what} is nearer {nearest.name} ({nearest.distance:.3f}) than {person.name}"
            if nearest
            else f"{person.name} has no samples to compare {what} with"
        )
    margin = gallery.min_margin
    if len(candidates) > 1 and candidates[1].distance - candidates[0].distance < margin:
        raise Refused(
            f"{what} is not clearly {person.name}'s: {candidates[0].distance:.3f} from them, "
            f"{candidates[1].distance:.3f} from {candidates[1].name} (margin {margin:g} needed)"
        )
    return candidates[0]


def not_near_others(gallery: Gallery, descriptor: np.ndarray, person_id: int | None, name: str, what: str) -> None:
    """Guard 4: a new sample of ``name`` must not lie within the threshold of another person's
    sample (it would let that person in as ``name``); Refused otherwise."""
    threshold = gallery.threshold
    others = [c for c in gallery.within(descriptor, threshold) if c.person_id != person_id]
    if others:
        raise Refused(
            f"{what} is within {threshold:g} of {others[0].name}'s samples "
            f"({others[0].distance:.3f}): as a sample of {name} it would let {others[0].name} in as {name}"
        )


@dataclass
class ReviewSettings(StoredSettings):
    """The queue's length, the quality bars and learning mode; stored in the gallery (key "review")."""

    KEY: ClassVar[str] = "review"

    keep: int = 500  # faces kept in the queue (the oldest go first)
    learning: bool = False
    learn_per_week: int = 3  # learned samples per person in any 7 days
    learn_min_spread: float = 0.2  # from the person's nearest own sample: a condition they lack
    learn_min_margin: float = 0.1  # nearer them than anyone else, by at least this

    def check(self) -> None:
        if self.keep < 1:
            raise ValueError("the review queue keeps at least one face")
        if self.learn_per_week < 0 or self.learn_min_spread < 0 or self.learn_min_margin < 0:
            raise ValueError("learning limits cannot be negative")


@dataclass(frozen=True)
class RecentFace:
    """One face of the queue. ``nearest``: (name, distance) of the nearest people when it was seen."""

    id: int
    time: str
    event_id: int | None
    verdict: str
    name: str | None
    person_id: int | None
    quality: Quality
    nearest: list[tuple[str, float]]
    status: str  # new, added, not, enrolled, dismissed, learned, undone
    outcome: str = ""
    sample_id: int | None = None

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "time": self.time,
            "event": self.event_id,
            "verdict": self.verdict,
            "person": self.name,
            "nearest": [{"name": n, "distance": round(d, 4)} for n, d in self.nearest],
            "quality": {
                "sharpness": round(self.quality.sharpness, 1),
                "size": self.quality.size,
                "yaw": round(self.quality.yaw, 1),
                "problems": problems(self.quality),
            },
            "status": self.status,
            "outcome": self.outcome,
        }


class RecentFaces:
    """The review queue over one Gallery (its threshold and margin are the guards' numbers)."""

    def __init__(
        self, gallery: Gallery, settings: ReviewSettings | None = None, remove_sample: Callable[[int], object] | None = None
    ) -> None:
        """``remove_sample`` takes an undone sample away: at a site core.site.people.remove_sample
        (the station and the CLI hand it in), which also withdraws the door's proposal at the site,
        so no admin approves a face the door took back; alone, the gallery's own."""
        self.gallery = gallery
        self.store = gallery.store
        self.remove_sample = remove_sample or gallery.remove_sample
        self.settings = settings or ReviewSettings.load_or_default(gallery.store)[0]
        self.on_learned: list[Callable[[int], None]] = []  # called with the sample id, from the writer thread

    # -- filling ----------------------------------------------------------------------------------
    def record(
        self, event: AccessEvent, descriptor: np.ndarray, quality: Quality, nearest: list[Candidate], live_grant: bool = False
    ) -> int:
        """Queue the face of a logged visit (newest first), drop the oldest past ``keep``, and
        learn from it when learning mode is on and the door let the person in. Returns its id."""
        with self.store.write("queueing a recent face") as db:
            cur = db.execute(
                "INSERT INTO recent_faces(time, event_id, verdict, person_id, name, descriptor, snapshot, sharpness, "
                "size, yaw, pitch, score, nearest) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    event.time,
                    event.id,
                    event.verdict,
                    event.person_id,
                    event.name,
                    pack(descriptor),
                    event.snapshot,
                    quality.sharpness,
                    quality.size,
                    quality.yaw,
                    quality.pitch,
                    quality.score,
                    json.dumps([(c.name, round(c.distance, 4)) for c in nearest[:3]]),
                ),
            )
            face_id = inserted_id(cur)
            db.execute("DELETE FROM recent_faces WHERE id <= ?", (face_id - self.settings.keep,))
        if self.settings.learning and live_grant and event.person_id is not None:
            self._learn(face_id, event.person_id)
        return face_id

    # -- reading ----------------------------------------------------------------------------------
    def recent(self, limit: int = 50, pending: bool = False) -> list[RecentFace]:
        """The newest faces first; ``pending``: only those nobody has acted on."""
        sql = f"SELECT {_FIELDS} FROM recent_faces" + (" WHERE status = 'new'" if pending else "")
        return [_face(r) for r in self.store.read(sql + " ORDER BY id DESC LIMIT ?", (int(limit),))]

    def faces(self, face_ids: list[int]) -> list[RecentFace]:
        """These faces as they are now (those still queued), newest first."""
        marks = ",".join("?" * len(face_ids))
        return [
            _face(r)
            for r in self.store.read(
                f"SELECT {_FIELDS} FROM recent_faces WHERE id IN ({marks}) ORDER BY id DESC", tuple(int(i) for i in face_ids)
            )
        ]

    def face(self, face_id: int) -> RecentFace:
        rows = self.store.read(f"SELECT {_FIELDS} FROM recent_faces WHERE id = ?", (face_id,))
        if not rows:
            raise StoreError(f"no recent face {face_id} (the queue keeps the last {self.settings.keep})")
        return _face(rows[0])

    def snapshot(self, face_id: int) -> bytes | None:
        rows = self.store.read("SELECT snapshot FROM recent_faces WHERE id = ?", (face_id,))
        return rows[0][0] if rows else None

    def _descriptor(self, face_id: int) -> np.ndarray:
        self.face(face_id)
        return unpack(self.store.read("SELECT descriptor FROM recent_faces WHERE id = ?", (face_id,))[0][0])

    # -- the guards -------------------------------------------------------------------------------
    def check_add(
        self, face_id: int, name: str, confirm: bool = False, force: bool = False
    ) -> tuple[RecentFace, np.ndarray, Plausibility]:
        """Raise Refused unless face ``face_id`` may become a sample of ``name`` (``confirm``: an
        operator looked at both faces; ``force``: an admin overrides the different-people distance);
        returns the face, its descriptor and how far it lies from the person's nearest sample."""
        face = self.face(face_id)
        person = self.gallery.store.person(name)
        descriptor = self._descriptor(face_id)
        self._good_shot(face)
        own = nearest_is(self.gallery, descriptor, person, f"face {face_id}")
        plausible = plausibility(own.distance, own_threshold(self.gallery, person))
        why = plausible.refusal(person.name, confirmed=confirm, forced=force)
        if why is not None:
            raise Implausible(f"face {face_id}: {why}", f"face #{face_id}", person.name, plausible, own.sample_id)
        not_near_others(self.gallery, descriptor, person.id, person.name, f"face {face_id}")
        return face, descriptor, plausible

    def _good_shot(self, face: RecentFace) -> None:
        failed = problems(face.quality)
        if failed:
            raise Refused(f"face {face.id} is not a good shot: {', '.join(failed)}")

    # -- acting -----------------------------------------------------------------------------------
    def add(self, face_id: int, name: str, confirm: bool = False, force: bool = False) -> int:
        """Add the face as a sample of ``name`` (every guard first; see check_add); returns the
        sample id. Its source says how: the distance, and whether it was confirmed or forced."""
        face, descriptor, plausible = self.check_add(face_id, name, confirm, force)
        return self._add(
            face,
            descriptor,
            name,
            f"{REVIEW}: recent face #{face_id} ({plausible.distance:.3f} from their nearest sample{plausible.how})",
            "added",
        )

    def _add(self, face: RecentFace, descriptor: np.ndarray, name: str, source: str, status: str, of: int | None = None) -> int:
        sample = NewSample(
            descriptor,
            self.snapshot(face.id),
            source,
            face.quality.sharpness,
            "learning" if source.startswith(LEARNED) else "review",
        )
        person, (sample_id,) = self.gallery.enroll_samples(name, [sample], of=of)
        self._mark(face.id, status, f"sample {sample_id} of {person.name}", sample_id)
        log.info("recent face #%d %s as sample %d of %s", face.id, status, sample_id, person.name)
        return sample_id

    def not_this(self, face_id: int, name: str) -> None:
        """The face is not ``name``: matching skips them for faces nearer this one than their own samples."""
        face = self.face(face_id)
        person = self.gallery.store.person(name)
        with self.store.write(f"marking recent face {face_id} as not {person.name}") as db:
            db.execute(
                "INSERT INTO negatives(person_id, descriptor, event_id, created) VALUES(?,?,?,?)",
                (person.id, pack(self._descriptor(face_id)), face.event_id, now()),
            )
            if face.event_id is not None and face.person_id == person.id:
                db.execute("UPDATE access_events SET not_this_person = 1 WHERE id = ?", (face.event_id,))
            db.execute("UPDATE recent_faces SET status = 'not', outcome = ? WHERE id = ?", (f"not {person.name}", face_id))
        self.gallery.reload_negatives()

    def enroll_new(self, face_id: int, name: str, allowed: bool = True) -> int:
        """A new person from this face (a good shot, near nobody enrolled); returns the sample id."""
        face = self.face(face_id)
        if (existing := self.gallery.store.find_person(name)) is not None:
            raise Refused(f"{existing.name} is already enrolled: add the face to them instead")
        self._good_shot(face)
        descriptor = self._descriptor(face_id)
        not_near_others(self.gallery, descriptor, None, name, f"face {face_id}")
        sample = NewSample(
            descriptor,
            self.snapshot(face_id),
            f"{REVIEW}: recent face #{face_id}, a new person",
            face.quality.sharpness,
            "review",
        )
        person, (sample_id,) = self.gallery.enroll_samples(name, [sample], allowed=allowed, new=True)
        self._mark(face_id, "enrolled", f"enrolled as {person.name}", sample_id)
        return sample_id

    def dismiss(self, face_id: int) -> None:
        self.face(face_id)
        self._mark(face_id, "dismissed", "dismissed")

    def apply(
        self, face_ids: list[int], action: str, name: str = "", confirm: bool = False, force: bool = False
    ) -> list[tuple[int, Refused | str | None]]:
        """One action on several faces (a multi-selection): (face id, None or why it was refused)
        each; a guard's refusal is the Refused itself (an Implausible one may be confirmed face by
        face). ``enroll`` makes the person from the first face it can and adds the others to them."""
        results: list[tuple[int, Refused | str | None]] = []
        for face_id in face_ids:
            try:
                if action == "add" or (
                    action == "enroll" and self.store.find_person(name) is not None and any(r is None for _, r in results)
                ):
                    self.add(face_id, name, confirm, force)
                elif action == "enroll":
                    self.enroll_new(face_id, name)
                elif action == "not":
                    self.not_this(face_id, name)
                elif action == "dismiss":
                    self.dismiss(face_id)
                else:
                    raise ValueError(f"no review action {action!r} (add, not, enroll, dismiss)")
                results.append((face_id, None))
            except Refused as exc:
                results.append((face_id, exc))
            except FaceGateError as exc:
                results.append((face_id, str(exc)))
        return results

    def _mark(self, face_id: int, status: str, outcome: str, sample_id: int | None = None) -> None:
        with self.store.write("marking a recent face") as db:
            db.execute(
                "UPDATE recent_faces SET status = ?, outcome = ?, sample_id = coalesce(?, sample_id) WHERE id = ?",
                (status, outcome, sample_id, face_id),
            )

    # -- learning mode ----------------------------------------------------------------------------
    def _learn(self, face_id: int, person_id: int) -> int | None:
        """After a live grant: add the face when it covers a condition the person's samples lack."""
        s = self.settings
        face = self.face(face_id)
        descriptor = self._descriptor(face_id)
        candidates = self.gallery.candidates(descriptor)
        if not candidates or candidates[0].person_id != person_id:
            return None
        nearest = candidates[0]
        margin = candidates[1].distance - nearest.distance if len(candidates) > 1 else None
        why = None
        if nearest.distance < s.learn_min_spread:
            why = f"nothing new ({nearest.distance:.3f} from a sample of theirs)"
        elif nearest.distance > own_threshold(self.gallery, self.gallery.store.person(person_id)):
            why = "not within the threshold (theirs, if they have their own)"
        elif margin is not None and margin < s.learn_min_margin:
            why = f"not clearly theirs (margin {margin:.3f})"
        elif self.learned_this_week(person_id) >= s.learn_per_week:
            why = f"already {s.learn_per_week} learned this week"
        if why is None:
            try:
                self._good_shot(face)
                not_near_others(self.gallery, descriptor, person_id, nearest.name, f"face {face_id}")
            except Refused as exc:
                why = str(exc)
        if why is not None:
            log.debug("learning mode: recent face #%d not learned: %s", face_id, why)
            return None
        try:
            sample_id = self._add(
                face,
                descriptor,
                nearest.name,
                f"{LEARNED}: recent face #{face_id} ({nearest.distance:.3f} from their nearest sample)",
                LEARNED,
                of=person_id,
            )
        except StoreError as exc:  # removed since the checks above (the site's sync): nothing learned
            log.info("learning mode: recent face #%d not learned: %s", face_id, exc)
            return None
        for callback in list(self.on_learned):
            callback(sample_id)
        return sample_id

    def learned_this_week(self, person_id: int) -> int:
        since = (datetime.now(timezone.utc) - timedelta(days=7)).isoformat(timespec="milliseconds")
        return self.store.read(
            "SELECT count(*) FROM samples WHERE person_id = ? AND source LIKE 'learned%' AND created >= ?", (person_id, since)
        )[0][0]

    def learned(self) -> list[dict]:
        """Every learned sample still in the gallery: sample id, person, when, from which face
        (its id, or None once the face has left the queue)."""
        rows = self.store.read(
            "SELECT s.id, p.name, s.created, s.source, r.id FROM samples s JOIN people p "
            "ON p.id = s.person_id LEFT JOIN recent_faces r ON r.sample_id = s.id "
            "WHERE s.source LIKE 'learned%' ORDER BY s.id DESC"
        )
        return [{"sample": r[0], "person": r[1], "time": r[2], "source": r[3], "face": r[4]} for r in rows]

    def undo(self, face_id: int) -> int:
        """Remove the sample face ``face_id`` became (added, learned, or the first sample of a person
        enrolled from it: that person goes too once they have no other sample); the face goes back
        to the queue as 'undone'. Returns the sample id."""
        face = self.face(face_id)
        if face.status not in ("added", LEARNED, "enrolled") or face.sample_id is None:
            raise StoreError(f"face {face_id} was not added as a sample (it is {face.status}); nothing to undo")
        owner = self.store.read("SELECT person_id FROM samples WHERE id = ?", (face.sample_id,))
        self.undo_sample(face.sample_id)
        if face.status == "enrolled" and owner:
            person = self.store.person(int(owner[0][0]))
            if person.sample_count == 0:
                self.gallery.remove(person.name)
                log.info("%s, enrolled from recent face #%d, removed again", person.name, face_id)
        return face.sample_id

    def undo_sample(self, sample_id: int) -> None:
        """Remove a sample this queue added (learned or added from review), even once its face has
        left the queue; its face, if still queued, is marked 'undone'."""
        rows = self.store.read("SELECT source FROM samples WHERE id = ?", (sample_id,))
        if not rows or not str(rows[0][0]).startswith((LEARNED, REVIEW)):
            raise StoreError(f"sample {sample_id} was not added by the review queue or learning mode")
        self.remove_sample(sample_id)
        with self.store.write("undoing a sample from the review queue") as db:
            db.execute(
                "UPDATE recent_faces SET status = 'undone', outcome = status || ', then undone' WHERE sample_id = ?", (sample_id,)
            )
        log.info("sample %d (from the review queue) undone", sample_id)


def _face(row: tuple) -> RecentFace:
    (id_, time, event_id, verdict, name, person_id, sharpness, size, yaw, pitch, score, nearest, status, outcome, sample_id) = row
    return RecentFace(
        id_,
        time,
        event_id,
        verdict,
        name,
        person_id,
        Quality(sharpness, size, yaw, pitch, score),
        [(n, d) for n, d in json.loads(nearest)],
        status,
        outcome,
        sample_id,
    )
