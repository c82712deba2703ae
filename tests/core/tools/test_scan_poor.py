"""A scan keeps what it sees: the best view of every followed face, even when none of its views
passes the quality gates, marked poor with the gates it fails; searchable (with a warning), and
hidden on request (`scan-search --hide-poor`, the Scan page's "Hide poor faces")."""

from __future__ import annotations

import json

import cv2

from core.gallery.api import Gallery
from core.station.labels import read_labels
from core.tools.attacks import write_video
from core.tools.scan import ScanLibrary, ScanSettings
from tests.support.cli import facegate
from tests.support.data import DATA, clip_frames, video_frame

FILM = DATA / "footage" / "tears-of-steel-clip" / "clip_01_tears_of_steel.mp4"
GRID = DATA / "footage" / "grid-talkers"


def test_a_scan_of_the_film_keeps_a_face_for_every_person_in_it(gallery):
    result = ScanLibrary(gallery).scan(FILM, ScanSettings(every=5))
    faces = ScanLibrary(gallery).faces(result.video_id)
    width, height = 640, 360
    people = [s for s in read_labels(DATA / "labels" / "tears-of-steel-clip" / "clip_01_tears_of_steel.csv") if s.names]
    assert [s.person for s in people] == ["tos_young_man", "tos_man_glasses", "tos_woman"]
    kept = {
        s.person: [
            f
            for f in faces
            if s.holds(f.frame, ((f.box.left + f.box.right) / 2 / width, (f.box.top + f.box.bottom) / 2 / height))
        ]
        for s in people
    }
    assert all(kept.values()), kept
    # the young man at the railing, small and in side view, is never good enough for the gates:
    # before, the scan kept nothing of him; now his best view, marked with what is wrong with it
    (young,) = kept["tos_young_man"]
    assert young.poor and "turn towards the camera" in young.poor, young
    assert any(not f.poor for f in kept["tos_man_glasses"]) and result.poor_faces >= 1


def test_a_poor_face_is_found_by_a_photo_from_another_recording_and_can_be_hidden(tmp_path, describer):
    """The GRID man's second recording shrunk to a third (his face about 45 px: under the 60 px gate
    on every frame), scanned; a frame of his FIRST recording finds him there, marked poor."""
    small = [cv2.resize(f, (120, 96), interpolation=cv2.INTER_AREA) for f in clip_frames(GRID / "pwij3p.mpg")]
    video = write_video(small, tmp_path / "far.mp4", fps=25)
    photo = tmp_path / "id.png"
    cv2.imwrite(str(photo), cv2.cvtColor(video_frame(GRID / "id2_vcd_swwp2s.mpg", 37), cv2.COLOR_RGB2BGR))
    db = tmp_path / "g.db"
    with Gallery(db, describer=describer) as g:
        lib = ScanLibrary(g)
        result = lib.scan(video, ScanSettings(every=5, min_face=20))
        assert result.faces == result.poor_faces == 1, result
        ((_, hits, problems),) = lib.similar_to_photo(photo, top=5)
        assert problems == [] and len(hits) == 1 and "too far" in hits[0].face.poor
        assert hits[0].distance < 0.6, hits[0].distance
        assert lib.similar_to_photo(photo, top=5, hide_poor=True)[0][1] == []

    out = json.loads(facegate("scan-search", photo, "--db", db, "--json", check=True).stdout)
    assert "too far" in out[0]["similar"][0]["poor"]
    assert json.loads(facegate("scan-search", photo, "--db", db, "--json", "--hide-poor", check=True).stdout)[0]["similar"] == []
    assert "[poor view: too far" in facegate("scan-search", photo, "--db", db, check=True).stdout
