"""The overlay names a track on its first good frame (LiveRecognizer._first_good_frame): the newest
frame alone within the threshold, and the track's template nearest the same person. Played through
the real loop from the video file, counting frames: Lin-Manuel enrolled from the live bench's 4
frames is named on his first frame that comes within the threshold, 6 frames into his big shot
(his frames before it sit at 0.47-0.52 from those samples, so 3 frames cannot be reached at 0.4);
the clip's strangers are never named, nor is a look-alike whose frames are not within the
stricter threshold the operator set for that person; eval-video counts the overlay's names."""

from __future__ import annotations

import pytest

from core.live.loop import LiveRecognizer, LiveSettings
from core.live.sources import FrameSource
from core.live.worker import InlineWorker
from tests.support.data import CLIP, copy_gallery

NAME = "Lin-Manuel"
ENROLL_FRAMES = (95, 110, 150, 180)  # bench/live_bench.py's: both of his shots
BIG_SHOT = range(82, 211)  # his first big face is frame 82 (a cut)


@pytest.fixture
def four_frame_gallery(knn_db, tmp_path, clip, describer):
    """The knn people (rivals for every face) and Lin-Manuel from 4 frames of the clip."""
    g = copy_gallery(knn_db, tmp_path, describer)
    g.enroll(NAME, [clip[i] for i in ENROLL_FRAMES])
    yield g
    g.close()


def _play(gallery, describer, frames: int = 275):
    """The clip from its file through the loop, one descriptor per frame at most (InlineWorker):
    per frame index, each track's (id, overlay name, its newest frame's own distance to him)."""
    rec = LiveRecognizer(gallery, LiveSettings(), descriptor_worker=InlineWorker(describer))
    seen: dict[int, list[tuple[int, str | None, float | None]]] = {}
    with FrameSource(str(CLIP), pace=False) as source:
        while (frame := source.read()) is not None and frame.index < frames:
            result = rec.process(frame.rgb, frame.index / 30)
            rows = []
            for view in result.tracks:
                glimpse = rec.tracker.tracks[view.id].glimpse
                near = next((c.distance for c in glimpse.candidates if c.name == NAME), None) if glimpse else None
                rows.append((view.id, view.name, near))
            seen[frame.index] = rows
    rec.close()
    return seen


def test_he_is_named_on_his_first_frame_within_the_threshold(four_frame_gallery, describer):
    seen = _play(four_frame_gallery, describer, frames=BIG_SHOT.start + 20)
    named = next(i for i in BIG_SHOT if any(name == NAME for _, name, _ in seen[i]))
    close = next(i for i in BIG_SHOT if any(d is not None and d <= 0.4 for _, _, d in seen[i]))
    # his first frames turn in from 0.47-0.52: the first within 0.4 is frame 88
    assert all(d is None or d > 0.45 for i in range(BIG_SHOT.start, close) for _, _, d in seen[i])
    assert named == close, (named, close)  # the rule adds no frame (it took 6-9 more before)
    assert named - BIG_SHOT.start <= 6, named


def test_the_clips_strangers_are_never_named(four_frame_gallery, describer):
    """The curly-haired man in profile (20-81), Obama's audience, Michelle Obama and the laughing
    woman (211-274) against Lin-Manuel and the knn people: the overlay names nobody but him (and
    Obama, who is enrolled) on any frame."""
    seen = _play(four_frame_gallery, describer)
    outside = {name for i, rows in seen.items() if i not in BIG_SHOT and i >= 20 for _, name, _ in rows if name}
    assert outside <= {"obama"}, outside
    assert {name for i in BIG_SHOT for _, name, _ in seen[i] if name} == {NAME}
    assert not any(name for i in range(20, 82) for _, name, _ in seen[i])  # the curly-haired man


def test_a_look_alike_within_the_door_threshold_but_not_their_own_is_not_named_early(four_frame_gallery, describer):
    """A person the operator gave a stricter own threshold (a look-alike is about: 0.3): a frame
    at 0.37 from them (frame 88) names nobody by the first good frame; only frames within 0.3 do."""
    four_frame_gallery.set_threshold(NAME, 0.3, 0.4)
    seen = _play(four_frame_gallery, describer, frames=BIG_SHOT.start + 20)
    named = next(i for i in BIG_SHOT if any(name == NAME for _, name, _ in seen[i]))
    assert named > 88, named
    assert any(d is not None and d <= 0.3 for i in range(BIG_SHOT.start, named + 1) for _, _, d in seen[i])


def test_eval_video_counts_the_overlays_names(four_frame_gallery, describer, tmp_path):
    """eval-video scores the overlay's names as well as the door's: with his big shot labelled as
    someone else (obama, enrolled), the overlay naming him there counts as an overlay wrong name;
    no stranger's shot gets an overlay name."""
    from core.station.eval_video import eval_video
    from tests.support.data import DATA

    rows = (
        (DATA / "labels" / "short_hamilton_clip.csv").read_text().replace("82,210,lin_manuel_miranda|Lin-Manuel", "82,210,obama")
    )
    labels = tmp_path / "mislabelled.csv"
    labels.write_text(rows)
    report = eval_video(CLIP, labels, four_frame_gallery, worker=InlineWorker(describer))
    (big,) = [s for s in report.shots if s.shot.startswith("82-210")]
    assert big.labelled == [NAME] and big.expected == "obama", big
    assert report.totals()["overlay_wrong"] == 1, report.totals()
    assert all(not s.labelled for s in report.shots if s.expected is None and s.outcome != "not scored")
