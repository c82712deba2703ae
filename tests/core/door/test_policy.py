"""The grant rule on its own (core.door.policy), frame by frame: real identifications of real
photos (obama and biden of two_people.jpg, Lin-Manuel, who is not enrolled, against the knn
gallery), fed one more per frame as the live loop does, with the person's standing as the
decider would read it and liveness from a real LivenessCheck watching a still photo."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.door.policy import DecisionSettings, GrantPolicy, Standing
from core.door.schedule import DAYS, Schedules, parse_windows
from core.door.verdict import Verdict
from core.vision.images import load_image
from core.vision.liveness import LivenessCheck, LivenessResult
from tests.support.data import IMAGES, copy_gallery

NO_LIVENESS = DecisionSettings(liveness=False)


@pytest.fixture(scope="module")
def faces(knn_db, tmp_path_factory, describer):
    """(obama's match, biden's match, nobody's match, the photo, obama's box), identified once."""
    g = copy_gallery(knn_db, tmp_path_factory.mktemp("policy"), describer)
    try:
        rgb = load_image(IMAGES / "two_people.jpg")
        (box, obama), (_, biden) = [(f.box, g.identify_descriptor(f.descriptor)) for f in g.faces(rgb)]
        nobody = g.identify(IMAGES / "lin-manuel-miranda.png")[0][1]
        schedules = Schedules(g.store)
        other_day = DAYS[(datetime.now() + timedelta(days=3)).weekday()]
        schedules.set(obama.person_id, parse_windows(f"{other_day} 08:00-18:00"))
        outside = schedules.allows(obama.person_id, datetime.now())
    finally:
        g.close()
    assert (obama.name, biden.name, nobody.name) == ("obama", "biden", None)
    assert obama.distance < 0.4 < nobody.distance and not outside[0]
    return obama, biden, nobody, rgb, box, outside[1]


class People:
    """Each person's standing as the decider reads it from the gallery; notes who was asked about."""

    def __init__(self, *standing: tuple[int, Standing]) -> None:
        self.by_id = dict(standing)
        self.asked: list[int] = []

    def __call__(self, person_id: int) -> Standing | None:
        self.asked.append(person_id)
        return self.by_id.get(person_id)


def frame_by_frame(policy, sequence, standing, alive=None) -> list:
    """The decision after each new identification, as the live loop hands them over."""
    return [policy.decide(7, list(sequence[: i + 1]), alive, standing) for i in range(len(sequence))]


def test_three_agreeing_identifications_grant_and_the_person_is_read_only_then(faces):
    obama, *_ = faces
    people = People((obama.person_id, Standing("obama")))
    policy = GrantPolicy(NO_LIVENESS)
    decisions = frame_by_frame(policy, [obama] * 3, people)

    assert [d.verdict for d in decisions] == [Verdict.IDENTIFYING, Verdict.IDENTIFYING, Verdict.GRANTED]
    assert decisions[1].reason == "2 of 3 identifications of obama so far" and decisions[1].person == "obama"
    assert people.asked == [obama.person_id]  # the gallery is asked once the identifications agree
    granted = decisions[-1]
    assert granted.person == "obama" and granted.person_id == obama.person_id and granted.track == 7
    assert granted.reason.startswith("obama: 3 of the last 5 identifications agree")
    assert granted.distance == pytest.approx(obama.distance) and granted.margin == pytest.approx(obama.margin)
    assert not granted.final  # final once the door has taken the pulse (the decider's visit rule)
    assert policy.decide(7, [], None, people).verdict == Verdict.IDENTIFYING


def test_too_few_agreeing_identifications_are_unsure_and_nobody_three_times_is_unknown(faces):
    obama, _, nobody, *_ = faces
    people = People((obama.person_id, Standing("obama")))
    policy = GrantPolicy(NO_LIVENESS)

    decisions = frame_by_frame(policy, [obama, nobody, nobody, obama, nobody], people)
    # one name among fewer than five looks is still being identified; at five, two are too few
    assert [d.verdict for d in decisions] == [Verdict.IDENTIFYING] * 4 + [Verdict.UNSURE]
    assert decisions[3].reason == "2 of 3 identifications of obama so far"
    assert "obama in only 2 of the last 5" in decisions[-1].reason and decisions[-1].person is None
    assert people.asked == []

    unknown = frame_by_frame(policy, [nobody] * 3, people)
    assert [d.verdict for d in unknown] == [Verdict.UNSURE, Verdict.UNSURE, Verdict.UNKNOWN]
    assert unknown[-1].person is None and unknown[-1].distance == pytest.approx(nobody.distance)

    # the decision's own threshold re-judges the live matches: under obama's distance he is nobody
    strict = GrantPolicy(DecisionSettings(liveness=False, threshold=obama.distance - 0.01))
    assert [d.verdict for d in frame_by_frame(strict, [obama] * 5, people)][-1] == Verdict.UNKNOWN


def test_a_second_person_nearest_among_the_last_five_stops_the_grant(faces):
    obama, biden, *_ = faces
    people = People((obama.person_id, Standing("obama")), (biden.person_id, Standing("biden")))
    policy = GrantPolicy(NO_LIVENESS)
    decisions = frame_by_frame(policy, [obama, obama, biden, obama, obama, obama, obama, obama], people)

    verdicts = [d.verdict for d in decisions]
    # biden stays among the last five up to the 7th frame; then five of obama
    assert verdicts == [Verdict.IDENTIFYING] * 2 + [Verdict.UNSURE] * 5 + [Verdict.GRANTED], verdicts
    assert decisions[3].reason == "identifications disagree (biden, obama)"
    assert people.asked == [obama.person_id]


def test_liveness_pending_holds_the_person_until_a_cue_passes(faces, describer):
    obama, _, _, rgb, box, _ = faces
    people = People((obama.person_id, Standing("obama")))
    settings = DecisionSettings(screen_check="off")
    policy = GrantPolicy(settings)
    check = LivenessCheck(describer, settings.liveness_settings())
    alive = [check.observe(rgb, box, i / 10) for i in range(3)]  # a still photo: no blink, no turn
    assert not alive[-1].passed

    held = [policy.decide(7, [obama] * (i + 1), a, people) for i, a in enumerate(alive)]
    assert [d.verdict for d in held] == [Verdict.IDENTIFYING, Verdict.IDENTIFYING, Verdict.CHECKING_LIVENESS]
    assert all(d.liveness == alive[-1].reason for d in held)  # what is awaited rides along from the first frame
    assert held[-1].person == "obama" and not held[-1].final and held[-1].reason.startswith(alive[-1].reason)

    blinked = LivenessResult(True, "blinked")
    granted = policy.decide(7, [obama] * 4, blinked, people)
    assert granted.verdict == Verdict.GRANTED and granted.reason.endswith("; blinked") and granted.liveness == "blinked"

    left = policy.left(held[-1], [obama] * 3)
    assert left.verdict == Verdict.NO_LIVENESS and left.reason.startswith("left while checking liveness: ")


def test_schedule_gates_and_allowed_deny_for_good_and_a_removed_person_is_unsure(faces):
    obama, _, _, _, _, outside = faces
    policy = GrantPolicy(NO_LIVENESS)

    def last(standing: Standing | None):
        return frame_by_frame(policy, [obama] * 3, People(*([(obama.person_id, standing)] if standing else [])))[-1]

    schedule = last(Standing("obama", outside=outside))
    assert schedule.verdict == Verdict.DENIED_SCHEDULE and schedule.final
    assert schedule.reason.startswith(outside) and "is outside" in outside
    refused = last(Standing("obama", allowed=False))
    assert refused.verdict == Verdict.DENIED and refused.final and refused.reason.startswith("obama is not allowed in;")
    vetoed = last(Standing("obama", veto="nobody is let in (offline policy)"))
    assert vetoed.verdict == Verdict.DENIED and vetoed.reason.startswith("nobody is let in (offline policy); 3 of")
    removed = last(None)
    assert removed.verdict == Verdict.UNSURE and not removed.final and removed.reason == "obama was removed from the gallery"


def test_a_visit_that_leaves_undecided_is_logged_as_what_it_was(faces):
    obama, _, nobody, *_ = faces
    people = People((obama.person_id, Standing("obama")))
    policy = GrantPolicy(NO_LIVENESS)

    identifying = policy.decide(7, [obama], None, people)
    left = policy.left(identifying, [obama])
    assert left.verdict == Verdict.UNSURE and left.reason == "left while identifying: 1 of 3 identifications of obama so far"
    unsure = policy.decide(7, [nobody], None, people)
    left = policy.left(unsure, [nobody])  # one look matching nobody: Unknown before unknown_after
    assert unsure.verdict == Verdict.UNSURE and left.verdict == Verdict.UNKNOWN and left.reason == nobody.reason
