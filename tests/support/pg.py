"""A real PostgreSQL 16 with pgvector for the site tests and benchmark, from the binaries the
``pgserver`` wheel ships (Debian's PostgreSQL here has no pgvector).

pgserver's own launcher listens on a Unix socket with ``trust`` for everyone; the site needs
what a real server has: TCP on 127.0.0.1, SCRAM passwords for every role that logs in over TCP
(so a door's role really is a separate login), ``trust`` only on this server's private socket
for the test's superuser set-up. Run as root, the server runs as the ``pgserver`` system user
(postgres refuses root), like pgserver does.

    >>> server = PgServer(tmp / "pg"); server.start()
    >>> server.superuser_dsn()      # socket, trust: set-up only
    >>> server.stop()
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from pgserver import utils as pg_utils
from pgserver._commands import POSTGRES_BIN_PATH as BIN

SYSTEM_USER = "pgserver"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, folder: Path, port: int | None = None, shared_buffers: str = "256MB") -> None:
        self.folder = Path(folder)
        self.shared_buffers = shared_buffers  # written at initdb
        self.data = self.folder / "data"
        self.sockets = self.folder / "sock"
        self.port = port or free_port()
        self.user = SYSTEM_USER if os.geteuid() == 0 else None

    def _run(self, tool: str, *args: str, timeout: float = 60) -> str:
        return subprocess.run(
            [str(BIN / tool), *args], check=True, capture_output=True, text=True, user=self.user, timeout=timeout
        ).stdout

    def start(self) -> PgServer:
        if not (self.data / "PG_VERSION").exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            self.sockets.mkdir(exist_ok=True)
            if self.user:
                import pwd

                pg_utils.ensure_user_exists(self.user)
                pg_utils.ensure_prefix_permissions(self.folder)
                pg_utils.ensure_folder_permissions(BIN.parent, 0o555)
                entry = pwd.getpwnam(self.user)
                for path in (self.folder, self.sockets):
                    os.chown(path, entry.pw_uid, entry.pw_gid)
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-sync",
            )
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write(
                    f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.sockets}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    f"max_connections = 200\nshared_buffers = {self.shared_buffers}\nmaintenance_work_mem = 512MB\n"
                )
        try:
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-t", "30", "start")
        except subprocess.CalledProcessError as exc:
            log = self.folder / "log"
            raise RuntimeError(
                f"PostgreSQL did not start: {exc.stderr}\n{log.read_text()[-2000:] if log.exists() else ''}"
            ) from None
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def superuser_dsn(self, dbname: str = "postgres") -> str:
        """The superuser over this server's private socket (trust): for test set-up only."""
        return f"host={self.sockets} port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        """A TCP URL without a password (FaceGate takes passwords from a 0600 file)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres", timeout: float = 60) -> str:
        return self._run(
            "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.superuser_dsn(dbname), "-c", statement, timeout=timeout
        )
