"""Video scan: find every face in a video file, keep them, and search them by face.

    >>> lib = ScanLibrary(gallery)
    >>> lib.scan("party.mp4", ScanSettings(every=5), on_progress=print)
    >>> for hit in lib.similar_to_photo("suspect.jpg")[0][1]:
    ...     print(hit.face.video, hit.face.frame, hit.distance, hit.count)

Found faces live in tables of their own (scan_videos, scan_faces) beside the people, written
through the gallery's single Store connection, so scanning never changes who the door knows;
a found face becomes a person only when the operator enrolls it. They are searched exactly with
numpy (a few thousand faces take well under a millisecond), never through the people's index.

A scan follows each face from frame to frame and keeps a descriptor of its most frontal view
in each half second of video (core.tools.scan_tracks): a descriptor (12-15 ms) costs more than
finding every face of the frame (YuNet, ~5 ms). Every shot a face is in keeps at least one of its
views (a cut ends every followed face), so a search still finds every appearance.

Kept faces of one person in one shot are often alike; a result list folds each face
closer than ``fold_distance`` to an already listed, nearer face under that representative, so
the list shows distinct appearances with a count instead of a copy every half second of one shot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

from core.errors import FaceGateError
from core.gallery.api import Gallery, sample_of
from core.gallery.store import NewSample, Person, now, pack, unpack
from core.gallery.stored_settings import StoredSettings
from core.records import DESCRIPTOR_DIM, Box, Face
from core.tools.scan_tracks import Ended, FaceFollower, View, offer_poor
from core.vision.detection import DEFAULT_METHOD, METHODS, Detector
from core.vision.images import ImageLike, as_rgb
from core.vision.quality import precheck

#: Faces closer than this to a listed face are folded under it (Euclidean).
DEFAULT_FOLD = 0.3


class VideoError(FaceGateError):
    """A video file is missing or cannot be decoded."""


@dataclass
class ScanSettings:
    """How to scan: look at every ``every``-th frame with this detector.

    YuNet with ``min_face`` 40 by default: it finds 40 px faces (which HOG needs an upsample and
    ~2 s a 1080p frame for) at a few ms a frame. Faces that fail the gallery's quality gates are
    counted but not kept: their descriptors would send a search to the wrong people.

    Each face is followed across the scanned frames, and only its most frontal view in each
    ``describe_seconds`` of video is described and kept (core.tools.scan_tracks); 0 describes
    every face of every scanned frame, as scans did before.
    """

    every: int = 5
    method: str = DEFAULT_METHOD
    min_face: int = 40
    describe_seconds: float = 0.5
    #: Write what was found at most this often (seconds), one short transaction per batch.
    batch_seconds: float = 2.0


@dataclass
class ScanChoices(StoredSettings):
    """What the operator last chose for scanning and listing (the Video scan page): every Nth
    frame, the detector, and the fold distance. Kept in the gallery (key "scan")."""

    KEY: ClassVar[str] = "scan"

    every: int = ScanSettings.every
    method: str = ScanSettings.method
    fold: float = DEFAULT_FOLD

    def check(self) -> None:
        if self.every < 1:
            raise ValueError(f"scan every {self.every} frames: must be at least 1")
        if self.method not in METHODS:
            raise ValueError(f"unknown detector {self.method!r}; choose one of {', '.join(METHODS)}")
        if not 0 <= self.fold <= 2:
            raise ValueError(f"fold distance {self.fold} must be between 0 and 2")


@dataclass
class ScanResult:
    video_id: int | None  # None when the scan was cancelled before anything was kept
    path: str
    frames_read: int
    frames_scanned: int
    faces: int
    cancelled: bool
    seconds: float
    #: Views that failed the quality gates (too small, turned away: checked on every view; blurred:
    #: on the views tried for a descriptor).
    poor: int = 0
    #: Every face the detector saw in the scanned frames (views). Of each followed face's half
    #: second, one view is kept (core.tools.scan_tracks); the others are neither described nor stored.
    seen: int = 0
    #: Faces kept from a poor view: followed faces none of whose views passed the gates (in ``faces``).
    poor_faces: int = 0

    @property
    def frames_per_second(self) -> float:
        """Scanned (not merely decoded) frames per second."""
        return self.frames_scanned / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ScannedVideo:
    """A scanned video file; ``faces`` counts its found faces (while scanning: those written so far)."""

    id: int | None  # None while a scan has written nothing yet
    path: str
    name: str
    fps: float
    frame_count: int
    width: int
    height: int
    every: int
    frames_scanned: int
    complete: bool
    scanned: str
    faces: int = 0


@dataclass(frozen=True)
class ScannedFace:
    """A face found in a video: which video, which frame, when (s), where."""

    id: int
    video_id: int
    video: str
    frame: int
    time: float
    box: Box
    poor: str = ""  # the quality gates its best view failed ("" for a good face): shown with a warning


@dataclass
class SimilarFace:
    """A found face near the query, and the near-duplicates folded under it (nearest first)."""

    face: ScannedFace
    distance: float
    folded: list[ScannedFace] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many found faces this entry stands for (itself and its folded duplicates)."""
        return 1 + len(self.folded)


@dataclass
class _Searchable:
    """What a search needs in memory: the found faces, their descriptors and squared norms."""

    generation: int
    faces: list[ScannedFace]
    vectors: np.ndarray = field(repr=False)
    sq: np.ndarray = field(repr=False)
    poor: np.ndarray = field(repr=False)  # which faces were kept from a poor view


class ScanLibrary:
    """The scanned videos of one gallery: scan, list, search, show and enroll from found faces."""

    def __init__(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self.store = gallery.store
        self._lock = threading.Lock()
        self._cache: _Searchable | None = None

    # -- scanning -----------------------------------------------------------------------------
    def scan(
        self,
        path: str | Path,
        settings: ScanSettings | None = None,
        on_progress: Callable[[int, int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> ScanResult:
        """Scan ``path`` and keep every face found.

        ``on_progress(frames_read, frame_count, faces_found)`` is called after each scanned
        frame; when ``should_stop()`` turns true the scan ends there and what it found so far
        is kept, marked incomplete. Faces are written in batches (every few seconds), so memory
        stays flat on a long video and a crash loses only the last batch. A new scan of the
        same file replaces the old one from its first batch on.
        """
        settings = settings or ScanSettings()
        if settings.every < 1:
            raise FaceGateError("scan every N frames: N must be at least 1")
        if settings.describe_seconds < 0:
            raise FaceGateError(f"describe a followed face every {settings.describe_seconds} s: must be 0 or more")
        path = Path(path)
        cap = _open_video(path)
        detector = Detector(settings.method, min_face=settings.min_face)
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        fps = fps if 1.0 <= fps <= 1000.0 else 25.0
        total = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        video = ScannedVideo(
            None,
            str(path.resolve()),
            path.name,
            fps,
            total,
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            settings.every,
            0,
            False,
            now(),
        )
        rows: list[tuple] = []
        follower = FaceFollower(round(settings.describe_seconds * fps))
        gate = self.gallery.quality
        started = last_write = time.perf_counter()
        index = poor = seen = 0
        kept_poor = [0]
        cancelled = False
        try:
            while True:
                if should_stop is not None and should_stop():
                    cancelled = True
                    break
                if index % settings.every:
                    if not cap.grab():
                        break
                    index += 1
                    continue
                ok, bgr = cap.read()
                if not ok:
                    break
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                found = detector.find(rgb)
                usable = [not precheck(d, gate) for d in found]
                seen, poor = seen + len(found), poor + usable.count(False)
                for ended in follower.follow(rgb, index, found, usable):
                    poor += self._keep_best(ended, rows, fps, kept_poor)
                video.frames_scanned += 1
                index += 1
                if rows and time.perf_counter() - last_write >= settings.batch_seconds:
                    self._write(video, rows, index, complete=False)
                    rows, last_write = [], time.perf_counter()
                if on_progress is not None:
                    on_progress(index, max(total, index), video.faces + len(rows))
            for ended in follower.flush():  # the faces on screen at the end (or at the cancel)
                poor += self._keep_best(ended, rows, fps, kept_poor)
        finally:
            cap.release()
        if video.frames_scanned == 0 and not cancelled:
            raise VideoError(f"{path}: no frame could be decoded; the file is damaged or not a video")
        if video.id is not None or rows or not cancelled:
            self._write(video, rows, index, complete=not cancelled)
        if on_progress is not None and not cancelled:
            on_progress(index, index, video.faces)  # the end: the true frame count is known now
        return ScanResult(
            video.id,
            str(path),
            index,
            video.frames_scanned,
            video.faces,
            cancelled,
            time.perf_counter() - started,
            poor,
            seen,
            kept_poor[0],
        )

    def _keep_best(self, ended: Ended, rows: list[tuple], fps: float, kept_poor: list[int]) -> int:
        """Describe the best of a followed face's views that passes the quality gates and add it
        to ``rows``; when the face ends with no good view kept, keep its best poor view, marked
        poor. Returns how many views failed the chip's gates on the way."""
        describer, gate = self.gallery.describer, self.gallery.quality
        failed = 0
        for view in ended.views:
            face = describer.describe(view.rgb, view.detection, gate)
            if face.descriptor is not None:
                self._row(rows, view, face, fps, "")
                ended.face.kept = True
                break
            failed += 1
            offer_poor(ended.face, view)
        if ended.final and not ended.face.kept and ended.face.poor is not None:
            view = ended.face.poor
            face = describer.describe(view.rgb, view.detection, gate)
            if face.chip is not None:
                face = replace(face, descriptor=describer.descriptor_from_chip(face.chip))
                self._row(rows, view, face, fps, ", ".join(face.problems or precheck(view.detection, gate)) or "poor")
                kept_poor[0] += 1
        return failed

    @staticmethod
    def _row(rows: list[tuple], view: View, face: Face, fps: float, poor: str) -> None:
        sample = sample_of(view.rgb, face, "", how="scan")
        rows.append(
            (view.frame, view.frame / fps, *face.box.as_tuple(), pack(sample.descriptor), sample.thumbnail, sample.quality, poor)
        )

    def _write(self, video: ScannedVideo, rows: list[tuple], frames_read: int, complete: bool) -> None:
        """One transaction: the video's row (replacing an older scan of the file, the first time)
        and a batch of its faces."""
        with self.store.write(f"keeping the faces found in {video.name}") as db:
            if video.id is None:
                db.execute("DELETE FROM scan_videos WHERE path = ?", (video.path,))
                video.id = db.execute(
                    "INSERT INTO scan_videos(path, name, fps, frame_count, width, height, every, frames_scanned, "
                    "complete, scanned) VALUES(?,?,?,?,?,?,?,0,0,?)",
                    (video.path, video.name, video.fps, video.frame_count, video.width, video.height, video.every, video.scanned),
                ).lastrowid
            db.conn.executemany(
                "INSERT INTO scan_faces(video_id, frame, time, left, top, right, bottom, descriptor, thumbnail, "
                "quality, poor) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                [(video.id, *r) for r in rows],
            )
            db.execute(
                "UPDATE scan_videos SET frames_scanned = ?, complete = ?, frame_count = ? WHERE id = ?",
                (video.frames_scanned, int(complete), max(video.frame_count, frames_read), video.id),
            )
        video.faces += len(rows)

    # -- listing --------------------------------------------------------------------------------
    def videos(self) -> list[ScannedVideo]:
        rows = self.store.read(
            "SELECT v.id, v.path, v.name, v.fps, v.frame_count, v.width, v.height, v.every, v.frames_scanned, "
            "v.complete, v.scanned, COUNT(f.id) FROM scan_videos v LEFT JOIN scan_faces f ON f.video_id = v.id "
            "GROUP BY v.id ORDER BY v.id"
        )
        return [
            ScannedVideo(id, path, name, fps, frame_count, width, height, every, frames_scanned, bool(complete), scanned, faces)
            for id, path, name, fps, frame_count, width, height, every, frames_scanned, complete, scanned, faces in rows
        ]

    def remove_video(self, video_id: int) -> None:
        with self.store.write(f"removing scanned video {video_id}") as db:
            db.execute("DELETE FROM scan_faces WHERE video_id = ?", (video_id,))
            db.execute("DELETE FROM scan_videos WHERE id = ?", (video_id,))

    def faces(self, video_id: int | None = None) -> list[ScannedFace]:
        """Found faces in frame order (of one video, or of all)."""
        where, params = ("WHERE f.video_id = ?", (video_id,)) if video_id is not None else ("", ())
        rows = self.store.read(f"{_FACE_SELECT} {where} ORDER BY f.video_id, f.frame, f.left", params)
        return [_face(r) for r in rows]

    def face(self, face_id: int) -> ScannedFace:
        return self._faces_by_id([face_id])[face_id]

    def _faces_by_id(self, ids: Sequence[int]) -> dict[int, ScannedFace]:
        out: dict[int, ScannedFace] = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.store.read(f"{_FACE_SELECT} WHERE f.id IN ({','.join('?' * len(chunk))})", chunk)
            out.update({r[0]: _face(r) for r in rows})
        missing = [i for i in ids if i not in out]
        if missing:
            raise FaceGateError(f"no found face {missing[0]} (was its video's scan removed?)")
        return out

    def thumbnail(self, face_id: int) -> bytes | None:
        rows = self.store.read("SELECT thumbnail FROM scan_faces WHERE id = ?", (face_id,))
        return rows[0][0] if rows else None

    def descriptor(self, face_id: int) -> np.ndarray:
        rows = self.store.read("SELECT descriptor FROM scan_faces WHERE id = ?", (face_id,))
        if not rows:
            raise FaceGateError(f"no found face {face_id}")
        return unpack(rows[0][0])

    # -- search ---------------------------------------------------------------------------------
    def _searchable(self) -> _Searchable:
        """Every found face and its descriptor, reloaded only when the database changed."""
        generation = self.store.generation()
        with self._lock:
            if self._cache is None or self._cache.generation != generation:
                rows = self.store.read(_FACE_SELECT.replace(" FROM", ", f.descriptor FROM") + " ORDER BY f.id")
                # float64: the dot-product distances below need the precision near the fold boundary
                mat = (
                    np.frombuffer(b"".join(r[10] for r in rows), np.float32).reshape(-1, DESCRIPTOR_DIM).astype(np.float64)
                    if rows
                    else np.empty((0, DESCRIPTOR_DIM), np.float64)
                )
                faces = [_face(r) for r in rows]
                self._cache = _Searchable(
                    generation, faces, mat, np.einsum("ij,ij->i", mat, mat), np.array([bool(f.poor) for f in faces], bool)
                )
            return self._cache

    def similar(
        self,
        descriptor: np.ndarray,
        top: int = 20,
        fold_distance: float = DEFAULT_FOLD,
        within: float | None = None,
        hide_poor: bool = False,
    ) -> list[SimilarFace]:
        """The ``top`` most similar found faces across all scanned videos, nearest first, each
        with the faces closer than ``fold_distance`` to it folded under it (0 folds nothing).

        Taken nearest first, a face closer than ``fold_distance`` to an already listed face is
        folded under the nearest such face; any other face is listed, until ``top`` are listed.
        Vectorised: one matrix-vector product per listed face, so 20 000 faces take
        milliseconds rather than a Python loop per face. ``hide_poor`` leaves out the faces kept
        from a poor view (ScannedFace.poor).
        """
        found = self._searchable()
        if not found.faces or top < 1:
            return []
        mat, sq = found.vectors, found.sq
        query = np.asarray(descriptor, np.float64).reshape(DESCRIPTOR_DIM)
        dist = np.sqrt(np.maximum(sq + query @ query - 2.0 * (mat @ query), 0.0))
        order = np.argsort(dist, kind="stable")
        if hide_poor:
            order = order[~found.poor[order]]
        if within is not None:
            order = order[dist[order] <= within]
        position = np.empty(len(dist), np.int64)
        position[order] = np.arange(len(order))
        reps: list[int] = []
        rep_d2: list[np.ndarray] = []  # squared distances from each listed face to every face
        alive = order  # candidates neither listed nor folded yet, nearest first
        while len(alive) and len(reps) < top:
            rep, alive = int(alive[0]), alive[1:]
            reps.append(rep)
            rep_d2.append(np.maximum(sq + sq[rep] - 2.0 * (mat @ mat[rep]), 0.0))
            if fold_distance > 0 and len(alive):
                alive = alive[rep_d2[-1][alive] >= fold_distance**2]
        # Folded: every candidate neither listed nor left over, under its nearest earlier listed face.
        rep_rows = np.asarray(reps, np.int64)
        is_folded = np.ones(len(order), bool)
        is_folded[position[rep_rows]] = False
        is_folded[position[alive]] = False
        folded_rows = order[is_folded]  # nearest to the query first
        groups: dict[int, list[int]] = {r: [] for r in reps}
        if len(folded_rows):
            d2 = np.stack([d[folded_rows] for d in rep_d2], axis=1)
            d2[position[folded_rows][:, None] < position[rep_rows][None, :]] = np.inf  # only nearer listed faces
            for row, owner in zip(folded_rows.tolist(), rep_rows[np.argmin(d2, axis=1)].tolist(), strict=True):
                groups[owner].append(row)
        return [SimilarFace(found.faces[r], float(dist[r]), [found.faces[f] for f in groups[r]]) for r in reps]

    def similar_to_face(
        self,
        face_id: int,
        top: int = 20,
        fold_distance: float = DEFAULT_FOLD,
        within: float | None = None,
        hide_poor: bool = False,
    ) -> list[SimilarFace]:
        return self.similar(self.descriptor(face_id), top, fold_distance, within, hide_poor)

    def similar_to_photo(
        self,
        image: ImageLike,
        top: int = 20,
        fold_distance: float = DEFAULT_FOLD,
        within: float | None = None,
        detector: Detector | None = None,
        hide_poor: bool = False,
    ) -> list[tuple[Box, list[SimilarFace], list[str]]]:
        """For every face in a photo, left to right: its box, the similar found faces, and the
        quality gates it fails (a poor face, turned or blurred, is searched all the same)."""
        return [
            (face.box, self.similar(face.descriptor, top, fold_distance, within, hide_poor), face.problems)
            for face in self.gallery.query_faces(as_rgb(image), detector)
            if face.descriptor is not None
        ]

    # -- showing and enrolling --------------------------------------------------------------------
    def frame(self, face_id: int, draw_box: bool = True) -> np.ndarray:
        """The video frame a face was found in (RGB), with its box drawn."""
        face = self.face(face_id)
        (path,) = self.store.read("SELECT path FROM scan_videos WHERE id = ?", (face.video_id,))[0]
        cap = _open_video(Path(path))
        try:
            cap.set(cv2.CAP_PROP_POS_FRAMES, face.frame)
            ok, bgr = cap.read()
        finally:
            cap.release()
        if not ok:
            raise VideoError(f"{path}: frame {face.frame} cannot be read (has the file changed since the scan?)")
        if draw_box:
            b = face.box
            thickness = max(2, bgr.shape[1] // 320)
            cv2.rectangle(bgr, (b.left, b.top), (b.right - 1, b.bottom - 1), (0, 220, 0), thickness)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def enroll(self, face_ids: Sequence[int], name: str, allowed: bool | None = None) -> tuple[Person, list[int]]:
        """Enroll ``name`` from found faces (their stored descriptors and thumbnails), in one transaction."""
        if not face_ids:
            raise FaceGateError(f"nothing to enroll for {name!r}: no found face chosen")
        faces = self._faces_by_id(face_ids)
        samples = []
        for fid in face_ids:
            rows = self.store.read("SELECT descriptor, thumbnail, quality FROM scan_faces WHERE id = ?", (fid,))
            f = faces[fid]
            samples.append(NewSample(unpack(rows[0][0]), rows[0][1], f"{f.video} frame {f.frame}", rows[0][2], "scan"))
        return self.gallery.enroll_samples(name, samples, allowed=allowed)


#: A found face's row, as _face() reads it.
_FACE_SELECT = (
    "SELECT f.id, f.video_id, v.name, f.frame, f.time, f.left, f.top, f.right, f.bottom, f.poor "
    "FROM scan_faces f JOIN scan_videos v ON v.id = f.video_id"
)


def _face(r: tuple) -> ScannedFace:
    return ScannedFace(r[0], r[1], r[2], r[3], r[4], Box(r[5], r[6], r[7], r[8]), r[9])


def _open_video(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise VideoError(f"{path}: file not found")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video file")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise VideoError(f"{path}: not a video FaceGate can read (or the file is damaged)")
    return cap
