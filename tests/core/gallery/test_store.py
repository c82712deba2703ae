"""The SQLite store: one transaction per enrollment, clear errors on locked or damaged files."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from core.errors import DatabaseDamaged, DatabaseLocked, DuplicatePerson, StoreError, UnknownPerson
from core.gallery.store import NewSample, Store
from core.gallery.stored_settings import StoredSettings


def _samples(n, seed=0):
    rng = np.random.default_rng(seed)
    return [NewSample(rng.normal(0, 0.1, 128).astype(np.float32), b"jpeg", f"s{i}") for i in range(n)]


def test_schema_wal_foreign_keys_and_version(db_path):
    with Store(db_path) as s:
        assert s.read("PRAGMA journal_mode")[0][0] == "wal"
        assert s.read("PRAGMA foreign_keys")[0][0] == 1
        assert s.read("PRAGMA user_version")[0][0] >= 1
        assert {"people", "samples", "meta"} <= set(s.db.table_names())
    with Store(db_path) as s:  # reopening does not migrate twice
        assert s.read("SELECT COUNT(*) FROM meta WHERE key LIKE 'migration:%'")[0][0] == s.read("PRAGMA user_version")[0][0]


def test_enroll_is_one_transaction(db_path):
    with Store(db_path) as s:
        bad = _samples(3) + [NewSample(np.full(128, np.nan, np.float32))]
        with pytest.raises(ValueError):
            s.enroll("ada", bad)
        assert s.people() == [] and s.samples() == []
        person, ids = s.enroll("ada", _samples(3), notes="front door")
        assert person.sample_count == 3 and len(ids) == 3 and person.notes == "front door"
        gen, samples_gen = s.generation(), s.samples_generation()
        s.enroll("Ada", _samples(2, seed=1))  # same person, case-insensitive
        assert s.person("ada").sample_count == 5 and s.generation() == gen + 1
        assert s.samples_generation() > samples_gen
        samples_gen = s.samples_generation()
        s.update_person("ada", notes="back door")
        assert s.samples_generation() == samples_gen
        s.remove_person("ada")  # cascades count too
        assert s.samples_generation() > samples_gen


def test_descriptors_round_trip(db_path):
    with Store(db_path) as s:
        samples = _samples(4)
        _, ids = s.enroll("bob", samples)
        ids2, pids, mat = s.vectors()
        assert ids2.tolist() == ids
        assert np.array_equal(mat, np.stack([x.descriptor for x in samples]))


def test_rename_remove_and_errors(db_path):
    with Store(db_path) as s:
        s.enroll("ada", _samples(2))
        s.enroll("bob", _samples(2))
        with pytest.raises(DuplicatePerson):
            s.rename("ada", "BOB")
        s.rename("ada", "Ada Lovelace")
        assert [p.name for p in s.people()] == ["Ada Lovelace", "bob"]
        removed = s.remove_person("bob")
        assert len(removed) == 2 and len(s.samples()) == 2
        with pytest.raises(UnknownPerson):
            s.remove_person("bob")
        with pytest.raises(StoreError):
            s.enroll("   ", _samples(1))


def test_names_are_bound_as_parameters(db_path):
    evil = "Robert'); DROP TABLE people;--"
    with Store(db_path) as s:
        s.enroll(evil, _samples(1))
        assert s.person(evil).name == evil and "people" in s.db.table_names()


def test_locked_database_gives_a_clear_message_and_loses_nothing(db_path):
    with Store(db_path, timeout=0.3) as s:
        s.enroll("ada", _samples(2))
        other = sqlite3.connect(db_path, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            with pytest.raises(DatabaseLocked, match="locked by another program.*nothing was changed"):
                s.enroll("bob", _samples(2))
        finally:
            other.rollback()
            other.close()
        assert [p.name for p in s.people()] == ["ada"]
        s.enroll("bob", _samples(2))  # works once the lock is gone
        assert len(s.people()) == 2


def test_second_writer_is_refused(db_path):
    with Store(db_path):
        with pytest.raises(DatabaseLocked, match="open for writing in another FaceGate"):
            Store(db_path)
        with Store(db_path, readonly=True) as ro:  # reading alongside is fine
            assert ro.people() == []


def test_damaged_database_is_refused_clearly(db_path):
    with Store(db_path) as s:
        s.enroll("ada", _samples(50))
    data = bytearray(db_path.read_bytes())
    for off in range(4096, len(data), 997):  # scribble over every page after the header
        data[off : off + 16] = b"\xde\xad\xbe\xef" * 4
    db_path.write_bytes(bytes(data))
    (db_path.parent / (db_path.name + "-wal")).unlink(missing_ok=True)
    with pytest.raises(DatabaseDamaged, match="damaged"):
        Store(db_path)


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("shopping list\n" * 100)
    with pytest.raises(DatabaseDamaged, match="notes.db"):
        Store(text)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE invoices(id)")
    con.commit()
    con.close()
    with pytest.raises(DatabaseDamaged, match="not a FaceGate database"):
        Store(other)
    assert sqlite3.connect(other).execute("SELECT name FROM sqlite_master").fetchall() == [("invoices",)]


def test_first_thumbnail_is_the_first_samples(db_path):
    with Store(db_path) as s:
        ada, _ = s.enroll("ada", [NewSample(_samples(1)[0].descriptor, b"first"), *_samples(2, seed=1)])
        bob, _ = s.enroll("bob", [NewSample(_samples(1, seed=2)[0].descriptor, None)])
        assert s.first_thumbnail(ada.id) == b"first"
        assert s.first_thumbnail(bob.id) is None and s.first_thumbnail(999) is None


@dataclass
class _Knobs(StoredSettings):
    KEY: ClassVar[str] = "knobs"
    level: int = 3

    def check(self) -> None:
        if self.level < 0:
            raise ValueError(f"level {self.level} cannot be negative")


def test_stored_settings_fall_back_to_defaults_and_say_why(db_path):
    with Store(db_path) as s:
        assert _Knobs.load_or_default(s) == (_Knobs(), None)
        _Knobs(level=7).save(s)
        assert _Knobs.load_or_default(s) == (_Knobs(7), None)
        for bad, why, said in (
            ('{"level": -1}', "level -1 cannot be negative", "saved knobs settings: could not use level ("),
            ("{not json", "Expecting property name", "saved knobs settings ignored, the defaults stand: "),
            ('{"level": "x"}', "knobs.level is int, not 'x'", "saved knobs settings: could not use level ("),
            ('{"level": true}', "knobs.level is int, not True", "saved knobs settings: could not use level ("),
        ):
            s.set_setting("knobs", bad)
            settings, problem = _Knobs.load_or_default(s)
            assert settings == _Knobs() and problem is not None
            assert problem.startswith(said) and why in problem
        s.set_setting("knobs", '{"level": 5, "from_a_newer_version": true}')
        assert _Knobs.load_or_default(s) == (_Knobs(5), None)


@dataclass
class _Range(StoredSettings):
    KEY: ClassVar[str] = "range"
    low: int = 1
    high: int = 5
    rate: float = 0.5
    on: bool = False

    def check(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")


def test_a_damaged_value_takes_its_default_alone_and_every_other_is_kept(db_path):
    """A hand edit or a value of the wrong type must not carry the rest of its group back to the
    defaults (a required screen check back to advisory, with one bad number elsewhere)."""
    with Store(db_path) as s:
        s.set_setting("range", '{"on": true, "rate": "fast", "low": 8, "high": 9}')  # low 8 checks only once high is 9
        settings, lost = _Range.load_salvaged(s)
        assert settings == _Range(low=8, high=9, rate=0.5, on=True)
        assert lost == {"rate": "range.rate is float, not 'fast'"}
        s.set_setting("range", '{"on": 1, "rate": 2, "low": 7, "high": 3}')  # a whole number is a float
        settings, lost = _Range.load_salvaged(s)
        assert settings.rate == 2.0 and isinstance(settings.rate, float) and settings.on is False
        assert set(lost) == {"on", "low"} and "high" not in lost  # high 3 fits the default low
        assert settings == _Range(low=1, high=3, rate=2.0)
        s.set_setting("range", "[1, 2]")
        assert _Range.load_salvaged(s) == (_Range(), {"*": "saved range settings are not a JSON object"})


@dataclass
class _KnobsV2(StoredSettings):
    """_Knobs' next layout: ``level`` became ``volume``, ten times finer."""

    KEY: ClassVar[str] = "knobs"
    VERSION: ClassVar[int] = 2
    volume: int = 30

    @classmethod
    def upgrade(cls, data, version):
        return {"volume": data["level"] * 10} if version < 2 and "level" in data else data


def test_stored_settings_carry_their_version_and_older_ones_are_upgraded(db_path):
    with Store(db_path) as s:
        _Knobs(level=4).save(s)
        assert s.get_setting("knobs") == '{"level": 4, "version": 1}'
        assert _KnobsV2.load(s) == _KnobsV2(volume=40)
        s.set_setting("knobs", '{"level": 2}')  # written before settings had versions
        assert _KnobsV2.load(s) == _KnobsV2(volume=20)
        _KnobsV2(volume=70).save(s)
        assert _KnobsV2.load(s) == _KnobsV2(70) and _Knobs.load(s) == _Knobs()  # a newer layout: the old one's defaults


def test_a_setting_from_text_is_converted_and_checked(db_path):
    assert _Knobs().with_text("level", " 9 ") == _Knobs(9)
    for text, why in (
        ("-1", "cannot be negative"),
        ("2.5", "knobs.level must be a whole number"),
        ("loud", "must be a whole number"),
    ):
        with pytest.raises(ValueError, match=why):
            _Knobs().with_text("level", text)
    with pytest.raises(ValueError, match="knobs has no setting 'volume'"):
        _Knobs().with_text("volume", "1")


def test_the_gallery_generation_moves_for_people_samples_and_marks_only(db_path):
    with Store(db_path) as s:
        moves, writes = [s.gallery_generation()], s.generation()
        s.set_setting("knobs", "{}")  # settings, like the access log: not "the gallery changed"
        assert s.gallery_generation() == moves[-1] and s.generation() > writes
        for change in (
            lambda: s.enroll("bob", _samples(2)),
            lambda: s.rename("bob", "rob"),
            lambda: s.update_person("rob", allowed=False),
            lambda: s.remove_sample(s.samples("rob")[0].id),
            lambda: s.remove_person("rob"),
        ):
            change()
            moves.append(s.gallery_generation())
        assert moves == sorted(set(moves)), moves  # each one moved it
