"""Each door's access-log chain at the site, on a real PostgreSQL: rows pushed with their hashes,
a door's retention purge (before and after its rows reached the site) keeps its chain whole, and
a row edited or deleted at the site (a superuser's psql) is caught by ``facegate site access-log
--verify`` for that door alone."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from core.door.access_log import AccessEvent, AccessLog
from core.door.retention import Retention
from core.door.verdict import Verdict
from core.door.visitors import Visitors
from core.site.admin import SiteAdmin
from core.site.inbox import index_events
from core.site.sync import sync_once
from tests.support.cli import facegate
from tests.support.site import join_door, start_site


def _log(gallery, count: int, days_ago: float) -> None:
    log = AccessLog(gallery.store)
    start = datetime.now(timezone.utc) - timedelta(days=days_ago)
    for i in range(count):
        log.record(
            AccessEvent(
                Verdict.GRANTED,
                "Ada",
                reason=f"visit {i}",
                distance=0.123456789 + i / 1000,
                margin=0.2,
                door="unlocking",
                time=(start + timedelta(seconds=i)).isoformat(timespec="milliseconds"),
            )
        )


def _purge(gallery, days: float) -> int:
    visitors = Visitors(gallery.store)
    visitors.settings.access_log_days = days
    return Retention(gallery, visitors).purge().log_rows


def _verify(db, *door: str) -> tuple[int, dict]:
    out = facegate("site", "access-log", *door, "--verify", "--db", db, "--json")
    assert out.stdout, out.stderr
    return out.returncode, json.loads(out.stdout)


def test_each_doors_chain_holds_at_the_site_through_purges_and_a_site_side_edit_is_caught(
    tmp_path, site_url, superuser, superuser_password_file, describer
):
    a, config_a = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config_a, describer, "back")
    try:
        _log(a, 6, days_ago=40)
        sync_once(a, config_a)  # the old rows reach the site, then the door purges them
        assert _purge(a, 30) == 6
        _log(a, 3, days_ago=1)
        _log(b, 5, days_ago=40)
        assert _purge(b, 30) == 5  # purged before they ever reached the site: the site starts at the cut
        _log(b, 2, days_ago=1)
        for g, c in ((a, config_a), (b, config_b)):
            sync_once(g, c)
        db = a.store.path
        code, reports = _verify(db)
        assert code == 0, reports
        assert reports["front"]["rows"] == 6 + 1 + 3 and reports["back"]["rows"] == 1 + 2
        assert AccessLog(a.store).verify().ok and AccessLog(b.store).verify().ok

        with SiteAdmin.from_config(config_a) as admin:  # the rows are edited where they end up: the indexed table
            assert index_events(admin.conn).waiting == 0
        back = superuser.execute("SELECT id FROM facegate.doors WHERE name = 'back'").fetchone()[0]
        superuser.execute(
            "UPDATE facegate.events_indexed SET verdict = 'Denied' WHERE door_id = %s AND door_seq = "
            "(SELECT max(door_seq) FROM facegate.events_indexed WHERE door_id = %s)",
            (back, back),
        )
        code, reports = _verify(db)
        assert code == 1 and reports["front"]["ok"] and not reports["back"]["ok"]
        assert "edited" in reports["back"]["problem"]

        front = superuser.execute("SELECT id FROM facegate.doors WHERE name = 'front'").fetchone()[0]
        superuser.execute("DELETE FROM facegate.events_indexed WHERE door_id = %s AND door_seq = 3", (front,))
        code, reports = _verify(db, "front")
        assert code == 1 and list(reports) == ["front"] and reports["front"]["bad"] == 4
        assert "deleted" in reports["front"]["problem"]
    finally:
        a.close()
        b.close()
