"""A real PostgreSQL 16 + pgvector for the site tests (tests/support/pg.py, from the pgserver
wheel), one per session, with a fresh database per test; door galleries in temporary folders.

pgserver is imported at the top on purpose: without it these tests fail, they never skip."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
from pathlib import Path

import pgserver  # noqa: F401  (a missing package must fail the run, never skip it)
import psycopg
import pytest

from tests.support.pg import PgServer
from tests.support.site import FACES, describe_faces

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def private_root():
    """A folder of this session's own: pytest's shared basetemp keeps only its 3 newest runs, and
    other test sessions on this machine would delete the server's data under it."""
    root = Path(tempfile.mkdtemp(prefix="facegate-site-tests-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def tmp_path(private_root, request) -> Path:
    path = private_root / re.sub(r"\W+", "_", request.node.name)[:80]
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def pg(private_root):
    server = PgServer(private_root / "pg").start()
    server.sql("ALTER ROLE postgres PASSWORD 'site-test-superuser'")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def superuser_password_file(private_root) -> Path:
    path = private_root / "postgres.pw"
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
