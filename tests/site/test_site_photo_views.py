"""A photo's camera views at a site (core.gallery.photo_views): enrolled on an admin PC they
reach every door as samples still marked as views; a photo removed there takes its views from
every door, the site's own copy of them too; a door PC may not remove a sample the site has, but
may take back a photo it has not pushed yet. Over a real PostgreSQL + pgvector."""

from __future__ import annotations

import pytest

from core.gallery.photo_views import VIEW_WIDTHS
from core.site.admin import SiteAdmin
from core.site.config import SiteError
from core.site.people import remove_sample
from core.site.sync import sync_once
from tests.support.data import IMAGES
from tests.support.site import join_door, start_site

VIEWS = len(VIEW_WIDTHS)
PHOTOS = [str(IMAGES / "obama.jpg"), str(IMAGES / "obama2.jpg")]


def _counts(gallery, name="Barack") -> tuple[int, int]:
    person = gallery.store.person(name)
    return person.sample_count, person.view_count


def _photo(gallery, path: str) -> int:
    ((sample_id,),) = gallery.store.read("SELECT id FROM samples WHERE source = ?", (path,))
    return sample_id


def test_a_photo_removed_on_the_admin_pc_leaves_no_views_at_any_door(tmp_path, site_url, superuser_password_file, describer):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")  # holds the admin login
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    try:
        a.enroll("Barack", PHOTOS, views=VIEW_WIDTHS)
        assert sync_once(a, ca).pushed_samples == 2 * (1 + VIEWS)  # the views go as samples
        assert sync_once(b, cb).added_samples == 2 * (1 + VIEWS)
        assert _counts(b) == (2 * (1 + VIEWS), 2 * VIEWS)  # still marked as views at the other door
        assert set(b.photo_views(b.store.person("Barack").id)) == {_photo(b, p) for p in PHOTOS}

        with pytest.raises(SiteError, match="only the site's admin can remove their samples"):
            remove_sample(b, _photo(b, PHOTOS[0]))  # a door PC: refused up front, nothing changed
        assert _counts(b) == (2 * (1 + VIEWS), 2 * VIEWS)

        assert len(remove_sample(a, _photo(a, PHOTOS[0]))) == 1 + VIEWS
        assert _counts(a) == (1 + VIEWS, VIEWS)
        with SiteAdmin.from_config(ca) as admin:
            assert {p["name"]: p["samples"] for p in admin.people()} == {"Barack": 1 + VIEWS}
        assert sync_once(b, cb).removed_samples == 1 + VIEWS
        assert _counts(b) == (1 + VIEWS, VIEWS)
        left = [s for (s,) in b.store.read("SELECT source FROM samples")]
        assert not [s for s in left if s.startswith(PHOTOS[0])] and all(s.startswith(PHOTOS[1]) for s in left)
        assert b.index.ids() == set(b.store.sample_owners())  # nothing of the photo is searched any more
    finally:
        a.close()
        b.close()


def test_the_site_takes_a_photos_views_with_it_and_a_door_takes_back_what_it_has_not_pushed(
    tmp_path, site_url, superuser_password_file, describer
):
    a, ca = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", site_url, ca, describer, "back")
    try:
        b.enroll("Joe", [str(IMAGES / "biden.jpg")], views=VIEW_WIDTHS)
        assert remove_sample(b, _photo(b, str(IMAGES / "biden.jpg")))  # still in its outbox: only ever here
        assert _counts(b, "Joe") == (0, 0)
        assert sync_once(b, cb).pushed_samples == 0

        a.enroll("Barack", PHOTOS[:1], views=VIEW_WIDTHS)
        sync_once(a, ca)
        photo_site_id = a.store.read("SELECT site_id FROM samples WHERE id = ?", (_photo(a, PHOTOS[0]),))[0][0]
        with SiteAdmin.from_config(ca) as admin:  # the photo alone named: the site finds its views itself
            assert admin.delete_samples_id([photo_site_id]) == 1 + VIEWS
        sync_once(a, ca)
        assert _counts(a) == (0, 0)
    finally:
        a.close()
        b.close()
