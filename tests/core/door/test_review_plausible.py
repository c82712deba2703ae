"""The review queue only adds plausible faces (core.gallery.plausible), with real descriptors: a
gallery where Lin-Manuel is the only person (so "nearest by a margin" is always true), and faces
queued from his clip and from photos of other people. A face within the threshold is added; one
farther needs a confirmation; one beyond the different-people distance is refused even when
confirmed and added only when forced; each sample says how it was added and is undone in one
step (a person enrolled from the queue goes with their only sample). The same on the command line: the refusal names the distance and the flag to go on."""

from __future__ import annotations

import json

import pytest

from core.door.review import Implausible, RecentFaces
from core.door.visitors import Visitors, VisitorSettings
from core.gallery.api import Gallery
from core.gallery.plausible import CONFIRM, DIFFERENT, DIFFERENT_PEOPLE, NEAR, plausibility
from core.vision.images import load_image
from tests.support.cli import facegate
from tests.support.data import IMAGES, LIN_SHOT
from tests.support.review import queue_face

LIN = "Lin-Manuel"


def test_the_rule_has_three_bands_and_never_falls_below_the_threshold():
    assert plausibility(0.39, 0.4).level == NEAR and plausibility(0.4, 0.4).refusal(LIN) is None
    between = plausibility(0.45, 0.4)
    assert between.level == CONFIRM and between.refusal(LIN, confirmed=True) is None
    assert "0.450 from Lin-Manuel's nearest sample, farther than the match threshold 0.4" in between.refusal(LIN)
    beyond = plausibility(0.61, 0.4)
    assert beyond.level == DIFFERENT and beyond.refusal(LIN, confirmed=True) and beyond.refusal(LIN, forced=True) is None
    assert "beyond 0.6, the distance at which two faces are different people" in beyond.refusal(LIN, confirmed=True)
    assert plausibility(0.61, 0.65).level == NEAR  # a looser threshold already names such faces
    assert DIFFERENT_PEOPLE == 0.6


def faces_of_lin(recent: RecentFaces, clip) -> tuple[int, int]:
    """Two of his faces from the clip: one within the threshold of his samples, one between the
    threshold and the different-people distance (his head turning in)."""
    near = between = None
    for i in LIN_SHOT:
        face_id = queue_face(recent, clip[i])
        distance = recent.face(face_id).nearest[0][1]
        if distance <= 0.35 and near is None:
            near = face_id
        elif 0.42 <= distance <= 0.55 and between is None:
            between = face_id
        if near and between:
            return near, between
    raise AssertionError(f"the clip no longer has both kinds of face: near {near}, between {between}")


def test_adding_by_distance_refuses_asks_to_confirm_or_needs_force(lin_gallery, clip):
    recent = RecentFaces(lin_gallery)
    enrolled = lin_gallery.store.person(LIN).sample_count
    near, between = faces_of_lin(recent, clip)
    stranger = queue_face(recent, load_image(IMAGES / "biden.jpg"))
    assert recent.face(stranger).nearest[0][0] == LIN and recent.face(stranger).nearest[0][1] > DIFFERENT_PEOPLE

    sample = recent.add(near, LIN)  # what the door names him anyway
    (source,) = [s.source for s in lin_gallery.store.samples(LIN) if s.id == sample]
    assert source.startswith(f"review: recent face #{near} (0.") and "confirmed" not in source

    with pytest.raises(Implausible, match="farther than the match threshold 0.4: it may be Lin-Manuel") as asked:
        recent.add(between, LIN)
    assert asked.value.needs == "confirm" and 0.4 < asked.value.plausible.distance <= DIFFERENT_PEOPLE
    assert lin_gallery.store.thumbnail(asked.value.sample_id)  # his nearest sample, to show beside it
    sample = recent.add(between, LIN, confirm=True)
    (source,) = [s.source for s in lin_gallery.store.samples(LIN) if s.id == sample]
    assert source.endswith(", confirmed)") and recent.face(between).status == "added"

    # the one-person gallery: Biden is "nearest Lin-Manuel by any margin", and still refused
    for confirm in (False, True):
        with pytest.raises(
            Implausible,
            match="beyond 0.6, the distance at which two faces are different people: refused unless an admin forces it",
        ) as refused:
            recent.add(stranger, LIN, confirm=confirm)
        assert refused.value.needs == "force"
    assert recent.face(stranger).status == "new"
    assert lin_gallery.store.person(LIN).sample_count == enrolled + 2
    results = recent.apply([stranger], "add", LIN, confirm=True)  # a selection, as the page sends it
    assert isinstance(results[0][1], Implausible)

    forced = recent.add(stranger, LIN, force=True)
    (source,) = [s.source for s in lin_gallery.store.samples(LIN) if s.id == forced]
    assert source.endswith(", forced by an admin)")
    assert recent.undo(stranger) == forced  # one step back
    assert forced not in {s.id for s in lin_gallery.store.samples(LIN)}
    assert recent.face(stranger).status == "undone" and recent.face(stranger).outcome == "added, then undone"
    assert lin_gallery.store.person(LIN).sample_count == enrolled + 2
    with pytest.raises(Exception, match="was not added as a sample"):
        recent.undo(stranger)

    recent.enroll_new(stranger, "Joe")  # a new person from the queue,
    assert lin_gallery.store.find_person("Joe") is not None
    recent.undo(stranger)  # undone: the person goes too
    assert lin_gallery.store.find_person("Joe") is None and recent.face(stranger).outcome == "enrolled, then undone"


def test_the_command_line_says_the_distance_and_how_to_go_on(lin_gallery, clip, tmp_path):
    recent = RecentFaces(lin_gallery)
    _near, between = faces_of_lin(recent, clip)
    stranger = queue_face(recent, load_image(IMAGES / "biden.jpg"))
    distance = recent.face(stranger).nearest[0][1]
    db = lin_gallery.store.path
    lin_gallery.close()

    refused = facegate("recent", "add", between, LIN, "--db", db)
    assert refused.returncode == 2 and "farther than the match threshold 0.4" in refused.stderr
    assert f"to add it anyway: facegate recent add {between} {LIN} --confirm" in refused.stderr
    refused = facegate("recent", "add", stranger, LIN, "--db", db, "--confirm")
    assert refused.returncode == 2
    assert (
        f"{distance:.3f} from {LIN}'s nearest sample, beyond 0.6, the distance at which two faces are different "
        f"people: refused unless an admin forces it; to add it anyway: facegate recent add {stranger} {LIN} "
        "--force"
    ) in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""

    added = facegate("recent", "add", between, LIN, "--confirm", "--db", db, check=True)
    assert f"face {between} added to {LIN}" in added.stdout and f"facegate recent undo {between}" in added.stdout
    forced = json.loads(facegate("recent", "add", stranger, LIN, "--force", "--db", db, "--json", check=True).stdout)
    assert forced["face"] == stranger and forced["added_to"] == LIN
    undone = facegate("recent", "undo", stranger, "--db", db, check=True)
    assert f"face {stranger}: sample {forced['sample']} removed" in undone.stdout
    again = facegate("recent", "undo", stranger, "--db", db)
    assert again.returncode == 2 and "nothing to undo" in again.stderr
    with Gallery(db) as g:
        sources = [s.source for s in g.store.samples(LIN)]
        assert any(s.startswith(f"review: recent face #{between}") and s.endswith("confirmed)") for s in sources)
        assert not any(f"#{stranger} " in s for s in sources)


def test_a_visitor_joins_someone_enrolled_only_as_the_rule_says_and_never_unblocks_them(gallery, tmp_path):
    """The Visitors page and `facegate visitors --enroll ID NAME` add an unknown visitor's faces to
    someone enrolled by the same rule, for the visitor's face farthest from their samples."""
    visitors = Visitors(gallery.store, VisitorSettings())
    gallery.enroll("Barack", [str(IMAGES / "obama.jpg")])
    gallery.set_allowed("Barack", False)  # blocked
    (obama,) = [f.descriptor for f in gallery.faces(str(IMAGES / "obama2.jpg"))]
    (biden,) = [f.descriptor for f in gallery.faces(str(IMAGES / "biden.jpg"))]
    him, _ = visitors.assign([obama], snapshot=b"\xff\xd8obama")
    stranger, _ = visitors.assign([biden], snapshot=b"\xff\xd8biden")

    with pytest.raises(
        Implausible,
        match=r"visitor #\d+ \(its face farthest from Barack's samples\): it is 0\.\d+ "
        "from Barack's nearest sample, beyond 0.6",
    ) as refused:
        visitors.enroll(stranger, gallery, "Barack", allowed=True, confirm=True)
    assert refused.value.needs == "force" and refused.value.what == f"visitor #{stranger}"
    assert gallery.store.person("Barack").sample_count == 1

    visitors.enroll(him, gallery, "Barack", allowed=True, confirm=True)  # his own face
    barack = gallery.store.person("Barack")
    assert barack.sample_count == 2 and not barack.allowed  # adding faces never unblocks
    assert gallery.store.samples("Barack")[-1].source.startswith(f"unknown visitor #{him} (0.")
    db = gallery.store.path
    gallery.close()
    out = facegate("visitors", "--enroll", stranger, "Barack", "--db", db)
    assert out.returncode == 2 and "beyond 0.6, the distance at which two faces are different people" in out.stderr
    assert f"to add them anyway: facegate visitors --enroll {stranger} Barack --force" in out.stderr
    forced = facegate("visitors", "--enroll", stranger, "Barack", "--force", "--db", db, "--json", check=True)
    assert json.loads(forced.stdout)["samples"] == 3
    with Gallery(db) as g:
        assert g.store.samples("Barack")[-1].source.endswith(", forced by an admin)")
        assert not g.store.person("Barack").allowed
