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
    #: the fields that decide who gets in: a saved value of one that cannot be used keeps the door
    #: shut until the group is saved again (core.station.settings.damaged_door_settings)
    DOOR_FIELDS: ClassVar[frozenset[str]] = frozenset()
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
    def _stored(cls, text: str) -> dict[str, Any]:
        """The stored JSON object, in this version's layout."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"saved {cls.KEY} settings are not a JSON object")
        version = data.pop("version", 1)
        return cls.upgrade(data, version) if isinstance(version, int) and version < cls.VERSION else data

    @classmethod
    def from_json(cls: type[T], text: str | None) -> T:
        """Settings from stored JSON; keys this version does not know (from a newer one) are ignored."""
        if not text:
            return cls()
        data = cls._stored(text)
        defaults = cls()
        return cls(
            **{
                f.name: typed(getattr(defaults, f.name), data[f.name], f"{cls.KEY}.{f.name}")
                for f in fields(cls)
                if f.name in data
            }
        )

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
    def load_salvaged(cls: type[T], store: Store) -> tuple[T, dict[str, str]]:
        """The saved settings, every value that can be used kept: (settings, the fields whose saved
        value could not be used and why; ``"*"`` when nothing of them could be read). A damaged or
        hand-edited value takes its default alone, never the whole group with it: one bad number
        must not quietly turn a required screen check back to advisory (a caller whose group
        decides who gets in keeps the door shut on a loss: core.station.settings.damaged_door_settings)."""
        text = store.get_setting(cls.KEY)
        try:
            settings = cls.from_json(text)
            settings.check()
            return settings, {}
        except (ValueError, TypeError, FaceGateError):  # json.JSONDecodeError is a ValueError: read it field by field
            pass
        try:
            data = cls._stored(text or "{}")
        except (ValueError, TypeError, KeyError) as exc:
            return cls(), {"*": str(exc)}
        settings, lost, pending, progress = cls(), {}, [f.name for f in fields(cls) if f.name in data], True
        while pending and progress:  # a value whose check needs another one (within >= agree) gets another try
            left, progress = [], False
            for name in pending:
                try:
                    candidate = replace(settings, **{name: typed(getattr(settings, name), data[name], f"{cls.KEY}.{name}")})
                    candidate.check()
                except (ValueError, TypeError, FaceGateError) as exc:
                    lost[name] = str(exc)
                    left.append(name)
                    continue
                settings, progress = candidate, True
            pending = left
        return settings, {name: lost[name] for name in pending}

    @classmethod
    def load_or_default(cls: type[T], store: Store) -> tuple[T, str | None]:
        """The saved settings, every usable value kept (load_salvaged), and what could not be used."""
        settings, lost = cls.load_salvaged(store)
        return settings, lost_text(cls.KEY, lost)

    def save(self, store: Store) -> None:
        self.check()
        store.set_setting(self.KEY, self.to_json())


def lost_text(key: str, lost: dict[str, str]) -> str | None:
    """What ``load_salvaged`` could not use, in words (None: nothing)."""
    if not lost:
        return None
    if "*" in lost:
        return f"saved {key} settings ignored, the defaults stand: {lost['*']}"
    said = "; ".join(f"{name} ({why})" for name, why in lost.items())
    return f"saved {key} settings: could not use {said}: the default stands for that, every other saved value is kept"


def typed(default: object, value: object, name: str) -> Any:
    """A stored JSON ``value`` for a field whose default is ``default``, if it has that type (a
    whole number stands for a float); else ValueError naming the field."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value  # type: ignore[arg-type]
    elif isinstance(default, str):
        ok = isinstance(value, str)
    else:
        ok = True  # a field of another kind (a list, a dict) is checked by its group's check()
    if not ok:
        raise ValueError(f"{name} is {type(default).__name__}, not {value!r}")
    return value


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
