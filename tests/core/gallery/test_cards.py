"""Credential numbers per person: one decimal number each, unique, set all-or-nothing."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import StoreError, UnknownPerson
from core.gallery.store import NewSample, Store, clean_card


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
