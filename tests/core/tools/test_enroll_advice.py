"""enroll-folder says what it will take to name each person reliably: a person imported from one
photo (or from copies of one look) is told to add a different photo or enroll at the door's camera."""

from __future__ import annotations

import json
import shutil

import numpy as np

from core.tools.folder_enroll import advice, distinct_looks, enroll_folder
from tests.support.cli import facegate
from tests.support.data import IMAGES, KNN


def test_one_photo_people_get_advice_and_two_looks_do_not(tmp_path, gallery):
    folder = tmp_path / "staff"
    shutil.copytree(KNN / "train", folder)
    twice = folder / "lin"
    twice.mkdir()
    for n in (1, 2):  # the same ID photo twice is still one look
        shutil.copy(IMAGES / "lin-manuel-miranda.png", twice / f"lin{n}.png")
    result = enroll_folder(gallery, folder)
    counts = dict(  # photos, each also kept as a door camera sees it (tests/core/gallery/test_photo_enrollment.py)
        gallery.store.read(
            "SELECT p.name, count(*) FROM samples s JOIN people p ON p.id = s.person_id WHERE s.how = 'photo' GROUP BY p.name"
        )
    )
    assert counts["lin"] == 2 and counts["obama"] == 2, counts
    singles = {name for name, n in counts.items() if n == 1}
    assert singles and set(result.advice) == singles | {"lin"}, (result.advice, counts)
    assert "obama" not in result.advice  # two different photos of him
    assert "enrolled from one photo" in result.advice[min(singles)]
    assert "2 photos that look alike" in result.advice["lin"]
    assert "at the door's camera" in result.advice["lin"]


def test_distinct_looks_counts_near_copies_once():
    a = np.zeros(128, np.float32)
    b, c = a.copy(), a.copy()
    b[0], c[0] = 0.1, 0.5  # 0.1 apart: the same look; 0.5: another
    assert distinct_looks([]) == 0
    assert distinct_looks([a, b]) == 1 and distinct_looks([a, b, c]) == 2
    assert advice("Ada", 1, 1).startswith("Ada: enrolled from one photo")


def test_the_command_line_prints_the_advice(tmp_path):
    folder = tmp_path / "staff"
    (folder / "lin").mkdir(parents=True)
    shutil.copy(IMAGES / "lin-manuel-miranda.png", folder / "lin" / "id.png")
    out = json.loads(facegate("enroll-folder", folder, "--db", tmp_path / "g.db", "--json", check=True).stdout)
    assert list(out["advice"]) == ["lin"] and "one photo" in out["advice"]["lin"]
    text = facegate("enroll-folder", folder, "--db", tmp_path / "h.db", check=True).stdout
    assert "lin: enrolled from one photo" in text
