"""A private, real PostgreSQL (with PostGIS) on a port of its own and a temporary data directory, which tests may
stop and start again (as tests/redis_server.py does for Redis). initdb refuses to run as root: the cluster runs
as the `postgres` system user when the tests run as root."""

import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import time

BIN = "/usr/lib/postgresql/15/bin"
PORTS = range(18150, 18200)


def free_port(ports=PORTS) -> int:
    # in random order: two suites on one machine would otherwise both find the same first free port
    for port in random.sample(ports, len(ports)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


class PrivatePostgres:
    def __init__(self):
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="cc-pg-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args, check=True, **kwargs):
        command = [os.path.join(BIN, args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, **kwargs)

    def init(self) -> "PrivatePostgres":
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.root}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
                "shared_buffers = 64MB\n"
            )
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop", check=False)

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def psql(self, sql: str, db: str = "postgres") -> str:
        return subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db, "-tAc", sql],
            check=True, capture_output=True, text=True,
        ).stdout

    def copy_database(self, settings_dict: dict, name: str) -> None:
        """The given database (schema and rows, PostGIS included) as `name` in this cluster."""
        self.psql(f'CREATE DATABASE "{name}"')
        env = {**os.environ, "PGPASSWORD": settings_dict.get("PASSWORD") or ""}
        dump = subprocess.Popen(
            ["pg_dump", "-Fc", "--no-owner", "-h", settings_dict["HOST"] or "127.0.0.1", "-p", str(settings_dict["PORT"] or 5432),
             "-U", settings_dict["USER"] or "postgres", settings_dict["NAME"]],
            stdout=subprocess.PIPE, env=env,
        )
        restore = subprocess.run(
            ["pg_restore", "--no-owner", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", name],
            stdin=dump.stdout, capture_output=True, text=True,
        )
        dump.wait(timeout=60)
        # the source's rows may break a foreign key (the tests restore the demo city with triggers off, and a flush
        # renumbers auth_permission): pg_restore reports it and restores the rest, which is what the copy is for
        if restore.returncode != 0 and "errors ignored on restore" not in restore.stderr:
            raise RuntimeError(f"pg_restore failed: {restore.stderr[-2000:]}")

    def url(self, name: str) -> str:
        return f"postgis://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        if os.path.exists(self.data):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def wait_until_accepting(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("PostgreSQL did not start")
