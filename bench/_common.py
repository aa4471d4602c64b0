"""Helpers the HTTP benchmarks share: a signed-in session, free ports, Uvicorn servers, and where the CPU went.

Imported after django.setup() by the bench scripts (make bench skips files starting with "_").
"""

import os
import secrets
import socket
import subprocess
import time
import timeit
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def log(msg):
    print(msg, flush=True)


def session_for(user) -> tuple[str, str]:
    """A database session signed in as `user` (Django's own force_login picks the backend), and a CSRF token
    to pair with it."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value, secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# BENCH_SERVER=gunicorn (default, what production runs) or uvicorn (what `make run` runs)
SERVER = os.environ.get("BENCH_SERVER", "gunicorn")


def start_servers(n: int, *, log_name: str | None = None) -> list[tuple[subprocess.Popen, int]]:
    """`n` HTTP server processes (each with its connection pool) on free ports, started and listening;
    returns (process, port) pairs."""
    env = {**os.environ, "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "command_center.settings.dev"}
    servers = []
    for index in range(n):
        port = free_port()
        if SERVER == "uvicorn":  # `make run`: the WSGI application inside uvicorn through a2wsgi
            command = [str(ROOT / ".venv/bin/uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                       "--no-access-log", "command_center.asgi:application"]
        else:  # production: gunicorn's threaded workers, one process each
            command = [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
                       "--workers", "1", "--threads", str(settings.HTTP_THREADS), "--log-level", "warning",
                       "command_center.wsgi:application"]
        stderr = subprocess.DEVNULL
        if log_name:
            (ROOT / "var").mkdir(exist_ok=True)
            stderr = open(ROOT / "var" / f"{log_name}-{index}.log", "w")
        servers.append((subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr), port))
    for _, port in servers:
        wait_for_port(port)
    return servers


def wait_for_port(port: int, *, tries: int = 150) -> None:
    """Until a server listens on 127.0.0.1:`port`, or `tries` × 0.2 s have passed."""
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (Linux /proc; 0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() in ("postgres", "postmaster"):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def _with_children(pids: list[int]) -> list[int]:
    """The processes and all their descendants (gunicorn's workers are children of its master)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = set(pids), list(pids)
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found.add(pid)
                frontier.append(pid)
    return sorted(found)


class CPUMeter:
    """CPU spent by the servers, by PostgreSQL (every backend) and by this process while a block runs.

    `per(n)` divides by the requests made: what one request costs the machine, whatever its speed."""

    def __init__(self, servers):
        self.server_pids = _with_children([proc.pid for proc, _ in servers])

    def _sample(self):
        return (sum(_cpu_seconds(p) for p in self.server_pids), sum(_cpu_seconds(p) for p in _postgres_pids()),
                time.process_time())

    def __enter__(self):
        self._pg_before = {p: _cpu_seconds(p) for p in _postgres_pids()}
        self._start = self._sample()
        return self

    def __exit__(self, *exc):
        end = self._sample()
        # backends that ended meanwhile took their CPU with them; count what they had at the start out again
        gone = sum(cpu for pid, cpu in self._pg_before.items() if not os.path.exists(f"/proc/{pid}"))
        self.servers, self.postgres, self.client = (end[0] - self._start[0], end[1] - self._start[1] + gone,
                                                    end[2] - self._start[2])

    def per(self, n: int) -> dict:
        ms = lambda seconds: round(seconds / max(n, 1) * 1000, 2)  # noqa: E731
        return {"servers_ms": ms(self.servers), "postgres_ms": ms(self.postgres), "client_ms": ms(self.client),
                "total_ms": ms(self.servers + self.postgres + self.client)}


def machine() -> dict:
    """How fast the machine runs Python, so figures from different machines can be compared: the best of five
    runs of a fixed pure-Python loop (well under 1 µs on a current desktop core), and the cores there are."""
    loop = min(timeit.repeat("sum(range(100))", number=100_000, repeat=5)) / 100_000
    return {"cores": os.cpu_count(), "python_loop_us": round(loop * 1e6, 2)}


def floor_request(servers, headers: dict, *, clients: int = 8, n: int = 1600) -> dict:
    """The cheapest signed-in API request (GET /api/org/me/: session, user, DRF, nothing else) driven like the
    intake (`clients` connections over the same servers), with its rate and CPU per request: no endpoint goes
    below it while it authenticates with Django's session."""
    import http.client
    import threading

    failures = []

    def client(port, k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(k):
            conn.request("GET", "/api/org/me/", headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
        conn.close()

    for _, port in servers:
        client(port, 20)
    threads = [threading.Thread(target=client, args=(servers[i % len(servers)][1], n // clients)) for i in range(clients)]
    started = time.perf_counter()
    with CPUMeter(servers) as meter:
        [t.start() for t in threads]
        [t.join() for t in threads]
    if failures:  # a floor that did not answer 200 measures nothing
        raise SystemExit(f"/api/org/me/: {len(failures)} answers were not 200 (first: HTTP {failures[0]})")
    done = n // clients * clients
    return {"requests_per_s": round(done / (time.perf_counter() - started), 1), **meter.per(done)}
