"""`facegate eval-video VIDEO LABELS.csv`: a labelled recording replayed through the door, scored per
shot (named right / wrong / unknown, frames to name, unlocked); the labels' format and its errors."""

from __future__ import annotations

import json

import pytest

from core.gallery.api import Gallery
from core.station.labels import LabelError, read_labels
from tests.support.cli import facegate
from tests.support.data import CLIP, DATA, video_frame

GRID = DATA / "footage" / "grid-talkers"
LABELS = DATA / "labels"


def test_every_shipped_label_file_reads():
    files = sorted(LABELS.rglob("*.csv"))
    assert len(files) >= 12, files
    for f in files:
        shots = read_labels(f)
        assert shots and all(s.first <= s.last for s in shots), f
    clip = read_labels(LABELS / "short_hamilton_clip.csv")
    assert [s.names for s in clip if s.first == 82] == [["lin_manuel_miranda", "Lin-Manuel"]]
    demo = read_labels(LABELS / "silent-face-pad" / "demo.csv")
    assert [s.live for s in demo] == [True, False, False]  # the phone screen and the print


@pytest.mark.parametrize(
    "text, error",
    [
        ("first,last\n0,1\n", "header must be"),
        ("first,last,person\n5,2,ada\n", ":2: frames 5-2"),
        ("# a comment\nfirst,last,person,left,top,right,bottom\n0,9,ada,0.1,0.1,,\n", ":3: a region needs all"),
        ("first,last,person,left,top,right,bottom\n0,9,ada,0.5,0.1,0.2,0.9\n", "left < right"),
        ("first,last,person,live\n0,9,ada,maybe\n", "live is yes or no"),
        ("first,last,person\n", "a header but no shots"),
    ],
)
def test_a_bad_label_file_is_refused_with_its_line(tmp_path, text, error):
    f = tmp_path / "labels.csv"
    f.write_text(text)
    with pytest.raises(LabelError, match=error):
        read_labels(f)


@pytest.fixture(scope="module")
def grid_db(tmp_path_factory, describer):
    """The GRID man enrolled from ONE frame of his first recording (an ID-like still)."""
    path = tmp_path_factory.mktemp("grid") / "grid.db"
    with Gallery(path, describer=describer) as g:
        g.enroll("grid_a", [video_frame(GRID / "id2_vcd_swwp2s.mpg", 37)])
    return path


def test_the_man_enrolled_from_one_frame_is_named_in_his_other_recording(grid_db):
    out = facegate(
        "eval-video", GRID / "pwij3p.mpg", LABELS / "grid-talkers" / "pwij3p.csv", "--db", grid_db, "--json", check=True
    )
    report = json.loads(out.stdout)
    (shot,) = report["shots"]
    assert shot["outcome"] == "right" and shot["named"] == ["grid_a"], shot
    assert shot["frames_to_name"] is not None and shot["frames_to_name"] <= 10, shot
    assert report["totals"]["named_right"] == 1 and report["totals"]["named_wrong"] == 0
    assert shot["unlocked"] == any(cue in shot["reason"] for cue in ("blinked", "turned", "talked"))


def test_a_stranger_stays_unknown_and_a_wrong_name_would_count(tmp_path, describer, knn_db):
    """The clip against the knn people (obama enrolled from his photos): Lin-Manuel and the others
    are strangers there; nobody may be named. The text form says the same in words."""
    out = facegate("eval-video", CLIP, LABELS / "short_hamilton_clip.csv", "--db", knn_db, "--json", check=True)
    report = json.loads(out.stdout)
    totals = report["totals"]
    assert totals["named_wrong"] == 0 and totals["strangers_named"] == 0, report
    lin = [s for s in report["shots"] if s["person"].startswith("lin_manuel")]
    assert len(lin) == 2 and all(s["expected"] is None and s["outcome"] == "unknown" for s in lin)
    assert any(s["faces"] > 0 for s in lin)
    text = facegate("eval-video", CLIP, LABELS / "short_hamilton_clip.csv", "--db", knn_db, check=True).stdout
    assert "named wrong: 0" in text and "UNKNOWN" in text


def test_the_clip_names_lin_manuel_in_his_big_shot_and_unlocks_once(lin_db):
    report = json.loads(
        facegate("eval-video", CLIP, LABELS / "short_hamilton_clip.csv", "--db", lin_db, "--json", check=True).stdout
    )
    big = next(s for s in report["shots"] if s["shot"].startswith("82-210"))
    assert big["outcome"] == "right" and big["expected"] == "Lin-Manuel" and big["unlocked"], big
    assert report["totals"]["named_wrong"] == 0 and report["totals"]["unlocked"] == 1, report["totals"]


def test_eval_video_says_what_is_wrong(tmp_path, grid_db):
    bad = tmp_path / "bad.csv"
    bad.write_text("first,last,person\n9,1,x\n")
    out = facegate("eval-video", GRID / "pwij3p.mpg", bad, "--db", grid_db)
    assert out.returncode == 2 and "bad.csv:2" in out.stderr
    out = facegate("eval-video", tmp_path / "none.mp4", bad, "--db", grid_db)
    assert out.returncode == 2 and "no such video file" in out.stderr
