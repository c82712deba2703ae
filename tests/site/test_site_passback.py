"""Anti-passback across a site, on a real PostgreSQL: two entry doors racing to let the same person
in (two threads, two connections, at the same instant) - exactly one wins under the hard rule, both
under the soft one with the second logged; the in/out sequence through real door deciders; and
the offline rule (a cut network: let through as "passback unchecked (offline)", the site told when
it is back, so the next entry elsewhere is refused)."""

from __future__ import annotations

import threading
import time

from core.site import passback as passback_module
from core.site.config import SiteSettings
from core.site.passback import UNCHECKED, SitePassback
from core.site.sync import sync_once
from tests.support.cli import facegate
from tests.support.site import CuttableProxy, approve_all, grant_attempt, join_door, samples_of, start_site

GRANTED, DENIED = "Granted", "Denied"


def _site(tmp_path, url, superuser_password_file, describer, faces, doors=("front", "side", "exit")):
    """Doors sharing one person, 'Ada' (enrolled at the first, approved, pulled everywhere)."""
    first, config = start_site(tmp_path / doors[0], url, superuser_password_file, describer, doors[0])
    joined = [(first, config)] + [join_door(tmp_path / d, url, config, describer, d) for d in doors[1:]]
    first.enroll_samples("Ada", samples_of(faces["obama"][:2]))
    sync_once(first, config)
    approve_all(config)
    for g, c in joined:
        sync_once(g, c)
        assert g.identify_descriptor(faces["obama"][2]).name == "Ada"
    return joined


def _passback(gallery, config, direction: str, mode: str) -> SitePassback:
    return SitePassback(gallery.store, config, SiteSettings(direction=direction, passback=mode))


def _race(a: SitePassback, b: SitePassback, person_a: int, person_b: int) -> list[tuple[bool, str]]:
    """Both doors claim the same person's entry at the same instant."""
    start = threading.Barrier(2)
    answers: list = [None, None]

    def claim(i: int, passback: SitePassback, person: int) -> None:
        start.wait()
        answers[i] = passback(person)

    threads = [threading.Thread(target=claim, args=(i, p, n)) for i, (p, n) in enumerate(((a, person_a), (b, person_b)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return answers


def test_two_entry_doors_racing_let_the_same_person_in_once_hard_twice_soft(
    tmp_path, site_url, superuser, superuser_password_file, describer, faces
):
    (front, cf), (side, cs), (exit_, ce) = _site(tmp_path, site_url, superuser_password_file, describer, faces)
    ada = [g.store.person("Ada").id for g in (front, side, exit_)]
    hard = [_passback(front, cf, "in", "hard"), _passback(side, cs, "in", "hard")]
    leave = _passback(exit_, ce, "out", "hard")
    try:
        for _round in range(8):
            answers = _race(*hard, ada[0], ada[1])
            assert sorted(allowed for allowed, _ in answers) == [False, True], answers
            (refusal,) = [why for allowed, why in answers if not allowed]
            assert "anti-passback: Ada came in at" in refusal and "has not left" in refusal
            assert leave(ada[2]) == (True, "")  # out by the exit: she may come in again
        (state,) = superuser.execute("SELECT state FROM facegate.presence").fetchone()
        assert state == "out"
        assert hard[0](ada[0]) == (True, "") and not hard[1](ada[1])[0]
        out = facegate(
            "site", "passback", "reset", "Ada", "--db", front.store.path, check=True
        )  # left by a door without a reader
        assert "neither in nor out" in out.stdout
        assert hard[1](ada[1]) == (True, "")
        assert leave(ada[2]) == (True, "")
        soft = [_passback(front, cf, "in", "soft"), _passback(side, cs, "in", "soft")]
        answers = _race(*soft, ada[0], ada[1])
        assert [allowed for allowed, _ in answers] == [True, True]
        assert sorted(bool(why) for _, why in answers) == [False, True]  # the second is logged, not refused
        assert "anti-passback (soft)" in max(why for _, why in answers)
        # leaving twice is logged, never refused: no rule keeps anyone inside
        assert leave(ada[2]) == (True, "")
        allowed, why = leave(ada[2])
        assert allowed and "anti-passback (hard): Ada left at exit" in why
        for p in soft:
            p.close()
    finally:
        for p in (*hard, leave):
            p.close()
        for g in (front, side, exit_):
            g.close()


def test_in_out_sequence_through_the_door_decider_and_the_offline_rule(
    tmp_path, pg, site_url, superuser_password_file, describer, faces, monkeypatch
):
    monkeypatch.setattr(passback_module, "RETRY_AFTER", 0.0)  # try the site again at once once it is back
    proxy = CuttableProxy(pg.port)
    url = proxy.url(site_url.rsplit("/", 1)[1])
    (front, cf), (side, cs), (exit_, ce) = _site(tmp_path, url, superuser_password_file, describer, faces)
    face = faces["obama"][2]
    gates = {
        "front": _passback(front, cf, "in", "hard"),
        "side": _passback(side, cs, "in", "hard"),
        "exit": _passback(exit_, ce, "out", "hard"),
    }
    galleries = {"front": front, "side": side, "exit": exit_}

    def at(door: str) -> tuple[str, str]:
        return grant_attempt(galleries[door], face, passage=gates[door])

    try:
        assert at("front")[0] == GRANTED
        verdict, reason = at("side")
        assert verdict == DENIED and "anti-passback: Ada came in at front" in reason
        assert at("exit")[0] == GRANTED
        assert at("side")[0] == GRANTED
        assert at("exit")[0] == GRANTED

        # offline: the side door cannot reach the site; it follows the soft rule and says so
        proxy.cut()
        started = time.monotonic()
        verdict, reason = at("side")
        assert verdict == GRANTED and UNCHECKED in reason
        assert time.monotonic() - started < 10
        assert len(gates["side"].unsent) == 1
        assert at("side")[0] == GRANTED  # still offline for the site: no second timeout, no refusal
        proxy.restore()
        assert gates["side"].reconcile() == 2 and gates["side"].unsent == []  # back: the site is told, oldest first
        verdict, reason = at("front")
        assert verdict == DENIED and "came in at side" in reason  # the offline entries count
        assert at("exit")[0] == GRANTED and at("front")[0] == GRANTED
    finally:
        for p in gates.values():
            p.close()
        for g in galleries.values():
            g.close()
        proxy.close()
