"""A person imported from one ID photo also holds that face as a door camera sees it (shrunk to
50, 70 and 100 px: core.gallery.photo_views), so a small face on camera that sat just past 0.4 from
the photo alone is named, and a stranger still is not (bench/one_photo_bench.py measures it)."""

from __future__ import annotations

import shutil

import cv2
import numpy as np

from core.gallery.api import PHOTO_VIEW
from core.gallery.photo_views import VIEW_WIDTHS, camera_views
from core.station.eval_video import eval_video
from core.tools.attacks import write_video
from core.tools.folder_enroll import enroll_folder
from core.vision.detection import Detector
from core.vision.images import load_image
from tests.support.data import FOOTAGE

STILLS = FOOTAGE / "ms-face-stills"
FAMILY = {"family1_dad": "Family1-Dad1.jpg", "family1_mom": "Family1-Mom1.jpg", "family1_son": "Family1-Son1.jpg"}
#: identification1.jpg fitted into 640x360: where each face is (fractions; bench/one_photo_bench.py's regions).
GROUP = {
    "family1_son": (0.28, 0.29, 0.39, 0.46),
    "family1_dad": (0.38, 0.34, 0.51, 0.60),
    "family1_mom": (0.48, 0.41, 0.60, 0.64),
}
W, H, GAP, STILL = 640, 360, 8, 30


def staff_folder(tmp_path):
    """One ID photo per person, named after them (what enroll-folder imports)."""
    folder = tmp_path / "staff"
    folder.mkdir()
    for name, photo in FAMILY.items():
        shutil.copy(STILLS / photo, folder / f"{name}.jpg")
    return folder


def fitted(path):
    """A photo letterboxed into a 640x360 frame, as a camera pointed at it shows it."""
    rgb = load_image(path)
    s = min(W / rgb.shape[1], H / rgb.shape[0])
    small = cv2.resize(rgb, (int(rgb.shape[1] * s), int(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
    out = np.zeros((H, W, 3), np.uint8)
    y, x = (H - small.shape[0]) // 2, (W - small.shape[1]) // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


def recording(folder):
    """The family's group photo (the son's face 60 px, through a video encoder), then a stranger."""
    black = np.zeros((H, W, 3), np.uint8)
    frames = [black] * GAP + [fitted(STILLS / "identification1.jpg")] * STILL + [black] * GAP
    frames += [fitted(STILLS / "Family3-Lady1.jpg")] * STILL + [black] * GAP
    rows = [f"{GAP},{GAP + STILL - 1},{name},{','.join(map(str, box))},no" for name, box in GROUP.items()]
    first = 2 * GAP + STILL
    rows.append(f"{first},{first + STILL - 1},family3_lady,,,,,no")
    labels = folder / "family.csv"
    labels.write_text("first,last,person,left,top,right,bottom,live\n" + "\n".join(rows) + "\n")
    return write_video(frames, folder / "family.mp4", fps=25.0), labels


def outcomes(result):
    return {s.shot.split()[1]: s.outcome for s in result.shots}


def test_an_imported_photo_holds_its_camera_views(tmp_path, gallery):
    result = enroll_folder(gallery, staff_folder(tmp_path))
    rows = gallery.store.read(
        "SELECT s.how, s.source FROM samples s JOIN people p ON p.id = s.person_id WHERE p.name = 'family1_son' ORDER BY s.id"
    )
    photo = str(tmp_path / "staff" / "family1_son.jpg")
    assert rows == [("photo", photo)] + [(PHOTO_VIEW, f"{photo} (seen at {w} px)") for w in VIEW_WIDTHS]
    assert result.samples == 3 * (1 + len(VIEW_WIDTHS))
    assert "enrolled from one photo" in result.advice["family1_son"]  # views are not another look


def test_views_stay_near_the_photo_and_only_shrink_it(describer):
    rgb = load_image(STILLS / "Family1-Son1.jpg")
    face = describer.describe(rgb, max(Detector().find(rgb), key=lambda d: d.box.width))
    views = camera_views(describer, rgb, face.box, (50, 70, 100, 10_000))
    assert [v.width for v in views] == [50, 70, 100]  # a width over the face's own is no view of it
    drift = [float(np.linalg.norm(v.descriptor - face.descriptor)) for v in views]
    assert all(0 < d < 0.25 for d in drift), drift
    assert [v.rgb.shape[1] < rgb.shape[1] for v in views] == [True] * 3


def test_a_face_the_photo_alone_missed_is_named_and_a_stranger_is_not(tmp_path, describer):
    from core.gallery.api import Gallery

    video, labels = recording(tmp_path)
    with Gallery(tmp_path / "old.db", describer=describer) as old:  # the enrollment before the views
        for name, photo in FAMILY.items():
            old.enroll(name, [STILLS / photo])
        before = eval_video(video, labels, old)
    with Gallery(tmp_path / "new.db", describer=describer) as new:
        enroll_folder(new, staff_folder(tmp_path))
        after = eval_video(video, labels, new)
    assert outcomes(before) == {
        "family1_son": "unknown",
        "family1_dad": "right",
        "family1_mom": "right",
        "family3_lady": "unknown",
    }
    assert outcomes(after) == {"family1_son": "right", "family1_dad": "right", "family1_mom": "right", "family3_lady": "unknown"}
    assert after.totals()["named_wrong"] == 0 and after.totals()["strangers_named"] == 0


def test_removing_a_photo_removes_its_views(tmp_path, gallery):
    enroll_folder(gallery, staff_folder(tmp_path))
    ((photo_id,),) = gallery.store.read(
        "SELECT s.id FROM samples s JOIN people p ON p.id = s.person_id WHERE p.name = 'family1_son' AND s.how = 'photo'"
    )
    assert gallery.store.person("family1_son").sample_count == 1 + len(VIEW_WIDTHS)
    gallery.remove_sample(photo_id)
    assert gallery.store.person("family1_son").sample_count == 0
    assert gallery.store.person("family1_dad").sample_count == 1 + len(VIEW_WIDTHS)  # nobody else's views
    son = gallery.faces(fitted(STILLS / "Family1-Son1.jpg"))[0]
    assert gallery.identify_descriptor(son.descriptor).name != "family1_son"


def test_a_photo_and_its_views_are_removed_together_or_not_at_all(gallery):
    """Removing a photo's sample removes its camera views in the same transaction: a failure part
    way (here the database refusing to delete the photo's own row) leaves the photo, every view and
    the index as they were, never views gone from the database and still matching."""
    from core.vision.images import load_image as load
    from tests.support.data import IMAGES

    gallery.enroll("Barack", [str(IMAGES / "obama.jpg")], views=VIEW_WIDTHS)
    rows = gallery.store.read("SELECT id, how FROM samples ORDER BY id")
    photo, views = rows[0][0], [sid for sid, how in rows if how == PHOTO_VIEW]
    assert len(views) == len(VIEW_WIDTHS)
    probe = max(gallery.faces(load(IMAGES / "obama.jpg")), key=lambda f: f.box.area).descriptor
    with gallery.store.write("a row the database will not delete") as db:
        db.execute(
            f"CREATE TRIGGER keep BEFORE DELETE ON samples WHEN OLD.id = {views[-1]} BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    try:
        gallery.remove_sample(photo)
    except Exception as exc:
        assert "disk full" in str(exc)
    else:
        raise AssertionError("the removal went through a row the database refused to delete")
    assert [r[0] for r in gallery.store.read("SELECT id FROM samples ORDER BY id")] == [r[0] for r in rows]
    assert gallery.identify_descriptor(probe).name == "Barack"
    with gallery.store.write("the disk has room again") as db:
        db.execute("DROP TRIGGER keep")
    gallery.remove_sample(photo)
    assert gallery.store.read("SELECT count(*) FROM samples") == [(0,)]
    assert gallery.identify_descriptor(probe).name is None
