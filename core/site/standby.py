"""A streaming standby of the site's server, promoted when the primary dies.

PostgreSQL's own answer, wrapped: ``pg_basebackup`` copies the primary into a new data folder
(``-R`` writes the standby's connection, a replication slot keeps the WAL it still needs), the
standby replays the primary's WAL as it is written, and ``pg_promote()`` makes it the primary.

    >>> make_standby(primary_url, password, Path("/srv/fg-standby"), port=5433, synchronous=True)
    >>> servers_status([primary_url, standby_url], password)     # who is primary, the lag
    >>> promote(standby_url, password)

Doors and admin PCs keep every server's address in their URL
(``postgresql://…@db1:5432,db2:5433/facegate``): FaceGate connects to the one that accepts writes
and is on the newest timeline (core.site.config.connect), so an old primary that comes back
after a promotion is never written to. How much a failover can lose (RPO):

- ``synchronous=True`` (``synchronous_standby_names``): a commit returns only once the standby
  has it on disk, so nothing a door was told is stored is lost (RPO 0); while the standby is
  down, commits wait (doors keep deciding and queue in their outboxes, nothing is lost either).
- asynchronous (the default of PostgreSQL): commits do not wait; what the standby had not
  received when the primary died is lost (typically under a second of changes). A door that
  pushed in that second has already forgotten those outbox rows.

The PostgreSQL tools run as the owner of the standby's folder (PostgreSQL refuses root): make
the folder's parent belong to the server's system account (``postgres``).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from core.site.backup import _libpq_env, pg_tool
from core.site.config import Login, SiteError, connect, first_line, one_row, one_server, server_addresses, timeline_of

SLOT = "facegate_standby"
REPLICATION_ROLE = "facegate_replication"


@dataclass
class ServerState:
    """One of the site's servers as seen now."""

    address: str
    reachable: bool
    primary: bool = False
    timeline: int | None = None
    standbys: list[dict] | None = None  # on a primary: each standby's state and lag in bytes
    error: str | None = None

    def text(self) -> str:
        if not self.reachable:
            return f"{self.address}: unreachable ({self.error})"
        role = "PRIMARY (takes writes)" if self.primary else "standby (read-only, replaying)"
        line = f"{self.address}: {role}, timeline {self.timeline}"
        for s in self.standbys or []:
            line += f"\n  streams to {s['name']} ({s['state']}, {s['sync']}, {s['lag_bytes']} bytes behind)"
        return line


def _owner_of(folder: Path) -> str | None:
    """The account PostgreSQL's tools must run as for ``folder`` (None: this one, if not root)."""
    if os.geteuid() != 0:
        return None
    owner = pwd.getpwuid(folder.stat().st_uid).pw_name
    if owner == "root":
        raise SiteError(
            f"{folder} belongs to root, and PostgreSQL refuses to run as root: give it to the server's account (chown postgres)"
        )
    return owner


def make_standby(
    primary_url: str,
    password: str | None,
    data: Path,
    port: int,
    synchronous: bool = False,
    replication_password: str | None = None,
) -> None:
    """Make ``data`` (new) a streaming standby of the primary at ``primary_url`` (its superuser)
    listening on ``port``, and start it."""
    data = Path(data)
    if data.exists() and any(data.iterdir()):
        raise SiteError(f"{data} is not empty: a standby starts from a new folder")
    data.parent.mkdir(parents=True, exist_ok=True)
    user = _owner_of(data.parent)
    from core.site.config import new_password

    secret = replication_password or new_password()
    with connect(primary_url, password=password) as conn:
        major = conn.info.server_version // 10000
        with conn.transaction():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (REPLICATION_ROLE,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(f"{verb} ROLE {{}} WITH REPLICATION LOGIN PASSWORD {{}}").format(
                    sql.Identifier(REPLICATION_ROLE), sql.Literal(secret)
                )
            )
            if conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)).fetchone() is None:
                conn.execute("SELECT pg_create_physical_replication_slot(%s)", (SLOT,))
    env = _libpq_env(primary_url, secret)
    env["PGUSER"] = REPLICATION_ROLE
    env.pop("PGDATABASE", None)
    done = subprocess.run(
        [str(pg_tool("pg_basebackup", major)), "-D", str(data), "-R", "-X", "stream", "-S", SLOT, "--checkpoint=fast"],
        env=env,
        capture_output=True,
        text=True,
        user=user,
        timeout=600,
    )
    if done.returncode != 0:
        raise SiteError(
            f"pg_basebackup failed: {first_line(RuntimeError(done.stderr))} (the primary's pg_hba.conf "
            "must let the standby's host connect for replication)"
        )
    sockets = data.parent / "sock"
    sockets.mkdir(exist_ok=True)
    if user:
        entry = pwd.getpwnam(user)
        os.chown(sockets, entry.pw_uid, entry.pw_gid)
    with open(data / "postgresql.auto.conf", "a") as conf:
        # its own address; cluster_name is the name the primary's synchronous_standby_names waits for
        conf.write(
            f"\nport = {port}\nunix_socket_directories = '{sockets}'\ncluster_name = '{SLOT}'\nsynchronous_standby_names = ''\n"
        )
    done = subprocess.run(
        [str(pg_tool("pg_ctl", major)), "-D", str(data), "-l", str(data.parent / "standby.log"), "-w", "-t", "60", "start"],
        capture_output=True,
        text=True,
        user=user,
        timeout=120,
    )
    if done.returncode != 0:
        raise SiteError(f"the standby did not start: {first_line(RuntimeError(done.stderr or done.stdout))}")
    with connect(primary_url, password=password) as conn:  # only now: a copy that waits for itself would hang
        conn.execute(sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(sql.Literal(SLOT if synchronous else "")))
        if synchronous:  # a server tuned with synchronous_commit = off would not wait for the standby either
            conn.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
        conn.execute("SELECT pg_reload_conf()")


def timeline(conn: psycopg.Connection) -> int | None:
    """The server's WAL timeline (a promotion starts a new one); None on a standby."""
    if one_row(conn, "SELECT pg_is_in_recovery()")[0]:
        return None
    return timeline_of(conn)


def servers_status(url: str, password: str | None = None, login: Login | None = None) -> list[ServerState]:
    """Each server named in ``url``: reachable, primary or standby, its timeline and, on the
    primary, its standbys and how far behind they are."""
    states = []
    for address in server_addresses(url):
        try:
            with connect(one_server(url, address), login, password=password, timeout=2) as conn:
                recovering = one_row(conn, "SELECT pg_is_in_recovery()")[0]
                state = ServerState(address, True, not recovering, timeline(conn))
                if not recovering:
                    state.standbys = [
                        {"name": r[0], "state": r[1], "sync": r[2], "lag_bytes": int(r[3] or 0)}
                        for r in conn.execute(
                            "SELECT application_name, state, sync_state, "
                            "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication"
                        )
                    ]
        except SiteError as exc:
            state = ServerState(address, False, error=str(exc).split(": ", 1)[-1])
        except Exception as exc:  # a server that answers but refuses this login the view
            state = ServerState(address, False, error=first_line(exc))
        states.append(state)
    return states


def promote(standby_url: str, password: str | None) -> int:
    """Make the standby at ``standby_url`` (its superuser) the primary; its new timeline."""
    with connect(standby_url, password=password) as conn:
        if not one_row(conn, "SELECT pg_is_in_recovery()")[0]:
            raise SiteError("that server is a primary already")
        if not one_row(conn, "SELECT pg_promote(true, 60)")[0]:
            raise SiteError("the standby did not finish promoting within 60 s")
        # alone now: commits must not wait for a standby that is gone (a new one can be made later)
        conn.execute("ALTER SYSTEM SET synchronous_standby_names = ''")
        conn.execute("SELECT pg_reload_conf()")
        tl = timeline(conn)
    assert tl is not None
    return tl
