"""Credential numbers per person: one decimal number each, unique, set all-or-nothing, by hand
(`facegate card`) or from a CSV file (`facegate import-cards`) whose bad lines are all named."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest

from core.errors import StoreError, UnknownPerson
from core.gallery.store import NewSample, Store, clean_card
from tests.support.cli import facegate as run_facegate

facegate = partial(run_facegate, check=False)


def _enroll(store: Store, *names: str) -> None:
    rng = np.random.default_rng(0)
    for name in names:
        store.enroll(name, [NewSample(rng.normal(0, 0.1, 128).astype(np.float32))])


def test_clean_card_keeps_decimal_numbers_only():
    assert clean_card(" 00042 ") == "42"
    assert clean_card(0) == "0"
    for bad in ("", "12a", "-5", "1.5", "٣", "1" * 21):
        with pytest.raises(StoreError):
            clean_card(bad)


def test_cards_are_unique_and_set_together(db_path):
    with Store(db_path) as s:
        _enroll(s, "ada", "bob", "cy")
        assert s.person("ada").card is None
        s.set_cards([("ada", "1001"), ("bob", "0002")])
        assert [(p.name, p.card) for p in s.people()] == [("ada", "1001"), ("bob", "2"), ("cy", None)]
        assert s.person_with_card("01001").name == "ada" and s.person_with_card("9") is None
        generation = s.gallery_generation()
        for bad in ([("cy", "1001")], [("cy", "7"), ("nobody", "8")], [("cy", "7"), ("ada", "7")], [("cy", "x")]):
            with pytest.raises((StoreError, UnknownPerson)):
                s.set_cards(bad)
        assert s.person("cy").card is None and s.gallery_generation() == generation  # nothing half-applied
        s.set_cards([("ada", "2"), ("bob", "1001")])  # a swap in one go
        s.set_cards([("cy", None)])
        assert {p.name: p.card for p in s.people()} == {"ada": "2", "bob": "1001", "cy": None}
        assert s.gallery_generation() > generation


def test_import_cards_names_every_bad_line_and_changes_nothing(tmp_path):
    db = tmp_path / "g.db"
    with Store(db) as s:
        _enroll(s, "Ada Lovelace", "bob", "cy")
        s.set_cards([("cy", "77")])
    bad = tmp_path / "bad.csv"
    bad.write_text("name,card\nada lovelace,1001\nnobody,5\nbob,12x\nbob,8\n\ncy,1001\nada lovelace,9,extra\n")
    out = facegate("import-cards", bad, "--db", db)
    assert out.returncode == 2
    for expected in (
        "nothing was changed",
        "line 3: no person called 'nobody'",
        "line 4: '12x' is not a card number",
        "line 7: card 1001 is already on line 2",
        "line 8: expected two fields",
    ):
        assert expected in out.stderr
    assert "line 5" not in out.stderr  # bob's first good line
    with Store(db) as s:
        assert {p.name: p.card for p in s.people()} == {"Ada Lovelace": None, "bob": None, "cy": "77"}
    taken = tmp_path / "taken.csv"
    taken.write_text("bob,77\n")  # cy holds 77 and is not in the file
    out = facegate("import-cards", taken, "--db", db)
    assert out.returncode == 2 and "card 77 already belongs to 'cy'" in out.stderr
    good = tmp_path / "good.csv"
    good.write_text("\ufeffname,card\nADA LOVELACE, 0001001\nbob,\ncy,78\n")  # a spreadsheet's BOM, any case, a cleared card
    rows = json.loads(facegate("import-cards", good, "--db", db, "--json", check=True).stdout)
    assert rows == [{"name": "Ada Lovelace", "card": "1001"}, {"name": "bob", "card": None}, {"name": "cy", "card": "78"}]
    assert json.loads(facegate("card", "bob", "42", "--db", db, "--json", check=True).stdout) == {"name": "bob", "card": "42"}
    assert "card 42" in facegate("people", "--db", db, check=True).stdout
    out = facegate("card", "cy", "42", "--db", db)
    assert out.returncode == 2 and "already belongs to 'bob'" in out.stderr
    facegate("card", "bob", "--clear", "--db", db, check=True)
    assert facegate("card", "bob", "--db", db, check=True).stdout.strip() == "bob: no card"
