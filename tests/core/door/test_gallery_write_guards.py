"""Every path that teaches the gallery a face is guarded alike (real photos, real descriptors): a
name typed with other spaces is the person of that name, never a way round "already enrolled?";
adding faces never lets a blocked person in again; a visitor's faces join someone only when
nearer them than anyone else and near nobody else's samples, as the review queue's; and a
look-alike's own stricter threshold is the one a face added to them is measured against."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.door.review import Implausible, RecentFaces, Refused
from core.door.visitors import Visitors, VisitorSettings
from core.errors import StoreError
from core.gallery.store import NewSample
from core.vision.images import load_image
from tests.support.cli import facegate
from tests.support.data import IMAGES, KNN
from tests.support.review import queue_face


def _descriptor(gallery, path) -> np.ndarray:
    """The descriptor of the photo's largest face."""
    return max((f for f in gallery.faces(str(path)) if f.descriptor is not None), key=lambda f: f.box.area).descriptor


def test_a_name_typed_with_other_spaces_is_the_person_of_that_name(gallery):
    gallery.enroll("Barack Obama", [str(IMAGES / "obama.jpg")])
    gallery.set_allowed("Barack Obama", False)  # blocked
    assert gallery.store.person("  Barack   Obama ").name == "Barack Obama"
    recent = RecentFaces(gallery)
    stranger = queue_face(recent, load_image(IMAGES / "biden.jpg"))
    for typed in ("Barack  Obama", " Barack Obama", "Barack Obama\t"):
        with pytest.raises(Refused, match="Barack Obama is already enrolled"):
            recent.enroll_new(stranger, typed)
    visitors = Visitors(gallery.store, VisitorSettings())
    biden, _ = visitors.assign([_descriptor(gallery, IMAGES / "biden.jpg")], snapshot=b"\xff\xd8biden")
    with pytest.raises(Implausible, match="farthest from Barack Obama's samples"):  # the add path, with its guards
        visitors.enroll(biden, gallery, "Barack  Obama", allowed=True)
    barack = gallery.store.person("Barack Obama")
    assert barack.sample_count == gallery.store.person(barack.id).sample_count and not barack.allowed
    with pytest.raises(StoreError, match="already enrolled"):  # a path that means a new person never adds to one
        gallery.enroll_samples("Barack   Obama", [NewSample(_descriptor(gallery, IMAGES / "biden.jpg"))], new=True)
    assert gallery.store.person("Barack Obama").sample_count == barack.sample_count


def test_adding_faces_never_lets_a_blocked_person_in(gallery):
    gallery.enroll("Barack", [str(IMAGES / "obama.jpg")])
    gallery.set_allowed("Barack", False)
    gallery.enroll("Barack", [str(IMAGES / "obama2.jpg")], allowed=True)
    assert not gallery.store.person("Barack").allowed
    db = gallery.store.path
    gallery.close()
    out = facegate("enroll", "Barack", IMAGES / "obama-480p.jpg", "--db", db, check=True)
    assert "Barack stays blocked" in out.stdout
    out = facegate("enroll", "Barack", IMAGES / "obama-720p.jpg", "--db", db, "--json", check=True)
    assert json.loads(out.stdout)["allowed"] is False
    out = facegate("enroll", "Michelle", IMAGES / "obama-720p.jpg", "--db", db, "--denied", "--json", check=True)
    assert json.loads(out.stdout)["allowed"] is False  # a new person's standing is still as asked


def test_a_visitor_joins_someone_only_when_nearer_them_than_anyone_else(gallery):
    gallery.enroll("Barack", [str(IMAGES / "obama.jpg")])
    gallery.enroll("Joe", [str(IMAGES / "biden.jpg")])
    visitors = Visitors(gallery.store, VisitorSettings())
    joe_again = _descriptor(gallery, KNN / "train" / "biden" / "biden.jpg")  # a copy of his enrolled photo
    visitor, _ = visitors.assign([joe_again], snapshot=b"\xff\xd8joe")
    with pytest.raises(Refused, match=rf"visitor #{visitor}'s face is nearer Joe \(0\.\d+\) than Barack"):
        visitors.enroll(visitor, gallery, "Barack", force=True)  # not even an admin's force adds Joe's face to Barack
    with pytest.raises(Refused, match=rf"visitor #{visitor}'s face is within 0.4 of Joe's samples"):
        visitors.enroll(visitor, gallery, "Courier")  # nor makes a new person whom Joe's face would let in
    assert {p.name: p.sample_count for p in gallery.people()} == {
        "Barack": gallery.store.person("Barack").sample_count,
        "Joe": gallery.store.person("Joe").sample_count,
    }
    visitors.enroll(visitor, gallery, "Joe")  # his own: added
    assert gallery.store.samples("Joe")[-1].source.startswith(f"unknown visitor #{visitor}")


def test_a_look_alikes_own_threshold_measures_the_faces_added_to_them(gallery):
    gallery.enroll("Barack", [str(IMAGES / "obama.jpg")])
    again = _descriptor(gallery, IMAGES / "obama2.jpg")
    distance = min(float(np.linalg.norm(s.descriptor - again)) for s in gallery.store.samples("Barack"))
    assert 0.1 < distance < 0.4  # within the door's threshold: added without a look
    gallery.set_threshold("Barack", round(distance - 0.05, 3), gallery.threshold)  # a look-alike's stricter one
    recent = RecentFaces(gallery)
    face = queue_face(recent, load_image(IMAGES / "obama2.jpg"))
    with pytest.raises(Implausible, match=r"farther than the match threshold 0\.\d+: it may be Barack") as refused:
        recent.add(face, "Barack")
    assert refused.value.needs == "confirm"
    visitors = Visitors(gallery.store, VisitorSettings())
    visitor, _ = visitors.assign([again], snapshot=b"\xff\xd8obama")
    with pytest.raises(Implausible):
        visitors.enroll(visitor, gallery, "Barack")
    recent.add(face, "Barack", confirm=True)  # after an operator looked at both faces
    assert gallery.store.samples("Barack")[-1].source.endswith(", confirmed)")


def test_learning_never_makes_a_new_person_of_one_removed_while_it_judged(gallery, monkeypatch):
    """Learning mode judges a granted face against the person, then adds it: if the site's sync
    removes that person in between (deleted at the site, or out of this door's groups), the face
    is not learned - before, it was enrolled by name, which made a new, allowed person of it."""
    import core.door.review as review
    from core.door.access_log import AccessEvent
    from core.door.review import ReviewSettings
    from core.door.verdict import Verdict
    from core.records import Quality
    from core.site.local import Batch, LocalSite
    from core.site.sync import apply_batch
    from tests.support.site import jitter

    site = LocalSite(gallery.store)
    site.join("00000000-0000-4000-8000-000000000001")  # a door of a site
    obama = _descriptor(gallery, IMAGES / "obama.jpg")
    person, _ = gallery.enroll_samples("Barack", [NewSample(obama)])
    (site_id,) = gallery.store.read("SELECT site_id FROM people WHERE id = ?", (person.id,))[0]
    with gallery.store.write("as if pushed and approved") as db:
        db.execute("DELETE FROM site_outbox")
    face = jitter(obama, 1, 0.03)  # his face at the door, a little unlike his sample
    recent = RecentFaces(gallery, ReviewSettings(learning=True, learn_min_spread=0.0))
    judged = review.not_near_others

    def the_sync_lands_now(*args, **kwargs):  # the sync thread's pull, between the checks and the write
        apply_batch(gallery, Batch(site.cursor() + 1, [site_id], {}))  # the site removed Barack
        return judged(*args, **kwargs)

    monkeypatch.setattr(review, "not_near_others", the_sync_lands_now)
    recent.record(
        AccessEvent(Verdict.GRANTED, "Barack", person.id, "granted"),
        face,
        Quality(100.0, 120, 0.0, 0.0, 0.99),
        [],
        live_grant=True,
    )
    assert gallery.people() == []
    assert gallery.identify_descriptor(face).name is None
    assert gallery.store.read("SELECT count(*) FROM site_outbox")[0][0] == 0  # nothing proposed to the site either
