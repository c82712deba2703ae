"""Settings dataclasses kept in the gallery database as JSON (meta table, ``setting:<KEY>``).

In the gallery, not in a per-user file, because they belong to the door the gallery serves: a
backup or a move of the database file takes them along.
"""
from __future__ import annotations

import json
from dataclasses import Field, asdict, fields
from typing import Any, ClassVar, TypeVar

from core.errors import FaceGateError
from core.gallery.store import Store

T = TypeVar("T", bound="StoredSettings")


class StoredSettings:
    """Mixin for a dataclass: to_json/from_json, load(store)/save(store), check() before saving."""

    KEY: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # set by @dataclass on each subclass

    def check(self) -> None:
        """Raise ValueError naming the field when the settings cannot work."""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls: type[T], text: str | None) -> T:
        """Settings from stored JSON; keys this version does not know (from a newer one) are ignored."""
        if not text:
            return cls()
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def load(cls: type[T], store: Store) -> T:
        return cls.from_json(store.get_setting(cls.KEY))

    @classmethod
    def load_or_default(cls: type[T], store: Store) -> tuple[T, str | None]:
        """The saved settings if they can be read and pass check(); else the defaults and why the
        saved ones were ignored (a damaged or hand-edited value must not stop the door)."""
        try:
            settings = cls.load(store)
            settings.check()
            return settings, None
        except (ValueError, TypeError, FaceGateError) as exc:  # json.JSONDecodeError is a ValueError
            return cls(), f"saved {cls.KEY} settings ignored: {exc}"

    def save(self, store: Store) -> None:
        self.check()
        store.set_setting(self.KEY, self.to_json())
