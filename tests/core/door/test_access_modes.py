"""Per-person access modes on the real clip played through the door: face+PIN (a wrong PIN is
refused and logged, the right one then opens; no PIN times out shut; wrong PINs in a row lock
the person out, on this visit and the next), face+card (a card nobody holds and another
person's card are refused, the person's own opens), and the duress PIN: the door opens as for
the PIN, the grant's entry is word for word a normal one, and a Duress entry beside it reaches
a real MQTT broker and a webhook."""

from __future__ import annotations

import json
import time

import pytest

from core.door.access_log import AccessLog
from core.door.decide import DoorDecider
from core.door.drivers import SimulatedDoor
from core.door.event_settings import EventSettings
from core.door.events import EventPublisher
from core.door.factors import AccessError, KeyboardWedge, access_change
from core.door.policy import DecisionSettings
from core.door.verdict import Verdict
from core.gallery.secret import matches
from core.live.loop import LiveRecognizer
from core.live.worker import InlineWorker
from tests.support.data import IMAGES
from tests.support.receivers import Broker, Subscriber, WebhookServer

LIN = "Lin-Manuel"
PIN, DURESS = "4821", "4822"
BASE = "facegate/front_door"


def set_access(gallery, access: str, pin: str | None = None, duress: str | None = None) -> None:
    change = access_change(access, pin, duress, *gallery.store.pins(gallery.store.person(LIN).id))
    gallery.store.set_access(LIN, change.access, change.pin, change.duress_pin)


@pytest.fixture
def door():
    d = SimulatedDoor(pulse_seconds=0.2, cooldown_seconds=0.5)
    yield d
    d.close()


def play(gallery, decider, clip, on_ask=None, frames=None, offset: float = 0.0) -> list:
    """The clip through the live loop and the door; ``on_ask(frame, decision)`` runs on each
    frame where Lin-Manuel's visit awaits its second factor. Lin-Manuel's decisions, in order."""
    rec = LiveRecognizer(gallery, descriptor_worker=InlineWorker(gallery.describer), decider=decider)
    seen = []
    try:
        for i in frames or range(len(clip)):
            for view in rec.process(clip[i], offset + i / 30).tracks:
                d = view.decision
                if d is not None and d.person == LIN:
                    seen.append((i, d))
                    if d.verdict in (Verdict.AWAITING_PIN, Verdict.AWAITING_CARD) and on_ask is not None:
                        on_ask(i, d)
        rec.reset()  # every visit ends, as when the camera stops
    finally:
        rec.close()
        decider.flush()
    return seen


def settle(door) -> None:
    """Let the door thread carry out its pulse (unlock() only queues it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (door.state != "locked" or not door._jobs.empty()):
        time.sleep(0.02)


def verdicts(gallery) -> list[str]:
    return [e.verdict for e in reversed(AccessLog(gallery.store).events(person=LIN, limit=None))]


def test_face_and_pin_a_wrong_pin_is_refused_and_the_right_one_opens(lin_gallery, clip, door):
    set_access(lin_gallery, "face+pin", PIN)
    decider = DoorDecider(lin_gallery, door)
    answers: list[tuple[str, int]] = []

    def on_ask(i, decision):
        if not answers:
            answers.append((decider.enter_pin("1111"), door.pulses))
        elif len(answers) == 1:
            answers.append((decider.enter_pin(PIN), door.pulses))

    seen = play(lin_gallery, decider, clip, on_ask)
    settle(door)
    assert answers[0] == ("Wrong PIN", 0)  # refused: the door stayed shut
    assert answers[1][0] == "" and door.pulses == 1
    asked = [i for i, d in seen if d.verdict == Verdict.AWAITING_PIN]
    granted = [i for i, d in seen if d.verdict == Verdict.GRANTED]
    assert asked and granted and min(asked) < min(granted)  # the face alone did not open
    assert decider.enter_pin(PIN) == "No PIN is asked for now"
    assert verdicts(lin_gallery) == [Verdict.WRONG_PIN, Verdict.GRANTED]
    wrong, grant = reversed(AccessLog(lin_gallery.store).events(person=LIN, limit=None))
    assert "wrong PIN for Lin-Manuel: refused, 2 more tries" in wrong.reason and wrong.has_snapshot
    assert grant.reason.endswith("; PIN entered") and grant.door == "unlocking"
    assert PIN not in wrong.reason + grant.reason and "1111" not in wrong.reason


def test_face_and_pin_without_a_pin_times_out_shut(lin_gallery, clip, door):
    set_access(lin_gallery, "face+pin", PIN)
    decider = DoorDecider(lin_gallery, door, DecisionSettings(factor_timeout=1.0))
    seen = play(lin_gallery, decider, clip)
    assert door.pulses == 0
    asked = [i for i, d in seen if d.verdict == Verdict.AWAITING_PIN]
    ended = [(i, d) for i, d in seen if d.verdict == Verdict.NO_PIN]
    assert asked and ended and ended[0][1].final and 30 <= ended[0][0] - asked[0] <= 32  # 1 s of frames
    assert verdicts(lin_gallery) == [Verdict.NO_PIN]
    assert AccessLog(lin_gallery.store).events(person=LIN)[0].reason.startswith("no PIN within 1 s; Lin-Manuel: ")
    assert decider.enter_pin(PIN) == "No PIN is asked for now"  # too late: the visit is over


def test_wrong_pins_in_a_row_lock_the_person_out_for_a_while(lin_gallery, clip, door):
    set_access(lin_gallery, "face+pin", PIN)
    decider = DoorDecider(lin_gallery, door, DecisionSettings(factor_tries=3, lockout_seconds=60))
    answers: list[str] = []
    play(lin_gallery, decider, clip, lambda i, d: answers.append(decider.enter_pin("0000")) if len(answers) < 4 else None)
    assert answers == ["Wrong PIN"] * 3  # the third locked him out: nothing more was asked
    assert verdicts(lin_gallery) == [Verdict.WRONG_PIN, Verdict.WRONG_PIN, Verdict.WRONG_PIN, Verdict.LOCKED_OUT]
    assert "3 wrong PINs in a row: Lin-Manuel is locked out for 60 s" in AccessLog(lin_gallery.store).events(person=LIN)[0].reason

    # his next visit, 20 s later on the frames' clock: still locked out, even with the right PIN
    tried: list[str] = []
    seen = play(lin_gallery, decider, clip, lambda i, d: tried.append(decider.enter_pin(PIN)), offset=20.0)
    assert door.pulses == 0 and tried == []
    assert any(d.verdict == Verdict.LOCKED_OUT and "Lin-Manuel is locked out for " in d.reason for _, d in seen)
    assert verdicts(lin_gallery)[-1] == Verdict.LOCKED_OUT

    # after the lockout a right PIN works again
    opened: list[str] = []
    play(lin_gallery, decider, clip, lambda i, d: opened.append(decider.enter_pin(PIN)) if not opened else None, offset=100.0)
    settle(door)
    assert opened == [""] and door.pulses == 1


def test_face_and_card_only_the_persons_own_card_opens(lin_gallery, clip, door):
    lin_gallery.enroll("obama", [str(IMAGES / "obama.jpg")])
    lin_gallery.set_cards([(LIN, "1234567"), ("obama", "7654321")])
    set_access(lin_gallery, "face+card")
    decider = DoorDecider(lin_gallery, door)
    wedge = KeyboardWedge()  # a USB HID reader: digits then Enter, typed at once
    decider.listen_to(wedge)
    cards = iter(["999", "7654321", "1234567"])

    def on_ask(i, decision):
        number = next(cards, None)
        if number is not None:
            assert all(wedge.key(c) is False for c in number) and wedge.key("\r")

    play(lin_gallery, decider, clip, on_ask)
    settle(door)
    assert door.pulses == 1
    assert verdicts(lin_gallery) == [Verdict.WRONG_CARD, Verdict.WRONG_CARD, Verdict.GRANTED]
    reasons = [e.reason for e in reversed(AccessLog(lin_gallery.store).events(person=LIN, limit=None))]
    assert "(a card nobody here holds)" in reasons[0] and "(the card of obama)" in reasons[1]
    assert reasons[2].endswith("; card presented")


def test_a_card_number_typed_by_hand_is_not_a_card_read():
    t = [0.0]
    wedge = KeyboardWedge(clock=lambda: t[0])
    read: list[str] = []
    wedge.add_listener(read.append)
    for c in "1234567\r":
        t[0] += 0.2  # a person's typing: far slower than a reader's
        wedge.key(c)
    assert read == []
    for c in "1234567\r":
        t[0] += 0.01
        wedge.key(c)
    assert read == ["1234567"]


def test_access_changes_are_checked_and_pins_kept_only_as_slow_hashes(gallery):
    with pytest.raises(AccessError, match="needs a PIN"):
        access_change("face+pin", None, None, None, None)
    with pytest.raises(AccessError, match="digits only"):
        access_change("face+pin", "12ab", None, None, None)
    with pytest.raises(AccessError, match="4 to 8 digits"):
        access_change("face+pin", "123", None, None, None)
    with pytest.raises(AccessError, match="must differ"):
        access_change("face+pin", PIN, PIN, None, None)
    with pytest.raises(AccessError, match="needs the face\\+pin mode"):
        access_change("face+card", None, DURESS, None, None)
    change = access_change("face+pin", PIN, DURESS, None, None)
    record = json.loads(change.pin)
    assert record["kdf"] == "scrypt" and record["n"] >= 2**14 and len(bytes.fromhex(record["salt"])) == 16
    assert PIN not in change.pin and matches(change.pin, PIN) and not matches(change.pin, DURESS)
    assert matches(change.duress_pin, DURESS) and json.loads(change.duress_pin)["salt"] != record["salt"]
    kept = access_change("face+pin", None, None, change.pin, change.duress_pin)
    assert kept == change  # the mode again without new PINs keeps them
    assert access_change("face", None, None, change.pin, change.duress_pin) == access_change("face", None, None, None, None)


def test_duress_pin_opens_as_usual_and_raises_a_silent_alarm(lin_gallery, clip, door, tmp_path):
    set_access(lin_gallery, "face+pin", PIN, DURESS)
    broker = Broker(tmp_path).start()
    subscriber, hook = Subscriber(broker.port), WebhookServer()
    events = EventPublisher(EventSettings(mqtt_host="127.0.0.1", mqtt_port=broker.port, webhook_url=hook.url))
    decider = DoorDecider(lin_gallery, door)
    decider.on_logged.append(events.publish)
    answers: list[str] = []
    try:
        seen = play(lin_gallery, decider, clip, lambda i, d: answers.append(decider.enter_pin(DURESS)) if not answers else None)
        settle(door)
        assert answers == [""] and door.pulses == 1  # what the keypad says, and the door, as for his PIN
        grant = next(d for _, d in seen if d.verdict == Verdict.GRANTED)
        assert grant.final and grant.door == "unlocking" and grant.reason.endswith("; PIN entered")
        assert all(
            d.verdict in (Verdict.GRANTED, Verdict.AWAITING_PIN, Verdict.CHECKING_LIVENESS, Verdict.IDENTIFYING) for _, d in seen
        )

        logged = list(reversed(AccessLog(lin_gallery.store).events(person=LIN, limit=None)))
        assert [e.verdict for e in logged] == [Verdict.GRANTED, Verdict.DURESS]
        granted, alarm = logged
        assert granted.reason == grant.reason and granted.door == "unlocking"  # the grant's entry is a normal one
        assert alarm.reason == "duress PIN entered by Lin-Manuel; the door opened as usual (unlocking)" and alarm.has_snapshot
        assert DURESS not in alarm.reason and PIN not in alarm.reason

        assert events.flush(20), events.status()
        assert subscriber.wait_for(lambda: any(e["type"] == "duress" for e in subscriber.json_on(f"{BASE}/event")))
        duress = next(e for e in subscriber.json_on(f"{BASE}/event") if e["type"] == "duress")
        assert duress["event_type"] == "duress" and duress["person"] == LIN and duress["event_id"] == alarm.id
        assert {d["type"] for d in subscriber.json_on(f"{BASE}/decision")} >= {"granted", "duress"}
        # the retained "last person" shows the grant, never the alarm: a dashboard by the door shows nothing new
        assert subscriber.wait_for(lambda: subscriber.on(f"{BASE}/last_person/attrs"))
        last = [json.loads(m)["type"] for m in subscriber.on(f"{BASE}/last_person/attrs")]
        assert "granted" in last and "duress" not in last
        assert [b["type"] for b in hook.bodies if b["person"] == LIN] == ["granted", "duress"]
    finally:
        decider.close()
        events.close()
        subscriber.close()
        hook.close()
        broker.kill()


def test_a_pin_opens_only_for_the_person_it_was_typed_for(gallery):
    """P types P's PIN while the door is in its cooldown; before it is free again the same face is
    named Q (face+PIN too), who typed nothing: the door asks Q for Q's PIN, and never opens on P's."""
    import numpy as np

    from core.gallery.store import NewSample
    from core.records import Box, Candidate, Match

    rng = np.random.default_rng(0)
    for name, pin in (("P", "1111"), ("Q", "2222")):
        gallery.store.enroll(name, [NewSample(rng.normal(size=128).astype(np.float32))])
        change = access_change("face+pin", pin, None, None, None)
        gallery.store.set_access(name, change.access, change.pin, change.duress_pin)
    p, q = gallery.store.person("P"), gallery.store.person("Q")

    def named(who, other) -> Match:
        return Match(
            who.name, who.id, 0.30, 0.3, [Candidate(who.id, who.name, 0.30, 1), Candidate(other.id, other.name, 0.60, 2)], "ok"
        )

    door = SimulatedDoor(pulse_seconds=0.2, cooldown_seconds=30)
    door.start()
    door.unlock()  # someone else was just let in: the door is in its cooldown
    decider = DoorDecider(gallery, door, DecisionSettings(liveness=False))
    rgb, box, matches, t = np.zeros((200, 200, 3), np.uint8), Box(50, 50, 150, 150), [], 0.0
    try:
        for _ in range(3):
            matches.append(named(p, q))
            t += 0.1
            asked = decider.update(1, list(matches), rgb, box, t)
        assert (asked.verdict, asked.person) == (Verdict.AWAITING_PIN, "P")
        assert decider.enter_pin("1111") == ""  # right, but the door is busy: it opens when it can
        for _ in range(6):
            matches.append(named(q, p))
            t += 0.1
            decision = decider.update(1, list(matches), rgb, box, t)
        assert (decision.verdict, decision.person) == (Verdict.AWAITING_PIN, "Q")
        door._busy_until = 0  # the door is free again
        matches.append(named(q, p))
        decision = decider.update(1, list(matches), rgb, box, t + 0.1)
        assert (decision.verdict, decision.person, decision.final) == (Verdict.AWAITING_PIN, "Q", False)
        assert decider.enter_pin("1111") == "Wrong PIN"  # P's PIN is not Q's
        assert [h[1] for h in door.history].count("open") == 1  # only the cooldown's own opening
    finally:
        decider.close()
        door.close()
