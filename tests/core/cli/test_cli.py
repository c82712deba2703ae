"""The `facegate` command line on the real core."""

from __future__ import annotations

import json
import shutil
from functools import partial

from core.gallery.photo_views import VIEW_WIDTHS
from tests.support.cli import facegate as run_facegate
from tests.support.data import IMAGES, KNN

facegate = partial(run_facegate, check=True)  # every command here must succeed unless told otherwise


def test_enroll_folder_identify_people_remove(tmp_path):
    db = tmp_path / "g.db"
    train = tmp_path / "train"
    shutil.copytree(KNN / "train", train)
    (train / "obama" / "notes.txt").write_text("not an image")
    out = json.loads(facegate("enroll-folder", train, "--db", db, "--json").stdout)
    assert sorted(out["people"]) == ["alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie"]
    assert out["samples"] - out["views"] == 9 and out["views"] > 0 and any("notes.txt" in s["file"] for s in out["skipped"])
    assert out["images_per_second"] > 0

    faces = json.loads(facegate("identify", KNN / "test" / "obama_and_biden.jpg", "--db", db, "--json").stdout)
    assert len(faces) == 3
    for face in faces:
        assert set(face) >= {"box", "name", "distance", "candidates"} and len(face["box"]) == 4
        assert face["candidates"][0]["distance"] == face["distance"]
        dists = [c["distance"] for c in face["candidates"]]
        assert dists == sorted(dists)
    assert sorted(f["name"] for f in faces if f["name"]) == ["biden", "obama"]
    assert [f["name"] for f in faces].count(None) == 1

    people = json.loads(facegate("people", "--db", db, "--json").stdout)
    assert {p["name"]: p["samples"] for p in people}["obama"] == 2 * (1 + len(VIEW_WIDTHS))  # two photos, each with its views
    assert {p["name"]: p["views"] for p in people}["obama"] == 2 * len(VIEW_WIDTHS)
    facegate("remove", "obama", "--db", db)
    faces = json.loads(facegate("identify", IMAGES / "obama.jpg", "--db", db, "--json").stdout)
    assert faces[0]["name"] is None

    text = facegate("identify", KNN / "test" / "obama1.jpg", "--db", db).stdout
    assert "no match" in text


def test_enroll_and_errors(tmp_path):
    db = tmp_path / "g.db"
    out = json.loads(facegate("enroll", "Barack", IMAGES / "obama.jpg", IMAGES / "obama2.jpg", "--db", db, "--json").stdout)
    assert out["added"] == out["samples"] == 2 * (1 + len(VIEW_WIDTHS))  # each photo with its camera views
    assert out["views"] == 2 * len(VIEW_WIDTHS)
    (person,) = json.loads(facegate("people", "--db", db, "--json").stdout)
    assert (person["samples"], person["views"]) == (out["samples"], out["views"])
    assert f"{out['samples']} samples ({out['views']} photo views)" in facegate("people", "--db", db).stdout
    bad = facegate("enroll", "x", tmp_path / "missing.jpg", "--db", db, check=False)
    assert bad.returncode == 2 and "missing.jpg" in bad.stderr and "not found" in bad.stderr
    bad = facegate("remove", "nobody", "--db", db, check=False)
    assert bad.returncode == 2 and "nobody" in bad.stderr
    text = facegate("identify", IMAGES / "two_people.jpg", "--db", db).stdout
    assert text.count("\n") == 2 and "Barack" in text
