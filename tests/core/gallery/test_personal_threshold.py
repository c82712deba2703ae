"""A person's own stricter threshold (look-alikes, twins), on real descriptors: a face the door's
threshold names is not named once its person has a stricter one, by the gallery and by the door's
grant rule alike; a threshold looser than the door's is refused and changes nothing; it is kept
in the gallery and shown and set by ``facegate people`` and ``facegate threshold``."""

from __future__ import annotations

import json

import pytest

from core.door.policy import DecisionSettings, GrantPolicy, Standing
from core.door.verdict import Verdict
from core.errors import FaceGateError
from tests.support.cli import facegate
from tests.support.data import KNN, copy_db

PROBE = KNN / "test" / "obama1.jpg"  # obama at 0.35 from his one training photo (test_recognition)


def _obama_probe(gallery):
    (face, match), *_ = gallery.identify(str(PROBE))
    return face.descriptor, match


def test_a_stricter_threshold_keeps_him_unnamed_where_the_door_would_name_him(knn_gallery):
    descriptor, before = _obama_probe(knn_gallery)
    assert before.name == "obama" and 0.3 < before.distance < 0.4  # the door's 0.4 names him

    person = knn_gallery.set_threshold("obama", 0.3, door_threshold=0.4)
    assert person.threshold == pytest.approx(0.3)
    after = knn_gallery.identify_descriptor(descriptor)
    assert after.name is None
    assert after.distance == pytest.approx(before.distance)
    assert "obama's own threshold 0.30" in after.reason

    # the door's grant rule re-judges with its own threshold: the personal one still holds there
    policy = GrantPolicy(DecisionSettings())
    decision = policy.decide(1, [after] * 5, None, lambda pid: Standing("obama"))
    assert decision.verdict == Verdict.UNSURE and decision.person is None
    # everyone else is judged by the door's threshold as before
    assert any(m.name == "biden" for _, m in knn_gallery.identify(str(KNN / "test" / "obama_and_biden.jpg")))

    knn_gallery.set_threshold("obama", None, door_threshold=0.4)
    assert knn_gallery.identify_descriptor(descriptor).name == "obama"
    decision = policy.decide(1, [knn_gallery.identify_descriptor(descriptor)] * 5, None, lambda pid: Standing("obama"))
    assert decision.verdict == Verdict.GRANTED


def test_the_smaller_of_his_and_the_doors_threshold_applies(knn_gallery):
    descriptor, before = _obama_probe(knn_gallery)
    knn_gallery.set_threshold("obama", 0.38, door_threshold=0.4)
    assert knn_gallery.identify_descriptor(descriptor).name == "obama"  # 0.35 is within his 0.38
    # a door made stricter later (0.33) is not loosened by his older 0.38
    stricter = knn_gallery.identify_descriptor(descriptor, threshold=0.33)
    assert stricter.name is None and "over the threshold 0.33" in stricter.reason


@pytest.mark.parametrize("value", [0.4, 0.45, 0.0, -0.1])
def test_a_threshold_not_stricter_than_the_doors_is_refused_and_changes_nothing(knn_gallery, value):
    knn_gallery.set_threshold("obama", 0.3, door_threshold=0.4)
    with pytest.raises(FaceGateError, match="stricter than the door's 0.4"):
        knn_gallery.set_threshold("obama", value, door_threshold=0.4)
    assert knn_gallery.store.person("obama").threshold == pytest.approx(0.3)
    assert knn_gallery.identify_descriptor(_obama_probe(knn_gallery)[0]).name is None


def test_the_command_line_sets_shows_and_refuses(knn_db, tmp_path):
    db = copy_db(knn_db, tmp_path)
    refused = facegate("threshold", "obama", "0.45", "--db", db)
    assert refused.returncode != 0 and "stricter than the door's 0.4" in refused.stderr
    facegate("threshold", "obama", "0.3", "--db", db, check=True)
    people = {p["name"]: p for p in json.loads(facegate("people", "--db", db, "--json", check=True).stdout)}
    assert people["obama"]["threshold"] == pytest.approx(0.3)
    assert people["biden"]["threshold"] is None
    (face,) = json.loads(facegate("identify", PROBE, "--db", db, "--json", check=True).stdout)
    assert face["name"] is None and face["candidates"][0]["name"] == "obama" and face["candidates"][0]["distance"] < 0.4
    facegate("threshold", "obama", "door", "--db", db, check=True)
    (face,) = json.loads(facegate("identify", PROBE, "--db", db, "--json", check=True).stdout)
    assert face["name"] == "obama"
