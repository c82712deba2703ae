"""The admin lock in core: a salted scrypt hash in the gallery, wrong tries make you wait, and the
wait survives a restart."""

from __future__ import annotations

import json

import pytest

from core.gallery.admin import (
    FIRST_WAIT,
    FREE_TRIES,
    MAX_WAIT,
    AdminError,
    AdminLock,
    AdminSession,
    TooManyTries,
    WrongSecret,
    wait_after,
)
from core.gallery.store import Store

PIN = "4821"


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_secret_is_a_salted_slow_hash_never_the_pin(db_path, tmp_path):
    with Store(db_path) as store:
        lock = AdminLock(store)
        assert not lock.is_set()
        lock.set_secret(PIN)
        assert lock.is_set()
        record = json.loads(store.get_setting("admin.secret"))
    with Store(tmp_path / "other.db") as other:
        AdminLock(other).set_secret(PIN)
        other_record = json.loads(other.get_setting("admin.secret"))
    assert record["kdf"] == "scrypt" and record["n"] >= 2**14 and len(bytes.fromhex(record["salt"])) == 16
    assert record["salt"] != other_record["salt"] and record["hash"] != other_record["hash"]  # salted
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob("gallery.db*") if p.is_file())
    assert PIN.encode() not in raw and PIN.encode("utf-16-le") not in raw


def test_right_wrong_and_too_short(db_path):
    with Store(db_path) as store:
        lock = AdminLock(store)
        with pytest.raises(AdminError, match="no admin PIN is set"):
            lock.verify(PIN)
        with pytest.raises(AdminError, match="at least 4"):
            lock.set_secret("12")
        lock.set_secret("correct horse ✓")
        lock.verify("correct horse ✓")
        with pytest.raises(WrongSecret, match="wrong admin PIN"):
            lock.verify("correct horse")
        with pytest.raises(WrongSecret):  # changing it needs the current one
            lock.set_secret("9999", current="nope")
        lock.set_secret("9999", current="correct horse ✓")
        lock.verify("9999")


def test_wrong_tries_wait_doubling_and_a_restart_does_not_reset_it(db_path):
    clock = Clock()
    with Store(db_path) as store:
        lock = AdminLock(store, clock)
        lock.set_secret(PIN)
        for _i in range(FREE_TRIES - 1):
            with pytest.raises(WrongSecret, match="more tr(y|ies) before a wait"):
                lock.verify("0000")
        with pytest.raises(WrongSecret, match=f"wait {int(FIRST_WAIT)} s"):
            lock.verify("0000")
        with pytest.raises(TooManyTries):  # even the right PIN is refused while waiting
            lock.verify(PIN)
    clock.t += FIRST_WAIT - 1
    with Store(db_path) as store:  # FaceGate restarted: still waiting
        lock = AdminLock(store, clock)
        assert lock.wait_seconds() == pytest.approx(1)
        with pytest.raises(TooManyTries, match="wait 1 s"):
            lock.verify(PIN)
        clock.t += 1
        with pytest.raises(WrongSecret, match=f"wait {int(FIRST_WAIT * 2)} s"):  # one more wrong: doubled
            lock.verify("1111")
        clock.t += FIRST_WAIT * 2
        lock.verify(PIN)  # right: the count starts over
        assert lock.failures().count == 0 and lock.wait_seconds() == 0
    waits = [wait_after(n) for n in range(1, 15)]
    print("\nwait after n wrong tries:", ", ".join(f"{n}: {w:g} s" for n, w in enumerate(waits, 1)))
    assert waits[: FREE_TRIES - 1] == [0] * (FREE_TRIES - 1)
    assert all(b == min(2 * a, MAX_WAIT) for a, b in zip(waits[FREE_TRIES - 1 :], waits[FREE_TRIES:], strict=False))
    assert waits[-1] == MAX_WAIT


def test_a_clock_turned_back_does_not_lock_out_forever(db_path):
    clock = Clock()
    with Store(db_path) as store:
        lock = AdminLock(store, clock)
        lock.set_secret(PIN)
        for _ in range(FREE_TRIES):
            with pytest.raises(WrongSecret):
                lock.verify("0000")
        clock.t -= 10 * 365 * 86400
        assert lock.wait_seconds() == MAX_WAIT
        store.set_setting("admin.failures", "garbage")  # a tampered count waits the longest
        assert lock.wait_seconds() == MAX_WAIT


def test_session_unlocks_for_a_while(db_path):
    mono = Clock(100.0)
    with Store(db_path) as store:
        session = AdminSession(AdminLock(store), seconds=60, clock=mono)
        assert not session.unlocked()
        session.choose_secret(PIN)
        assert session.unlocked()
        mono.t += 61
        assert not session.unlocked()
        with pytest.raises(WrongSecret):
            session.unlock("0000")
        assert not session.unlocked()
        session.unlock(PIN)
        assert session.unlocked()
        session.relock()
        assert not session.unlocked()
        with pytest.raises(AdminError, match="current admin PIN first"):  # changing it needs unlocking
            session.choose_secret("5555")
        session.unlock(PIN)
        session.choose_secret("5555")
        session.relock()
        session.unlock("5555")
