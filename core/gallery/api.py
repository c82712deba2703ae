"""A face gallery: the SQLite store, its hnswlib index, and the verbs a user needs over them.

    >>> g = Gallery("people.db")
    >>> g.enroll("Ada", ["ada1.jpg", "ada2.jpg"])
    >>> [(f.box, m.name, m.distance) for f, m in g.identify("door.jpg")]

Thread-safe: the live window identifies on one thread while the operator enrolls on another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from core.errors import FaceGateError, ManyFacesError, NoFaceError, PoorFaceError, StoreError
from core.gallery.index import IndexParams, SampleIndex
from core.gallery.match import DEFAULT_MARGIN, DEFAULT_THRESHOLD, best_match, check_personal, drop_rejected, per_person
from core.gallery.photo_views import camera_views
from core.gallery.store import PHOTO_VIEW, NewSample, Person, Store, unpack
from core.records import DESCRIPTOR_DIM, Candidate, Face, Match, Skipped
from core.vision.describe import Describer
from core.vision.detection import Detector
from core.vision.images import ImageLike, as_rgb, crop, encode_jpeg
from core.vision.quality import QualitySettings

#: Enough nearby samples to find the second-nearest person when people have many samples each.
_NEIGHBOURS = 64
#: Samples read by id rather than by reading them all (SQLite binds up to 32,766 parameters).
_FEW = 10_000


@dataclass
class EnrollResult:
    person: Person
    sample_ids: list[int]
    skipped: list[Skipped] = field(default_factory=list)


class Gallery:
    """Enroll, identify, search and manage people over one database file."""

    def __init__(
        self,
        db_path: str | Path,
        describer: Describer | None = None,
        detector: Detector | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        min_margin: float = DEFAULT_MARGIN,
        readonly: bool = False,
        index_params: IndexParams | None = None,
        timeout: float = 5.0,
        quality: QualitySettings | None = None,
    ) -> None:
        self.store = Store(db_path, timeout=timeout, readonly=readonly)
        self.describer = describer or Describer()
        self.detector = detector or Detector()
        self.quality = quality or QualitySettings()  # the gates a face passes before it is described
        self.threshold = threshold
        self.min_margin = min_margin
        index_path = None if readonly else Path(db_path).with_name(Path(db_path).name + ".hnsw")
        self.index = SampleIndex(index_path, index_params)
        self._lock = threading.RLock()
        self._owners: dict[int, int] = {}
        self._names: dict[int, str] = {}
        self._negatives: dict[int, np.ndarray] = {}  # person id -> faces marked "not this person"
        self._personal: dict[int, float] = {}  # person id -> their own stricter threshold
        try:
            self.sync_index()
        except BaseException:
            self.store.close()
            raise

    # -- housekeeping ---------------------------------------------------------------------------
    def sync_index(self) -> str:
        """Bring the index in line with the database (load, repair or rebuild); what it took."""
        with self._lock:
            owners = self.store.sample_owners()

            def vectors_of(wanted: Iterable[int]) -> np.ndarray:
                wanted = list(wanted)
                if not wanted:
                    return np.empty((0, DESCRIPTOR_DIM), np.float32)
                if len(wanted) <= _FEW:  # a spot check or a short tail: only those rows
                    marks = ",".join("?" * len(wanted))
                    found = dict(self.store.read(f"SELECT id, descriptor FROM samples WHERE id IN ({marks})", wanted))
                    return np.stack([unpack(found[i]) for i in wanted])
                all_ids, _, mat = self.store.vectors()
                row = {sid: i for i, sid in enumerate(all_ids.tolist())}
                return mat[[row[i] for i in wanted]]

            result = self.index.sync(np.fromiter(owners, np.int64, len(owners)), vectors_of)
            self._refresh_people()
            return result

    def _refresh_people(self) -> None:
        self._owners = self.store.sample_owners()
        self._names = {p.id: p.name for p in self.store.people()}
        self._personal = self.store.personal_thresholds()
        self.reload_negatives()

    def note_changes(self, owners: dict[int, int], removed: Iterable[int], names: dict[int, str], gone: Iterable[int]) -> None:
        """Follow changes written to the store by someone else (core.site applying a pull) without
        re-reading every sample: samples added or moved (sample -> person), samples removed,
        people added or renamed, people gone. The index itself is the caller's to update."""
        with self._lock:
            for sample_id in removed:
                self._owners.pop(sample_id, None)
            self._owners.update(owners)
            for person_id in gone:
                self._names.pop(person_id, None)
            self._names.update(names)
            for person_id, threshold in self.store.thresholds_of(list(names)).items():  # a site admin may have set one
                if threshold is None:
                    self._personal.pop(person_id, None)
                else:
                    self._personal[person_id] = threshold
            for person_id in gone:
                self._personal.pop(person_id, None)

    def reload_negatives(self) -> None:
        """Re-read the "not this person" marks (core.door.access_log writes them)."""
        try:
            rows = self.store.read("SELECT person_id, descriptor FROM negatives")
        except StoreError:  # a read-only database from before the door-access migration
            rows = []
        marks: dict[int, list[np.ndarray]] = {}
        for person_id, blob in rows:
            marks.setdefault(person_id, []).append(unpack(blob))
        self._negatives = {pid: np.stack(vecs) for pid, vecs in marks.items()}

    def close(self) -> None:
        self.index.close()
        self.store.close()

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- faces ----------------------------------------------------------------------------------
    def faces(self, image: ImageLike, detector: Detector | None = None) -> list[Face]:
        """Every face in ``image`` with landmarks and quality, left to right; those that pass the
        quality gates with their descriptor, the others with the ``problems`` that kept it away."""
        rgb = as_rgb(image)
        return [self.describer.describe(rgb, found, self.quality) for found in (detector or self.detector).find(rgb)]

    def query_faces(self, image: ImageLike, detector: Detector | None = None) -> list[Face]:
        """Every face in ``image`` with its descriptor, even one that fails the quality gates (its
        ``problems`` still say why): a search is worth making with a face turned aside or blurred,
        shown with a warning, where the door and enrollment must refuse it."""
        return [
            f
            if f.descriptor is not None or f.chip is None
            else replace(f, descriptor=self.describer.descriptor_from_chip(f.chip))
            for f in self.faces(image, detector)
        ]

    # -- enrollment -----------------------------------------------------------------------------
    def enroll(
        self,
        name: str,
        images: Sequence[ImageLike],
        allowed: bool | None = None,
        notes: str | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        views: tuple[int, ...] = (),
    ) -> EnrollResult:
        """Enroll ``name`` from photos holding one face each, in one transaction; ``views``: the face
        widths each photo's face is also kept at, as a door camera sees it (samples_from_photo).

        Photos that cannot be used (unreadable, no face, several faces) are skipped with the
        reason; if none is usable, NoFaceError names them all and nothing is written.
        """
        samples: list[NewSample] = []
        skipped: list[Skipped] = []
        for i, image in enumerate(images):
            label = image if isinstance(image, (str, Path)) else f"image {i + 1}"
            try:
                samples += self.samples_from_photo(image, str(label), views)
            except FaceGateError as exc:
                skipped.append((str(label), str(exc)))
            if on_progress:
                on_progress(i + 1, len(images))
        if not samples:
            reasons = "; ".join(f"{s}: {r}" for s, r in skipped) or "no images given"
            raise NoFaceError(f"nothing enrolled for {name!r}: {reasons}")
        person, ids = self.enroll_samples(name, samples, allowed=allowed, notes=notes)
        return EnrollResult(person, ids, skipped)

    def samples_from_photo(self, image: ImageLike, label: str, views: tuple[int, ...] = ()) -> list[NewSample]:
        """The one good face of a photo as a sample (faces failing the quality gates, such as small
        ones in the background, do not count), followed by that face shrunk to each of ``views``
        px wide, as a door camera sees it (core.gallery.photo_views; how "photo view", source
        "<label> (seen at N px)"); NoFaceError, PoorFaceError or ManyFacesError otherwise."""
        rgb = as_rgb(image, label)
        faces = self.faces(rgb)
        if not faces:
            raise NoFaceError(f"{label}: no face found")
        good = [f for f in faces if f.descriptor is not None]
        if not good:
            worst = max(faces, key=lambda f: f.box.area)
            raise PoorFaceError(f"{label}: the face is not good enough to enroll ({', '.join(worst.problems)})")
        if len(good) > 1:
            raise ManyFacesError(f"{label}: {len(good)} faces found; a photo to enroll from must hold one")
        seen = camera_views(self.describer, rgb, good[0].box, views)
        return [sample_of(rgb, good[0], label)] + [
            NewSample(
                v.descriptor, encode_jpeg(crop(v.rgb, v.box), quality=85), f"{label} (seen at {v.width} px)", None, PHOTO_VIEW
            )
            for v in seen
        ]

    def enroll_samples(
        self,
        name: str,
        samples: Sequence[NewSample],
        allowed: bool | None = None,
        notes: str | None = None,
        new: bool = False,
        of: int | None = None,
    ) -> tuple[Person, list[int]]:
        """Commit samples for ``name`` (one transaction; ``allowed``, ``new``, ``of``: Store.enroll), then
        make them searchable at once (the index's tail: no file is written, the database is the journal)."""
        with self._lock:
            person, ids = self.store.enroll(name, samples, allowed=allowed, notes=notes, new=new, of=of)
            self.index.add(ids, np.stack([np.asarray(s.descriptor, np.float32) for s in samples]))
            self._owners.update({i: person.id for i in ids})
            self._names[person.id] = person.name
            return person, ids

    # -- management -----------------------------------------------------------------------------
    def people(self) -> list[Person]:
        return self.store.people()

    def remove(self, name: str) -> int:
        """Delete a person and their samples; how many samples went."""
        with self._lock:
            ids = self.store.remove_person(name)
            self.index.remove(ids)
            self._refresh_people()
            return len(ids)

    def remove_sample(self, sample_id: int) -> None:
        """Delete a sample, and with a photo's sample its views (samples_from_photo): a photo taken
        away as the wrong person's must not keep naming that face through its shrunk copies. All of
        them in one transaction, so a failure leaves all of them (and the index as the database)."""
        with self._lock:
            gone = self._views_of(sample_id) + [sample_id]
            self.store.remove_sample(sample_id, *gone[:-1])
            self.index.remove(gone)
            self._refresh_people()

    def _views_of(self, sample_id: int) -> list[int]:
        found = self.store.read("SELECT person_id FROM samples WHERE id = ?", (sample_id,))
        return self.photo_views(found[0][0]).get(sample_id, []) if found else []

    def photo_views(self, person_id: int) -> dict[int, list[int]]:
        """Each of a person's samples that has camera views (samples_from_photo) -> the views'
        ids: what removing it removes too (remove_sample), what the People page shows behind it."""
        rows = self.store.read("SELECT id, source, how FROM samples WHERE person_id = ? ORDER BY id", (person_id,))
        views = [(sid, source) for sid, source, how in rows if how == PHOTO_VIEW]
        found = {}
        for sid, source, how in rows:
            mine = [view for view, seen in views if how != PHOTO_VIEW and seen.startswith(f"{source} (seen at ")]
            if mine:
                found[sid] = mine
        return found

    def rename(self, name: str, new_name: str) -> Person:
        with self._lock:
            person = self.store.rename(name, new_name)
            self._refresh_people()
            return person

    def set_allowed(self, name: str, allowed: bool) -> Person:
        return self.store.update_person(name, allowed=allowed)

    def set_cards(self, cards: Sequence[tuple[str, str | None]]) -> list[Person]:
        """Credential numbers (None clears one), all or none: see Store.set_cards."""
        return self.store.set_cards(cards)

    def set_threshold(self, name: str, threshold: float | None, door_threshold: float) -> Person:
        """Give ``name`` their own threshold, stricter than the door's ``door_threshold`` (refused
        otherwise, nothing changed), or None to follow the door's again; applies at once."""
        if threshold is not None:
            check_personal(threshold, door_threshold)
        with self._lock:
            person = self.store.set_threshold(name, threshold)
            self._refresh_people()
            return person

    # -- search ---------------------------------------------------------------------------------
    def top_k(self, descriptor: np.ndarray, k: int = 5) -> list[Candidate]:
        """The ``k`` nearest enrolled samples (not people), nearest first."""
        ids, dist = self.index.knn(descriptor, k)
        return self._sample_hits(ids, dist)

    def within(self, descriptor: np.ndarray, distance: float) -> list[Candidate]:
        """Every enrolled sample within ``distance`` (Euclidean), nearest first."""
        ids, dist = self.index.within(descriptor, distance)
        return self._sample_hits(ids, dist)

    def _sample_hits(self, ids: np.ndarray, dist: np.ndarray) -> list[Candidate]:
        owners, names = self._owners, self._names
        return [
            Candidate(owners[s], names.get(owners[s], "?"), float(d), s)
            for s, d in zip(ids.tolist(), dist.tolist(), strict=True)
            if s in owners
        ]

    def candidates(self, descriptor: np.ndarray) -> list[Candidate]:
        """One Candidate per nearby person, nearest first (at least the two nearest people)."""
        k = _NEIGHBOURS
        while True:
            ids, dist = self.index.knn(descriptor, k)
            found = drop_rejected(per_person(ids, dist, self._owners, self._names, self._personal), descriptor, self._negatives)
            if len(found) >= 2 or len(ids) < k:
                return found
            k *= 4

    def identify_descriptor(
        self, descriptor: np.ndarray, threshold: float | None = None, min_margin: float | None = None
    ) -> Match:
        match = best_match(
            self.candidates(descriptor),
            self.threshold if threshold is None else threshold,
            self.min_margin if min_margin is None else min_margin,
        )
        if not match.candidates and self._names:  # people are enrolled: "the gallery is empty" would be false
            match.reason = (
                f"none of the {len(self._names)} people enrolled can be compared: each was ruled "
                'out for this face ("not this person")'
            )
        return match

    def identify(self, image: ImageLike, threshold: float | None = None) -> list[tuple[Face, Match]]:
        """Every face in ``image`` with who it is (or no match and why), left to right; a face that
        failed the quality gates is not judged (no match, and the reason says why)."""
        return [
            (
                face,
                self.identify_descriptor(face.descriptor, threshold)
                if face.descriptor is not None
                else Match(None, None, None, None, reason=f"not judged: {', '.join(face.problems)}"),
            )
            for face in self.faces(image)
        ]


def sample_of(rgb: np.ndarray, face: Face, source: str, how: str = "photo") -> NewSample:
    """A NewSample from a described face (one that passed the quality gates): descriptor, a JPEG
    thumbnail, its source and sharpness, and how it was taken."""
    if face.descriptor is None:
        raise ValueError(f"{source}: a face that failed the quality gates has no descriptor to keep")
    thumb = encode_jpeg(crop(rgb, face.box), quality=85)
    return NewSample(face.descriptor, thumb, source, face.quality.sharpness, how)
