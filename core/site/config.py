"""How this PC reaches its site: the server, its door's login, and the offline policy.

Connection details and passwords live in ``<gallery>.site.json`` beside the gallery database,
created mode 0600 in the 0700 data folder and written atomically; never in the database (a
backup is not a key ring), on the command line or in the log. The URL kept there has no password.
TLS: put ``sslmode=verify-full&sslrootcert=/path/ca.pem`` in the URL's query; FaceGate passes
it to libpq unchanged, so the server's certificate must name the host and chain to that CA.

The offline policy (SiteSettings) is kept in the gallery itself, like the door's settings.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from core.errors import FaceGateError
from core.gallery.stored_settings import StoredSettings

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

    from core.gallery.store import Store

CONNECT_TIMEOUT = 3  # seconds: an unreachable site must not hold anything up for long
KEEP = "keep"  # offline policy: keep recognising with the last copy
NOBODY = "nobody"  # offline policy: let nobody in
OFF, SOFT, HARD = "off", "soft", "hard"  # anti-passback (core.site.passback)
PASSBACK_MODES = (OFF, SOFT, HARD)
DIRECTIONS = ("", "in", "out")


class SiteError(FaceGateError):
    """The site cannot be used: not configured, unreachable, refused, or misconfigured."""


class SiteUnreachable(SiteError):
    """No connection to the site's server could be made (down, the network lost, refused the
    login): nothing was sent, so a caller can say that nothing changed anywhere."""


@dataclass
class SiteSettings(StoredSettings):
    """What a door does when it has not heard from its site for a while, and its anti-passback
    (core.site.passback); stored in the gallery."""

    KEY: ClassVar[str] = "site"
    DOOR_FIELDS: ClassVar[frozenset[str]] = frozenset(
        ["offline_after_hours", "offline_policy", "keep_at_most_days", "direction", "passback", "passback_timeout"]
    )

    offline_after_hours: float = 24.0
    offline_policy: str = KEEP  # keep | nobody
    keep_at_most_days: float = 7.0  # "keep" lets people in on an old copy this long at most, then nobody
    catch_up_seconds: float = 10.0  # pull even without a notification this often
    batch: int = 500  # people per pulled batch (one local transaction each)
    direction: str = ""  # anti-passback: this door lets people "in" or "out" ("": neither, not checked)
    passback: str = OFF  # off | soft (granted, logged) | hard (a second entry is refused)
    passback_timeout: float = 0.5  # s a grant waits for the site's answer before the offline rule

    def check(self) -> None:
        if self.offline_policy not in (KEEP, NOBODY):
            raise ValueError(f"offline policy {self.offline_policy!r} must be {KEEP!r} or {NOBODY!r}")
        if self.offline_after_hours <= 0:
            raise ValueError("the offline time must be above 0 hours")
        if self.keep_at_most_days <= 0:
            raise ValueError("the longest a door keeps its old copy must be above 0 days")
        if self.catch_up_seconds <= 0 or self.batch < 1:
            raise ValueError("catch-up time and batch size must be positive")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"door direction {self.direction!r} must be 'in', 'out' or '' (neither)")
        if self.passback not in PASSBACK_MODES:
            raise ValueError(f"anti-passback {self.passback!r} must be one of {', '.join(PASSBACK_MODES)}")
        if not 0 < self.passback_timeout <= 5:
            raise ValueError("the anti-passback timeout must be between 0 and 5 s (a grant waits for it)")


@dataclass
class Login:
    role: str
    password: str = field(repr=False)


@dataclass
class SiteConfig:
    """The contents of ``<gallery>.site.json``."""

    url: str
    door: str
    door_id: str
    door_login: Login
    admin_login: Login | None = None

    @staticmethod
    def path_for(db: str | Path) -> Path:
        db = Path(db)
        return db.with_name(db.name + ".site.json")

    @classmethod
    def load(cls, db: str | Path) -> SiteConfig | None:
        """This gallery's site, or None if it has none; refuses a file others may read."""
        path = cls.path_for(db)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            return None
        if os.name != "nt" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SiteError(
                f"{path}: holds passwords but others may read it (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
            )
        try:
            data = json.loads(path.read_text())
            admin = data.get("admin_login")
            known = {f.name for f in fields(cls)}
            data = {k: v for k, v in data.items() if k in known}
            data["door_login"] = Login(**data["door_login"])
            data["admin_login"] = Login(**admin) if admin else None
            return cls(**data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SiteError(f"{path}: not a usable site file ({exc})") from None

    def save(self, db: str | Path) -> Path:
        """Write atomically, mode 0600 from the start (never readable by others, not even briefly)."""
        path = self.path_for(db)
        tmp = path.with_name(path.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(self), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path

    @classmethod
    def remove(cls, db: str | Path) -> bool:
        try:
            cls.path_for(db).unlink()
            return True
        except FileNotFoundError:
            return False


def site_of(store: Store) -> SiteConfig | None:
    """The site of the gallery in ``store``, read so that a broken configuration keeps the door
    shut: None when the gallery has no site; SiteError when it belongs to one (it has a door id)
    but its site file is missing, unreadable, damaged or readable by others. Whatever runs the
    door refuses to on that error (fail secure): without the file it could not hear the site's
    revocations nor apply the site's offline policy."""
    from core.site.local import LocalSite

    try:
        config = SiteConfig.load(store.path)
    except SiteError as exc:
        raise SiteError(
            f"{exc}. This door belongs to a site and stays shut until that is mended (or leave the site: facegate site leave)"
        ) from None
    if config is None and LocalSite(store).door_id() is not None:
        raise SiteError(
            f"{SiteConfig.path_for(store.path)}: missing, but this gallery belongs to a site; the door stays "
            "shut until the file is back (restore it from a backup) or the gallery leaves the site "
            "(facegate site leave)"
        )
    return config


def check_url(url: str) -> dict:
    """The URL's connection parameters; refuses one that carries a password."""
    from psycopg.conninfo import conninfo_to_dict

    if "://" in url and not url.startswith(("postgresql://", "postgres://")):
        raise SiteError(f"not a PostgreSQL URL: {url.split('://', 1)[0]}:// (say postgresql://USER@HOST:PORT/DATABASE)")
    try:
        params = conninfo_to_dict(url)
    except Exception as exc:
        raise SiteError(f"not a PostgreSQL URL ({first_line(exc)}); say postgresql://USER@HOST:PORT/DATABASE") from None
    if params.get("password"):
        raise SiteError(
            "the URL holds a password: put it in a file only you can read (--password-file, "
            "mode 600) or in ~/.pgpass instead, so it never shows in the process list or the log"
        )
    return params


def read_password_file(path: str | Path) -> str:
    """A password from a file only its owner can read (the first line)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if os.name != "nt" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SiteError(f"{path}: others may read this password file (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}")
        text = path.read_text().splitlines()
    except OSError as exc:
        raise SiteError(f"{path}: cannot read the password file ({exc.strerror})") from None
    if not text or not text[0]:
        raise SiteError(f"{path}: the password file is empty")
    return text[0]


def connect(
    url: str,
    login: Login | None = None,
    password: str | None = None,
    autocommit: bool = True,
    timeout: float = CONNECT_TIMEOUT,
    application: str = "facegate",
) -> psycopg.Connection:
    """A psycopg connection with pgvector's types, short timeouts and TCP keepalives, so a dead
    network is noticed in seconds. The password comes from ``login``, ``password``, or libpq's own
    sources (~/.pgpass, PGPASSFILE).

    A URL naming several servers (a primary and its standbys, ``host1:5432,host2:5433``) gets the
    one that accepts writes and is on the newest timeline (core.site.standby): a promoted standby,
    never an old primary that came back after the promotion."""
    addresses = server_addresses(url)
    if len(addresses) == 1:
        return _connect_one(url, login, password, autocommit, timeout, application)
    best, best_timeline, errors = None, -1, []
    for address in addresses:
        try:
            conn = _connect_one(one_server(url, address, writable=True), login, password, autocommit, timeout, application)
        except SiteError as exc:
            errors.append(str(exc))
            continue
        tl = timeline_of(conn)
        if tl > best_timeline:
            if best is not None:
                best.close()
            best, best_timeline = conn, tl
        else:
            conn.close()
    if best is None:
        raise SiteUnreachable(f"no server of the site at {redact(url)} accepts writes: " + "; ".join(errors))
    return best


def timeline_of(conn: psycopg.Connection) -> int:
    """The server's WAL timeline (0 on a site made before FaceGate knew of standbys)."""
    import psycopg

    try:
        with conn.transaction():
            return int(one_row(conn, "SELECT facegate.site_timeline()")[0])
    except psycopg.Error:
        return 0


def _connect_one(
    url: str, login: Login | None, password: str | None, autocommit: bool, timeout: float, application: str
) -> psycopg.Connection:
    import psycopg
    from pgvector.psycopg import register_vector

    params = check_url(url)
    if login is not None:
        params["user"], password = login.role, login.password
    if password is not None:
        params["password"] = password
    params.setdefault("connect_timeout", str(max(1, int(timeout))))
    params.update(
        keepalives="1", keepalives_idle="5", keepalives_interval="2", keepalives_count="2", application_name=application
    )
    try:
        conn = psycopg.connect(**params, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise SiteUnreachable(f"cannot reach the site at {redact(url)}: {first_line(exc)}") from None
    with contextlib.suppress(psycopg.ProgrammingError):  # no pgvector: only a site's set-up connection can go on without it
        register_vector(conn)
    return conn


def server_addresses(url: str) -> list[str]:
    """``host:port`` of each server the URL names, in its order."""
    params = check_url(url)
    hosts = str(params.get("host", "localhost")).split(",")
    ports = str(params.get("port", "5432")).split(",")
    if len(ports) == 1:
        ports *= len(hosts)
    return [f"{h}:{p}" for h, p in zip(hosts, ports, strict=True)]


def one_server(url: str, address: str, writable: bool = False) -> str:
    """``url`` naming only ``address`` (host:port) of its servers (``writable``: only if it takes writes)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    host, port = address.rsplit(":", 1)
    params.update(host=host, port=port)
    params.pop("target_session_attrs", None)
    if writable:
        params["target_session_attrs"] = "read-write"
    return make_conninfo("", **params)


def with_servers(url: str, addresses: list[str]) -> str:
    """``url`` naming ``addresses`` (host:port, a primary and its standbys) instead of its own."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params.update(host=",".join(a.rsplit(":", 1)[0] for a in addresses), port=",".join(a.rsplit(":", 1)[1] for a in addresses))
    return make_conninfo("", **params)


def one_row(conn: psycopg.Connection, query: str | sql.SQL | sql.Composed, params: Sequence[object] = ()) -> tuple:
    """The row of a query that always answers one (a count, a facegate.* function's result);
    typed so that the caller need not check for None."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise SiteError(f"the site answered no row to {str(query)[:60]!r}")
    return row


def redact(url: str) -> str:
    """The URL for messages and logs: host, port and database only."""
    params = check_url(url)
    return f"{params.get('host', 'localhost')}:{params.get('port', '5432')}/{params.get('dbname', '')}"


def first_line(exc: BaseException) -> str:
    """The first line of a driver's message (the rest repeats it or gives hints for psql users)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()


def new_password() -> str:
    return secrets.token_urlsafe(32)


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier for ``password``: what the server stores, made here so
    the password itself never travels to the server or shows in its statement log."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(hashlib.sha256(client_key).digest())}:{b64(server_key)}"
