"""Credential numbers from a CSV file of ``name,card`` (an access panel's export, a spreadsheet).

    >>> cards = read_cards(store, "cards.csv")    # [(name, card or None)], or CardFileError
    >>> set_cards(gallery, cards)                 # core.site.people: all or none, at the site too

Every line is checked before anything is written, and every bad line is named in one error:
a file with one typo changes nothing, and the operator fixes all its lines in one go. A first
line ``name,card`` is a header; an empty card clears that person's number.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from core.errors import StoreError, UnknownPerson
from core.gallery.store import Store, clean_card

#: How many bad lines one error lists (the count says how many more).
SHOWN_ERRORS = 20


class CardFileError(StoreError):
    """The file has bad lines; ``problems`` names each one (line number and why)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:SHOWN_ERRORS]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(f"{source}: nothing was changed; fix these lines:\n  " + "\n  ".join(shown) + more)


def read_cards(store: Store, source: str | Path) -> list[tuple[str, str | None]]:
    """(name as enrolled, card or None) for every line of the CSV file ``source``."""
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: cannot read the card file ({exc})") from None
    return parse_cards(store, text, str(path))


def parse_cards(store: Store, text: str, source: str = "the card file") -> list[tuple[str, str | None]]:
    cards: list[tuple[str, str | None]] = []
    problems: list[str] = []
    seen_names: dict[str, int] = {}
    seen_cards: dict[str, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and [c.lower() for c in cells[:2]] == ["name", "card"]:
            continue
        if len(cells) != 2:
            problems.append(f"line {number}: expected two fields, name,card (got {len(cells)})")
            continue
        name, card = cells
        try:
            person = store.person(name)
        except UnknownPerson:
            problems.append(f"line {number}: no person called {name!r}")
            continue
        try:
            cleaned = clean_card(card) if card else None
        except StoreError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        key = person.name.lower()
        if key in seen_names:
            problems.append(f"line {number}: {person.name!r} is already on line {seen_names[key]}")
            continue
        if cleaned is not None and cleaned in seen_cards:
            problems.append(f"line {number}: card {cleaned} is already on line {seen_cards[cleaned]}")
            continue
        seen_names[key] = number
        if cleaned is not None:
            seen_cards[cleaned] = number
        cards.append((person.name, cleaned))
    if problems:
        raise CardFileError(source, problems)
    if not cards:
        raise StoreError(f"{source}: no name,card lines found; nothing was changed")
    return cards
