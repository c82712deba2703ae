"""The whole site in one file, and back: people, samples, groups, doors, proposals, the change
log and every door's events, with the logins of the admin and of each door.

    >>> backup_site("postgresql://postgres@db/facegate", password, "site.fgsite")
    >>> restore_site("site.fgsite", "postgresql://postgres@new-db/facegate", password)

Why the logins too: a door's login is a PostgreSQL role of the cluster, which ``pg_dump`` of one
database does not carry. The file keeps each role's SCRAM verifier (never a password), so after
a restore into a new server every door logs in as before: doors follow without re-joining
(``facegate site move URL`` on each door points it at the new server's address). A restore
gives the site a new epoch, so each door then re-reads the whole site once and drops the people
it has that the backup does not (added after it was taken): a door's cursor may be past the
restored change log's numbers, and pulling on from it would skip every change made after the
restore until the numbers caught up - a revocation among them.

The file is a tar of ``manifest.json`` (the roles, row counts, the dump's sha256) and
``site.dump`` (``pg_dump --format=custom`` of the ``facegate`` schema). Both steps need the
server's superuser: the verifiers and the roles are the superuser's to read and make. The
``pg_dump``/``pg_restore`` used must be at least the server's major version: FaceGate looks in
``FACEGATE_PG_BIN``, then PATH, then the ``pgserver`` package's own.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from core.site import schema
from core.site.admin import require_extension
from core.site.config import SiteError, check_url, connect, first_line, one_row

FORMAT = "facegate-site-backup/1"
COUNTED = (
    "people",
    "samples",
    "access_groups",
    "group_members",
    "group_doors",
    "doors",
    "events",
    "proposals",
    "changes",
    "schedules",
    "negatives",
)


@dataclass
class SiteBackup:
    path: Path
    counts: dict[str, int]
    roles: int
    sha256: str
    server_version: int
    notes: list[str] = field(default_factory=list)


def pg_tool(name: str, server_major: int | None = None) -> Path:
    """A PostgreSQL client tool new enough for the server (pg_dump refuses older-than-server)."""
    candidates: list[Path] = []
    if os.environ.get("FACEGATE_PG_BIN"):
        candidates.append(Path(os.environ["FACEGATE_PG_BIN"]) / name)
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        candidates.append(Path(POSTGRES_BIN_PATH) / name)
    except ImportError:
        pass
    seen = []
    for tool in candidates:
        if not tool.exists():
            continue
        out = subprocess.run([str(tool), "--version"], capture_output=True, text=True).stdout
        try:
            major = int(out.split("(PostgreSQL)")[-1].split()[0].split(".")[0])
        except (ValueError, IndexError):
            continue
        seen.append(f"{tool} ({major})")
        if server_major is None or major >= server_major:
            return tool
    raise SiteError(
        f"no {name} of PostgreSQL {server_major or ''} or newer here"
        + (f" (found {', '.join(seen)})" if seen else "")
        + ": install the client tools matching the server (postgresql-client-16), or point "
        "FACEGATE_PG_BIN at their folder"
    )


def _libpq_env(url: str, password: str | None) -> dict[str, str]:
    """The connection for a child tool, by environment: the password never on its command line."""
    params = check_url(url)
    env = {**os.environ}
    for key, var in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("dbname", "PGDATABASE"),
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
    ):
        if params.get(key):
            env[var] = str(params[key])
    if password is not None:
        env["PGPASSWORD"] = password
    return env


def _run(tool: Path, args: list[str], env: dict[str, str], doing: str) -> None:
    done = subprocess.run([str(tool), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SiteError(f"{doing} failed: {first_line(RuntimeError(done.stderr or done.stdout))}")


def _roles(conn: psycopg.Connection) -> list[dict]:
    """The site's logins with their SCRAM verifiers (superuser only: pg_authid)."""
    rows = conn.execute(
        "SELECT r.rolname, r.rolcanlogin, a.rolpassword, "
        "       pg_has_role(r.oid, (SELECT oid FROM pg_roles WHERE rolname = %s), 'MEMBER') AND r.rolname <> %s "
        "FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid "
        "WHERE r.rolname IN (%s, %s) OR r.rolname IN (SELECT role FROM facegate.doors WHERE role IS NOT NULL) "
        "ORDER BY r.rolname",
        (schema.DOOR_ROLE, schema.DOOR_ROLE, schema.ADMIN_ROLE, schema.DOOR_ROLE),
    ).fetchall()
    return [{"name": r[0], "login": r[1], "verifier": r[2], "door": r[3]} for r in rows]


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    return {t: one_row(conn, sql.SQL("SELECT count(*) FROM facegate.{}").format(sql.Identifier(t)))[0] for t in COUNTED}


def backup_site(url: str, password: str | None, path: str | Path) -> SiteBackup:
    """Write the whole site at ``url`` (a superuser's URL) to ``path`` (a new file)."""
    path = Path(path)
    if path.exists():
        raise SiteError(f"{path} exists already: name a new file for the site's backup")
    with connect(url, password=password) as conn:
        if not schema.version(conn):
            raise SiteError("that database is not a FaceGate site")
        if not one_row(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0]:
            raise SiteError("a site backup needs the server's superuser (the doors' logins are the superuser's to read)")
        major = conn.info.server_version // 10000
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            roles, counts = _roles(conn), _counts(conn)
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "site.dump"
        _run(
            pg_tool("pg_dump", major),
            ["--format=custom", "--schema=facegate", "--no-owner", f"--file={dump}"],
            _libpq_env(url, password),
            "pg_dump",
        )
        digest = hashlib.sha256(dump.read_bytes()).hexdigest()
        manifest = {"format": FORMAT, "server_version": major, "roles": roles, "counts": counts, "sha256": digest}
        part = path.with_name(path.name + ".part")
        with tarfile.open(part, "w") as tar:
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, "site.dump")
        os.chmod(part, 0o600)  # it holds every login's verifier
        os.replace(part, path)
    return SiteBackup(path, counts, len(roles), digest, major)


def read_backup(path: str | Path) -> tuple[dict, bytes]:
    """The manifest and the dump of a site backup, checked (a damaged file is refused whole)."""
    try:
        with tarfile.open(path) as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
            dump = tar.extractfile("site.dump").read()  # type: ignore[union-attr]
    except (OSError, tarfile.TarError, KeyError, AttributeError, ValueError) as exc:
        raise SiteError(f"{path}: not a readable FaceGate site backup ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise SiteError(f"{path}: not a FaceGate site backup (format {manifest.get('format')!r})")
    if hashlib.sha256(dump).hexdigest() != manifest["sha256"]:
        raise SiteError(f"{path}: the backup is damaged (its dump does not match its checksum); nothing was restored")
    return manifest, dump


def restore_site(path: str | Path, url: str, password: str | None) -> SiteBackup:
    """Make the empty database at ``url`` (a superuser's URL) the site in ``path``: the roles
    with their verifiers, the schema and every row; checked against the backup's counts."""
    manifest, dump = read_backup(path)
    with connect(url, password=password) as conn:
        if schema.version(conn):
            raise SiteError("that database is a FaceGate site already: restore into a new, empty database")
        require_extension(conn, "vector")
        major = conn.info.server_version // 10000
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            for role in (schema.ADMIN_ROLE, schema.DOOR_ROLE):
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            for role in manifest["roles"]:
                name = sql.Identifier(role["name"])
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role["name"],)).fetchone() is None:
                    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(name))
                if role["login"] and role["verifier"]:
                    conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(role["verifier"])))
                if role["door"]:
                    conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(schema.DOOR_ROLE), name))
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "site.dump"
        file.write_bytes(dump)
        _run(
            pg_tool("pg_restore", max(major, manifest["server_version"])),
            ["--dbname", check_url(url).get("dbname", "postgres"), "--exit-on-error", "--single-transaction", str(file)],
            _libpq_env(url, password),
            "pg_restore",
        )
    with connect(url, password=password) as conn:
        counts = _counts(conn)
    missing = {t: (n, counts.get(t)) for t, n in manifest["counts"].items() if counts.get(t) != n}
    if missing:
        raise SiteError(f"the restored site differs from the backup: {missing}")
    with connect(url, password=password) as conn, conn.transaction():  # doors re-read the whole site (sync.hello)
        conn.execute(
            "INSERT INTO facegate.site_settings VALUES ('epoch', gen_random_uuid()::text) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        )
    return SiteBackup(Path(path), counts, len(manifest["roles"]), manifest["sha256"], major)
