"""`facegate site ...` and `facegate search --site` end to end, in this process, with a real server."""

from __future__ import annotations

import json

from core.cli.main import main
from core.gallery.photo_views import VIEW_WIDTHS
from tests.support.data import IMAGES
from tests.support.site import admin_url, password_file


def _run(capsys, *argv) -> dict | list:
    code = main(list(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_init_join_sync_status_search_leave(tmp_path, site_url, superuser_password_file, capsys):
    a, b = str(tmp_path / "a" / "gallery.db"), str(tmp_path / "b" / "gallery.db")
    assert main(["enroll", "Barack", str(IMAGES / "obama.jpg"), str(IMAGES / "obama2.jpg"), "--db", a]) == 0
    capsys.readouterr()
    started = _run(
        capsys,
        "site",
        "init",
        site_url,
        "--door",
        "front",
        "--password-file",
        str(superuser_password_file),
        "--db",
        a,
        "--json",
        "--admin",
    )
    assert started["door"] == "front" and started["admin_login_kept"]
    assert started["sync"]["pushed_people"] == 1 and started["sync"]["pushed_samples"] == 2 * (
        1 + len(VIEW_WIDTHS)
    )  # with the photos' views
    saved = json.loads((tmp_path / "a" / "gallery.db.site.json").read_text())
    admin_pw = password_file(tmp_path, saved["admin_login"]["password"])
    # a password in the URL is refused before anything is written
    assert main(["site", "join", site_url.replace("postgres@", "postgres:x@"), "--door", "back", "--db", b]) == 2
    assert "holds a password" in capsys.readouterr().err
    joined = _run(
        capsys, "site", "join", admin_url(site_url), "--door", "back", "--password-file", str(admin_pw), "--db", b, "--json"
    )
    assert joined["sync"]["pulled_people"] == 0 and not joined["admin_login_kept"]  # no group opens 'back' yet
    _run(capsys, "site", "group", "open", "everyone", "back", "--db", a, "--json")
    assert _run(capsys, "site", "sync", "--db", b, "--json")["pulled_people"] == 1
    found = _run(capsys, "identify", str(IMAGES / "obama3.jpg"), "--db", b, "--json")
    assert found[0]["name"] == "Barack"
    status = _run(capsys, "site", "status", "--db", b, "--json")
    assert status["online"] and status["outbox"] == 0 and status["door"] == "back"
    assert status["copy_age_seconds"] < 60 and status["behind"] == 0
    # the site's HNSW indexes, as the door's own login sees them, against the test server's 256 MB
    assert 0 < status["search_index_bytes"] < status["shared_buffers_bytes"] == 256 << 20
    assert status["search_memory_advice"] is None
    assert _run(capsys, "site", "sync", "--db", b, "--json")["pulled_people"] == 0
    assert main(["site", "groups", "--db", b]) == 2  # a door PC holds no admin login
    assert "only its door's login" in capsys.readouterr().err
    groups = _run(capsys, "site", "groups", "--db", a, "--json")
    assert groups == [
        {"name": "enrolled at back", "people": 0, "doors": ["back"]},
        {"name": "everyone", "people": 1, "doors": ["back", "front"]},
    ]
    searched = _run(capsys, "search", str(IMAGES / "obama3.jpg"), "--site", "--within", "0.6", "--db", a, "--json")
    (face,) = searched["faces"]
    assert {h["name"] for h in face["hits"]} == {"Barack"} and face["hits"][0]["distance"] < 0.6
    assert len(face["hits"]) > 2  # his two photos and their camera views
    assert face["search_ms"] > 0
    left = _run(capsys, "site", "leave", "--db", b, "--json")
    assert left == {"left": "back", "note": None}
    assert _run(capsys, "site", "status", "--db", b, "--json") == {"site": None}
    assert _run(capsys, "identify", str(IMAGES / "obama3.jpg"), "--db", b, "--json")[0]["name"] == "Barack"


def test_the_search_indexes_outgrowing_the_servers_memory_is_said():
    """1,000,000 samples make a 902 MB index (bench/site_bench.py): with PostgreSQL's 128 MB of
    shared_buffers, status says what to set."""
    from core.site.search import SearchMemory

    mb = 1 << 20
    assert SearchMemory(902 * mb, 2048 * mb).advice() is None
    said = SearchMemory(902 * mb, 128 * mb).advice()
    assert said is not None and "(902 MB)" in said and "(128 MB)" in said and "shared_buffers = 1280MB" in said
