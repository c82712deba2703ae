"""Video scan: the clip's faces found in the frames the data README gives, kept (when they pass the
quality gates), folded, searched."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from core.cli.main import main as cli_main
from core.errors import FaceGateError
from core.gallery.api import Gallery
from core.tools.scan import DEFAULT_FOLD, ScanChoices, ScanLibrary, ScanSettings, VideoError
from core.vision.detection import Detector
from core.vision.images import load_image
from tests.support.data import CLIP, IMAGES, KNN

#: Where the data README says faces are: Lin-Manuel (two shots), then a stranger, and the audience
#: YuNet also finds (two scenes).
LIN_FRAMES = [range(0, 20), range(82, 211)]
LIN_SMALL, LIN_BIG = LIN_FRAMES
STRANGER_FRAMES = range(211, 249)
AUDIENCE = [range(20, 82), range(211, 275)]
EVERY = 5


def in_lin(frame: int) -> bool:
    return any(frame in r for r in LIN_FRAMES)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, describer):
    """The clip scanned once (every 5th frame) into a fresh gallery."""
    g = Gallery(tmp_path_factory.mktemp("scan") / "scan.db", describer=describer)
    lib = ScanLibrary(g)
    progress = []

    def note(*args):  # the progress, and what the database already holds at that moment
        stored = g.store.read("SELECT COUNT(*), MAX(v.complete) FROM scan_faces f JOIN scan_videos v ON v.id = f.video_id")
        progress.append((*args, *stored[0]))

    result = lib.scan(CLIP, ScanSettings(every=EVERY, batch_seconds=0), on_progress=note)
    yield lib, result, progress
    g.close()


def test_scan_finds_faces_only_where_the_readme_says(scanned):
    lib, result, progress = scanned
    assert not result.cancelled and result.frames_read == 275 and result.frames_scanned == 55
    every_face = lib.faces(result.video_id)
    assert len(every_face) == result.faces
    faces = [f for f in every_face if not f.poor]  # the views that passed the gates, as before
    poor = [(f.frame, f.poor) for f in every_face if f.poor]
    assert len(poor) == result.poor_faces and all(f % EVERY == 0 for f, _ in poor)
    # his small shot never passes the gates: it is kept now, once, marked poor (it was dropped)
    small = [why for f, why in poor if f in LIN_SMALL]
    assert len(small) == 1 and "too far" in small[0], poor
    frames = {f.frame for f in faces}
    assert all(f % EVERY == 0 for f in frames)
    assert all(f in LIN_BIG or any(f in scene for scene in AUDIENCE) for f in frames), sorted(frames)
    # his 90 px shot (4.3 s, 26 scanned frames) is followed and one view kept per half second (15
    # frames) of it, not all 26: the first from its first 15 frames, then one per 15 frames to its end
    kept = sorted(frames & set(LIN_BIG))
    assert kept[0] < LIN_BIG[0] + 15 and LIN_BIG[-1] - kept[-1] < 15, kept
    assert all(0 < b - a < 2 * 15 for a, b in zip(kept, kept[1:], strict=False)), kept
    assert len(LIN_BIG) / 15 - 1 <= len(kept) <= len(LIN_BIG) / 15 + 1, kept
    assert not frames & set(LIN_SMALL) and result.poor >= 4
    # views neither kept nor poor were followed between kept views, not described: at least
    # those of his shot's 26 scanned views that were not kept
    assert result.seen - (result.faces - result.poor_faces) - result.poor >= len(range(85, 211, EVERY)) - len(kept)
    assert all(frames & set(scene) for scene in AUDIENCE)
    f = faces[0]
    assert f.time == pytest.approx(f.frame / 29.97, abs=1e-3)
    (video,) = lib.videos()
    assert (video.width, video.height, video.frame_count, video.every, video.complete) == (640, 360, 275, 5, True)
    assert progress[-1][:3] == (275, 275, result.faces) and len(progress) == 55 + 1
    assert progress[-1][3:] == (result.faces, 1)
    # written in batches while scanning (incomplete until the end), not all at the end
    assert any(0 < stored < result.faces and complete == 0 for *_, stored, complete in progress[:-1])


def test_lin_photo_lists_only_his_faces_folded(scanned, describer):
    lib, result, _ = scanned
    ((_, hits, _),) = lib.similar_to_photo(IMAGES / "lin-manuel-miranda.png", top=100, within=0.65)
    listed = [h.face for h in hits] + [f for h in hits for f in h.folded]
    assert all(in_lin(f.frame) for f in listed), [f.frame for f in listed]
    assert any(h.count > 1 for h in hits)
    # only frames 148-152 of his shot (facing the camera) come within 0.4 of this photo: the scan
    # kept the most frontal view of each half second, which is one of them
    assert hits[0].distance < 0.4 and hits[0].face.frame in range(148, 153)

    # recompute from the stored descriptors: every face within 0.65 is listed exactly once
    lin = lib.gallery.faces(IMAGES / "lin-manuel-miranda.png")[0].descriptor
    ids = [f.id for f in lib.faces()]
    dist = {i: float(np.linalg.norm(lib.descriptor(i) - lin)) for i in ids}
    assert sorted(f.id for f in listed) == sorted(i for i in ids if dist[i] <= 0.65)
    assert sum(h.count for h in hits) == len(listed)
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert hits[0].distance == pytest.approx(min(dist.values()), abs=1e-5)
    for h in hits:  # folded faces are near-duplicates of their representative, and farther from the query
        for f in h.folded:
            assert np.linalg.norm(lib.descriptor(f.id) - lib.descriptor(h.face.id)) < 0.3
            assert dist[f.id] >= h.distance
    reps = [lib.descriptor(h.face.id) for h in hits]
    for i in range(len(reps)):
        for j in range(i):
            assert np.linalg.norm(reps[i] - reps[j]) >= 0.3


def reference_similar(vectors: dict[int, np.ndarray], query, top, fold, within=None):
    """The folding rule, one face at a time: nearest first, fold under the nearest listed face
    closer than ``fold``, else list it (until ``top`` are listed)."""
    ranked = sorted(vectors, key=lambda i: (float(np.linalg.norm(vectors[i] - query)), i))
    listed: dict[int, set[int]] = {}
    for i in ranked:
        if within is not None and np.linalg.norm(vectors[i] - query) > within:
            break
        near = {r: float(np.linalg.norm(vectors[i] - vectors[r])) for r in listed}
        if near and min(near.values()) < fold:
            listed[min(near, key=near.get)].add(i)
        elif len(listed) < top:
            listed[i] = set()
    return listed


def test_folding_matches_the_rule_applied_face_by_face(scanned):
    lib, _, _ = scanned
    vectors = {f.id: lib.descriptor(f.id) for f in lib.faces()}
    for face_id in list(vectors)[::3]:
        for top, fold, within in ((5, 0.3, None), (100, 0.3, 0.6), (100, 0.45, None), (3, 0.0, None)):
            got = lib.similar(vectors[face_id], top=top, fold_distance=fold, within=within)
            want = reference_similar(vectors, vectors[face_id], top, fold, within)
            assert [h.face.id for h in got] == list(want)
            assert [{f.id for f in h.folded} for h in got] == list(want.values())


def test_wider_fold_gives_fewer_entries_standing_for_the_same_faces(scanned):
    lib, _, _ = scanned
    photo = IMAGES / "lin-manuel-miranda.png"
    strict = lib.similar_to_photo(photo, top=100, within=0.65, fold_distance=0.3)[0][1]
    wide = lib.similar_to_photo(photo, top=100, within=0.65, fold_distance=0.45)[0][1]
    none = lib.similar_to_photo(photo, top=100, within=0.65, fold_distance=0)[0][1]
    assert len(none) > len(strict) > len(wide)
    assert sum(h.count for h in none) == sum(h.count for h in strict) == sum(h.count for h in wide)


def test_a_found_stranger_finds_the_stranger(scanned):
    """A face of the audience finds itself first, and its near look-alikes only in the audience."""
    lib, _, _ = scanned
    stranger = next(f for f in lib.faces() if f.frame in AUDIENCE[1])
    hits = lib.similar_to_face(stranger.id, top=5)
    assert hits[0].face.id == stranger.id and hits[0].distance == pytest.approx(0, abs=1e-6)
    assert all(any(h.face.frame in scene for scene in AUDIENCE) for h in hits if h.distance < 0.5)


def test_frame_has_the_box_drawn(scanned):
    lib, _, _ = scanned
    face = next(f for f in lib.faces() if f.frame >= 82)
    plain = lib.frame(face.id, draw_box=False)
    drawn = lib.frame(face.id)
    assert drawn.shape == plain.shape == (360, 640, 3)
    b = face.box
    edge = drawn[b.top, b.left : b.right]
    assert (edge[:, 1] > 180).all() and (edge[:, 0] < 60).all()  # green line along the top edge
    inside = (slice(b.top + 5, b.bottom - 5), slice(b.left + 5, b.right - 5))
    assert np.array_equal(drawn[inside], plain[inside])


def test_enroll_from_found_faces_then_lin_is_recognised(scanned, tmp_path, describer):
    lib, _, _ = scanned
    photo = IMAGES / "lin-manuel-miranda.png"
    best = lib.similar_to_photo(photo, top=1)[0][1][0]
    person, ids = lib.enroll([best.face.id], "Lin-Manuel")
    assert person.sample_count == 1 and len(ids) == 1
    (sample,) = lib.store.samples("Lin-Manuel", with_thumbnails=True)
    assert np.array_equal(sample.descriptor, lib.descriptor(best.face.id))
    assert sample.thumbnail and sample.source == f"short_hamilton_clip.mp4 frame {best.face.frame}"
    ((_, match),) = lib.gallery.identify(photo)
    assert match.name == "Lin-Manuel" and match.distance == pytest.approx(best.distance, abs=1e-4)
    lib.gallery.remove("Lin-Manuel")


def test_cancel_keeps_what_was_found_as_incomplete_and_rescan_replaces(gallery):
    lib = ScanLibrary(gallery)
    seen = []
    result = lib.scan(CLIP, ScanSettings(every=90), on_progress=lambda *a: seen.append(a), should_stop=lambda: len(seen) >= 2)
    assert result.cancelled and result.frames_scanned == 2
    (video,) = lib.videos()
    assert not video.complete and video.frames_scanned == 2
    assert {(f.frame, "too far" in f.poor) for f in lib.faces()} == {(0, True), (90, False)}  # frame 0: too small, kept poor
    again = lib.scan(CLIP, ScanSettings(every=100))
    (video,) = lib.videos()
    assert video.id == again.video_id and video.complete and video.frames_scanned == 3


def test_bad_videos_are_refused_naming_the_file(gallery, tmp_path):
    lib = ScanLibrary(gallery)
    fake = tmp_path / "holiday.mp4"
    fake.write_text("this is not a video")
    with pytest.raises(VideoError, match="holiday.mp4"):
        lib.scan(fake)
    with pytest.raises(VideoError, match="file not found"):
        lib.scan(tmp_path / "missing.mp4")
    with pytest.raises(FaceGateError, match="at least 1"):
        lib.scan(CLIP, ScanSettings(every=0))
    assert lib.videos() == []


def test_cli_scan_and_scan_search(db_path, capsys):
    assert cli_main(["scan", str(CLIP), "--db", str(db_path), "--every", "30", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frames"] == 275 and out["frames_scanned"] == 10 and out["faces"] >= 4
    assert out["faces_seen"] >= out["faces"] - out["kept_poor"] + out["poor_faces"] and out["kept_poor"] >= 1
    assert cli_main(["scan-search", str(IMAGES / "lin-manuel-miranda.png"), "--db", str(db_path), "--top", "3", "--json"]) == 0
    (face,) = json.loads(capsys.readouterr().out)
    assert 1 <= len(face["similar"]) <= 3
    assert in_lin(face["similar"][0]["frame"]) and face["similar"][0]["distance"] < 0.6


def test_scan_choices_are_kept_in_the_gallery(gallery):
    assert ScanChoices.load_or_default(gallery.store) == (ScanChoices(every=5, method="yunet", fold=DEFAULT_FOLD), None)
    ScanChoices(every=10, method="haar+hog", fold=0.25).save(gallery.store)
    assert ScanChoices.load(gallery.store) == ScanChoices(10, "haar+hog", 0.25)
    for bad, why in (({"every": 0}, "at least 1"), ({"method": "magic"}, "unknown detector"), ({"fold": 3.0}, "between 0 and 2")):
        with pytest.raises(ValueError, match=why):
            ScanChoices(**bad).save(gallery.store)
    gallery.store.set_setting("scan", '{"every": -4}')
    assert ScanChoices.load_or_default(gallery.store)[0] == ScanChoices()


#: The cut video: a long still shot of Obama, a cut to Biden in the same place, a cut back to Obama.
OBAMA_1, BIDEN, OBAMA_2 = range(0, 63), range(63, 71), range(71, 81)
CUT_FPS = 10


def _framed(photo) -> np.ndarray:
    """The photo's face centred in a 640x360 frame, about 190 px wide."""
    rgb = load_image(photo)
    (face,) = Detector().detect(rgb)
    (cx, cy), w = face.center, face.width * 3.4
    h = w * 9 / 16
    src = np.float32([[cx - w / 2, cy - h / 2], [cx + w / 2, cy - h / 2], [cx - w / 2, cy + h / 2]])
    dst = np.float32([[0, 0], [640, 0], [0, 360]])
    return cv2.warpAffine(rgb, cv2.getAffineTransform(src, dst), (640, 360), borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory):
    obama, biden = _framed(IMAGES / "obama.jpg"), _framed(IMAGES / "biden.jpg")
    path = tmp_path_factory.mktemp("cut") / "cut.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), CUT_FPS, (640, 360))
    for i in range(OBAMA_2[-1] + 1):
        out.write(cv2.cvtColor(biden if i in BIDEN else obama, cv2.COLOR_RGB2BGR))
    out.release()
    return path


def test_a_long_still_shot_keeps_one_face_per_half_second_and_a_cut_starts_afresh(gallery, cut_video):
    lib = ScanLibrary(gallery)
    result = lib.scan(cut_video, ScanSettings(every=1))
    interval = CUT_FPS // 2  # 0.5 s of this video
    assert (result.frames_scanned, result.seen, result.poor) == (81, 81, 0)
    faces = lib.faces()
    assert len(faces) == result.faces
    kept = [f.frame for f in faces]
    # the still shot: one view per half second, not 63
    still = [f for f in kept if f in OBAMA_1]
    assert [f // interval for f in still] == list(range(0, 13)), still
    # each cut starts afresh at once, though Obama was described only 3 frames earlier and Biden's
    # face sits where his was (followed across the cut, Biden would have joined Obama's half second)
    assert [f for f in kept if f in BIDEN] == [63, 68] and [f for f in kept if f in OBAMA_2] == [71, 76]
    boxes = {f.frame: f.box for f in faces}
    assert boxes[still[-1]].iou(boxes[BIDEN[0]]) > 0.5

    # his other photo finds both of his shots and nothing of Biden's; Biden's finds only his
    def found(photo) -> set[int]:  # the photo's real face (biden2.jpg's painting half-shows two more, searched as poor)
        ((_, hits, _),) = [row for row in lib.similar_to_photo(photo, top=100, within=0.5) if not row[2]]
        return {f.frame for h in hits for f in [h.face, *h.folded]}

    obama = found(IMAGES / "obama2.jpg")
    assert obama & set(OBAMA_1) and obama & set(OBAMA_2) and not obama & set(BIDEN)
    assert found(KNN / "train" / "biden" / "biden2.jpg") == {63, 68}
