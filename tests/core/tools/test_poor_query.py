"""`search` and `scan-search` take a poor query face (blurred, turned aside) with a warning instead of
"no face found": a search is an archive look-up, worth making with the face there is. The door's and
enrollment's gates are unchanged (Gallery.faces still refuses such a face)."""

from __future__ import annotations

import json

import cv2

from core.gallery.api import Gallery
from core.tools.scan import ScanLibrary, ScanSettings
from tests.support.cli import facegate
from tests.support.data import CLIP, DATA, video_frame

GRID = DATA / "footage" / "grid-talkers"


def test_a_blurred_photo_of_the_grid_man_finds_him_in_his_other_recording(tmp_path, describer):
    blurred = cv2.GaussianBlur(video_frame(GRID / "id2_vcd_swwp2s.mpg", 10), (0, 0), 3)
    photo = tmp_path / "blurred.png"
    cv2.imwrite(str(photo), cv2.cvtColor(blurred, cv2.COLOR_RGB2BGR))
    db = tmp_path / "g.db"
    with Gallery(db, describer=describer) as g:
        (face,) = g.faces(blurred)
        assert face.descriptor is None and face.problems == ["blurred"]  # the gates refuse it, as before
        g.enroll("grid_a", [video_frame(GRID / "pwij3p.mpg", 40)])
        ScanLibrary(g).scan(GRID / "pwij3p.mpg", ScanSettings(every=5))
        ((box, hits, problems),) = ScanLibrary(g).similar_to_photo(photo, top=5)
        assert problems == ["blurred"] and hits and hits[0].distance < 0.5, hits
        assert hits[0].face.video.endswith("pwij3p.mpg")

    out = json.loads(facegate("scan-search", photo, "--db", db, "--json", check=True).stdout)
    assert out[0]["poor"] == ["blurred"] and "poor query face (blurred)" in out[0]["warning"] and out[0]["similar"]
    text = facegate("scan-search", photo, "--db", db, check=True).stdout
    assert "WARNING: poor query face (blurred)" in text and "no face found" not in text

    found = json.loads(facegate("search", photo, "--db", db, "--json", check=True).stdout)
    (face,) = found["faces"]
    assert face["poor"] == ["blurred"] and face["hits"][0]["name"] == "grid_a" and face["hits"][0]["distance"] < 0.5
    text = facegate("search", photo, "--db", db, check=True).stdout
    assert "WARNING: poor query face (blurred)" in text and "grid_a" in text


def test_a_turned_head_is_searched_with_a_warning(knn_gallery):
    from core.tools.search import search_photo

    turned = video_frame(CLIP, 30)  # the clip's curly-haired man, in profile
    assert all(f.descriptor is None for f in knn_gallery.faces(turned))
    result = search_photo(knn_gallery, turned, top=3)
    (face,) = result.faces
    assert face.problems == ("turn towards the camera",) and len(face.hits) == 3
    assert face.warning.startswith("poor query face (turn towards the camera)")
    good = search_photo(knn_gallery, DATA / "knn_examples" / "test" / "obama1.jpg", top=1)
    assert good.faces[0].problems == () and good.faces[0].warning == ""
