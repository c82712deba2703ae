"""A real PostgreSQL 16 + pgvector for the site tests (tests/support/pg.py, from the pgserver
wheel), one per session, with a fresh database per test; door galleries in temporary folders.

pgserver is imported at the top on purpose: without it these tests fail, they never skip."""
from __future__ import annotations

import itertools
import os
from pathlib import Path

import pgserver  # noqa: F401  (a missing package must fail the run, never skip it)
import psycopg
import pytest

from tests.support.pg import PgServer
from tests.support.site import FACES, describe_faces

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg(tmp_path_factory):
    server = PgServer(tmp_path_factory.mktemp("pg") / "server").start()
    server.sql("ALTER ROLE postgres PASSWORD 'site-test-superuser'")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def superuser_password_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "postgres.pw"
    path.touch(0o600)
    path.write_text("site-test-superuser\n")
    return path


@pytest.fixture
def site_url(pg) -> str:
    """A fresh, empty database of the test server: the URL (superuser, no password in it)."""
    name = f"site{os.getpid()}_{next(_numbers)}"
    pg.sql(f"CREATE DATABASE {name}")
    return pg.url(name)


@pytest.fixture(scope="session")
def faces(describer) -> dict[str, list]:
    """Real descriptors of the test photos: person -> [128-D vectors] (one per photo)."""
    return describe_faces(describer, FACES)


@pytest.fixture
def superuser(pg, site_url):
    conn = psycopg.connect(pg.superuser_dsn(site_url.rsplit("/", 1)[1]), autocommit=True)
    yield conn
    conn.close()
