"""Settings dataclasses kept in the gallery database as JSON (meta table, ``setting:<KEY>``).

In the gallery, not in a per-user file, because they belong to the door the gallery serves: a
backup or a move of the database file takes them along. Every group is checked before it is
saved (check(), the same rule for the window's forms and ``facegate settings set``) and stored
with its VERSION, so a later FaceGate can read an older layout (upgrade()).
"""

from __future__ import annotations

import json
from dataclasses import Field, asdict, fields, replace
from typing import Any, ClassVar, TypeVar

from core.errors import FaceGateError
from core.gallery.store import Store

T = TypeVar("T", bound="StoredSettings")


class StoredSettings:
    """Mixin for a dataclass: to_json/from_json, load(store)/save(store), check() before saving."""

    KEY: ClassVar[str]
    VERSION: ClassVar[int] = 1
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # set by @dataclass on each subclass

    def check(self) -> None:
        """Raise ValueError naming the field when the settings cannot work."""

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "version": self.VERSION})

    @classmethod
    def upgrade(cls, data: dict[str, Any], version: int) -> dict[str, Any]:
        """Stored values of an older ``version`` in this version's layout (a group whose fields
        are renamed or re-scaled says how here); unversioned settings are version 1."""
        return data

    @classmethod
    def from_json(cls: type[T], text: str | None) -> T:
        """Settings from stored JSON; keys this version does not know (from a newer one) are ignored."""
        if not text:
            return cls()
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"saved {cls.KEY} settings are not a JSON object")
        version = data.pop("version", 1)
        if isinstance(version, int) and version < cls.VERSION:
            data = cls.upgrade(data, version)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_text(self: T, name: str, text: str) -> T:
        """A checked copy with field ``name`` set from ``text`` (the command line, a QSettings
        file), converted to the field's type; ValueError names the field and what is wrong."""
        if name not in {f.name for f in fields(self)}:
            raise ValueError(f"{self.KEY} has no setting {name!r} (it has {', '.join(f.name for f in fields(self))})")
        value = parse_as(getattr(self, name), text, f"{self.KEY}.{name}")
        changed = replace(self, **{name: value})
        changed.check()
        return changed

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


TRUE, FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def parse_as(current: object, text: str, name: str) -> Any:
    """``text`` as a value of ``current``'s type (bool, int, float or str)."""
    text = str(text).strip()
    if isinstance(current, bool):
        if text.lower() in TRUE + FALSE:
            return text.lower() in TRUE
        raise ValueError(f"{name} is on or off: say true or false, not {text!r}")
    try:
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
    except ValueError:
        kind = "a whole number" if isinstance(current, int) else "a number"
        raise ValueError(f"{name} must be {kind}, not {text!r}") from None
    return text
