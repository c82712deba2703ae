"""Credential numbers at a site: the admin sets them (on an admin PC, for every door), doors
follow at their next sync, a door PC is refused up front, and the site's word on who holds a
number wins over a door's own local one."""

from __future__ import annotations

import psycopg
import pytest

from core.errors import StoreError
from core.site.config import SiteError, connect
from core.site.people import set_cards
from core.site.sync import sync_once
from tests.support.site import join_door, samples_of, start_site


def test_cards_are_the_admins_and_every_door_follows(tmp_path, site_url, superuser_password_file, describer, faces):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
    try:
        a.enroll_samples("Barack", samples_of(faces["obama"][:1]))
        sync_once(a, config_a)
        sync_once(b, config_b)
        assert b.store.person("Barack").card is None
        b.enroll_samples("Lin", samples_of(faces["lin"][:1]))  # this door's own, not at the site yet
        with pytest.raises(SiteError, match="not at the site yet"):
            set_cards(b, [("Lin", "555")])  # a card set here alone would be undone by the next pull
        b.set_cards([("Lin", "555")])  # as a gallery that held cards before it joined the site

        set_cards(a, [("Barack", "555")])  # the admin PC: the site and its own gallery
        assert a.store.person("Barack").card == "555"
        sync_once(b, config_b)
        assert b.store.person("Barack").card == "555"
        assert b.store.person("Lin").card is None  # the site's holder wins; nobody holds a number twice

        with pytest.raises(SiteError, match="only the site's admin"):
            set_cards(b, [("Barack", "9")])  # a door PC: refused before anything changes
        assert b.store.person("Barack").card == "555"
        a.enroll_samples("Joe", samples_of(faces["biden"][:1]))
        sync_once(a, config_a)
        with pytest.raises(StoreError, match="already belongs to 'Barack'"):
            set_cards(a, [("Joe", "555")])
        set_cards(a, [("Joe", "555"), ("Barack", "7")])  # a swap in one go
        sync_once(b, config_b)
        assert (b.store.person("Joe").card, b.store.person("Barack").card) == ("555", "7")

        with (
            connect(config_b.url, config_b.door_login, autocommit=True) as door,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            door.execute("UPDATE facegate.people SET card = '1'")  # a door's own login may not write cards
    finally:
        a.close()
        b.close()
