"""The track's probe template (core.live.tracking.Template): the mean of a track's descriptors is
what the live loop identifies. On the real clip, through the real door (eval-video's scoring):
Lin-Manuel enrolled from his one photo is named in his big shot, where his frames alone never
agreed; the clip's strangers stay unknown; a template holds one face's frames only."""

from __future__ import annotations

import pytest

from core.live.loop import LiveRecognizer, LiveSettings
from core.live.worker import InlineWorker
from core.station.eval_video import eval_video
from core.vision.quality import QualitySettings
from tests.support.data import CLIP, DATA, IMAGES, copy_gallery, stranger_at

LABELS = DATA / "labels" / "short_hamilton_clip.csv"


@pytest.fixture
def one_photo_gallery(knn_db, tmp_path, describer):
    """The knn people (obama, biden, ...: rivals for every face) and Lin-Manuel from ONE photo."""
    g = copy_gallery(knn_db, tmp_path, describer)
    g.enroll("Lin-Manuel", [IMAGES / "lin-manuel-miranda.png"])
    yield g
    g.close()


def _big_shot(gallery, describer, template: bool):
    report = eval_video(CLIP, LABELS, gallery, live=LiveSettings(track_template=template), worker=InlineWorker(describer))
    (big,) = [s for s in report.shots if s.shot.startswith("82-210")]
    return big, report.totals()


def test_a_one_photo_person_missed_frame_by_frame_is_named_by_the_template(one_photo_gallery, describer):
    frames, _ = _big_shot(one_photo_gallery, describer, template=False)
    assert frames.expected == "Lin-Manuel" and frames.outcome == "unknown", frames  # the miss before
    big, totals = _big_shot(one_photo_gallery, describer, template=True)
    assert big.outcome == "right" and big.named == ["Lin-Manuel"], big
    assert big.nearest is not None and big.nearest < 0.4
    # the strangers (the curly-haired man, the audience, Michelle Obama) stay unknown
    assert totals["named_wrong"] == 0 and totals["strangers_named"] == 0 and totals["stranger_shots"] >= 2, totals


def _swap_into_his_box(gallery, clip, describer, **settings):
    """Lin-Manuel tracked over frames 150-169, then a stranger pasted into his box for 9 frames:
    the recognizer's track and the last view. (The blur gate is off here: the pasted stranger is
    too soft to be described otherwise.)"""
    live = LiveSettings(quality=QualitySettings(min_sharpness=0), **settings)
    rec = LiveRecognizer(gallery, live, descriptor_worker=InlineWorker(describer))
    for i in range(150, 170):
        result = rec.process(clip[i], i / 30)
    (lin,) = result.tracks
    track = rec.tracker.tracks[lin.id]
    assert track.template.count >= 5 and track.matches[-1].name == "Lin-Manuel", track.matches[-1].reason
    swapped = stranger_at(clip, clip[169], lin.box)
    for n in range(9):
        (view,) = rec.process(swapped, (170 + n) / 30).tracks
        assert view.id == lin.id  # the same track
    rec.close()
    return track, view


def test_a_face_far_from_the_template_starts_a_new_one_on_the_same_track(one_photo_gallery, clip, describer):
    """LiveSettings.template_join on its own (same_face set out of the way, as for a look-alike
    within it): the stranger's descriptors start a template of their own, the track goes on, and
    they are judged alone. With no such bound they are averaged with his."""
    track, view = _swap_into_his_box(one_photo_gallery, clip, describer, same_face=2.0)
    assert 2 <= track.template.count <= 4, track.template.count  # the stranger's only
    assert track.matches[-1].name is None and track.matches[-1].candidates[0].distance > 0.5, track.matches[-1].reason
    track, _ = _swap_into_his_box(one_photo_gallery, clip, describer, same_face=2.0, template_join=2.0)
    assert track.template.count >= 7, track.template.count  # his and the stranger's mixed


def test_a_template_holds_one_face_only(one_photo_gallery, clip, describer):
    """Another person in the tracked box (the tracker cannot tell) starts a new template: the
    stranger's frames are never averaged with Lin-Manuel's, and the track is not named."""
    track, view = _swap_into_his_box(one_photo_gallery, clip, describer)
    assert 2 <= track.template.count <= 4, track.template.count  # his own descriptors only
    assert track.matches and all(m.name is None for m in track.matches), [m.reason for m in track.matches]
    # Lin-Manuel's frames averaged in would pull the template towards him; the stranger alone is far
    assert track.matches[-1].candidates[0].distance > 0.6, track.matches[-1].reason
    assert view.label == "Unknown"
