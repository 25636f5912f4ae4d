"""A throwaway PostgreSQL server for the tests, started from Debian's binaries.

One cluster per pytest process (each xdist worker starts its own): `initdb`
into a fresh directory under /tmp, then `pg_ctl start` listening on a unix
socket in that directory and on 127.0.0.1 at a free port, with a random
password (no `trust` login for other local users). The server refuses to
run as root, so as root every server binary runs as the `postgres` OS user
(`runuser`) in a directory that user owns. Durability settings are off: the
server lives for one test session, and nothing in it must survive a crash
of the server itself (the tests kill the fault line, never PostgreSQL).

There is no skip: when the binaries are missing this fails, naming the fix
(`scripts/bootstrap` installs Debian's `postgresql`).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"  # the OS user the server runs as when we are root
SUPERUSER = "postgres"  # the database role the tests connect as
START_TIMEOUT = 60

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "300",  # a service under load holds up to 30, plus CLI runs
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "huge_pages": "off",
    "log_min_messages": "warning",
    "log_connections": "off",
}


class PostgresUnavailable(RuntimeError):
    """The test PostgreSQL server could not be started; the message says why."""


def find_bindir() -> Path:
    """The newest Debian PostgreSQL server binaries (or PG_BINDIR, if set)."""
    candidates = [os.environ["PG_BINDIR"]] if os.environ.get("PG_BINDIR") else []
    versions = sorted(
        glob.glob(PG_BIN_GLOB),
        key=lambda path: [int(n) for n in re.findall(r"\d+", path)],
        reverse=True,
    )
    for candidate in [*candidates, *versions]:
        bindir = Path(candidate)
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PostgresUnavailable(
        f"no PostgreSQL server binaries (initdb, pg_ctl, postgres) in {PG_BIN_GLOB}: "
        "run scripts/bootstrap, which installs Debian's postgresql"
    )


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    bindir: Path
    root: Path  # owned by the server's OS user; holds data/, the socket and the log
    port: int
    password: str
    running: bool = False

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    # ---- lifecycle ---------------------------------------------------------------

    @classmethod
    def start(cls) -> PostgresCluster:
        bindir = find_bindir()
        root = Path(tempfile.mkdtemp(prefix="ivr-test-pg-"))
        cluster = cls(bindir, root, 0, secrets.token_hex(16))
        try:
            cluster._initdb()
            cluster._start()
        except BaseException:
            cluster.stop()
            raise
        atexit.register(cluster.stop)
        return cluster

    def _as_server(self) -> list[str]:
        return ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as_server(), str(self.bindir / tool), *args]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=START_TIMEOUT + 30, cwd=self.root
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )

    def _initdb(self) -> None:
        if os.geteuid() == 0:
            try:
                server = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"no {SERVER_USER!r} OS user to run the server as: run scripts/bootstrap"
                ) from None
            os.chown(self.root, server.pw_uid, server.pw_gid)
        self.root.chmod(0o700)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="ascii")
        if os.geteuid() == 0:
            os.chown(pwfile, server.pw_uid, server.pw_gid)
        try:
            self._run(
                "initdb",
                "--pgdata", str(self.data),
                "--username", SUPERUSER,
                "--pwfile", str(pwfile),
                "--auth", "scram-sha-256",
                "--encoding", "UTF8",
                "--no-locale",
                "--no-sync",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        settings = {**SETTINGS, "unix_socket_directories": f"'{self.root}'"}
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# ivr tests\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _start(self) -> None:
        # A free port can be taken between the probe and the bind: try a few.
        for attempt in range(5):
            self.port = free_tcp_port()
            try:
                self._run(
                    "pg_ctl", "start",
                    "--pgdata", str(self.data),
                    "--log", str(self.log),
                    "--wait", "--timeout", str(START_TIMEOUT),
                    "--options", f"-p {self.port}",
                )  # fmt: skip
            except PostgresUnavailable as exc:
                if "could not bind" in str(exc) and attempt < 4:
                    continue
                raise
            self.running = True
            return

    def pause(self) -> None:
        """Stop the server as a restart does (fast shutdown: clients cut off), keeping
        its data and its port, until `resume`."""
        self._run("pg_ctl", "stop", "--pgdata", str(self.data), "--mode", "fast", "--wait")
        self.running = False

    def resume(self) -> None:
        """Start a paused server again, on the port it had."""
        self._run(
            "pg_ctl", "start",
            "--pgdata", str(self.data),
            "--log", str(self.log),
            "--wait", "--timeout", str(START_TIMEOUT),
            "--options", f"-p {self.port}",
        )  # fmt: skip
        self.running = True

    def stop(self) -> None:
        """Stop the server at once and remove every file it had; safe to call twice."""
        try:
            if self.running:
                self.running = False
                self._run("pg_ctl", "stop", "--pgdata", str(self.data), "--mode", "immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- databases ---------------------------------------------------------------

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname=dbname,
            autocommit=True,
        )

    def url(self, dbname: str) -> str:
        """A SQLAlchemy URL for `dbname` over loopback TCP (usable by any OS user)."""
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"test_{uuid.uuid4().hex}"
        with self.connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop `name`, cutting off anyone still connected (a killed service's leftovers)."""
        with self.connect() as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
