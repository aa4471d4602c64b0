"""Helpers the HTTP benchmarks share: a signed-in session, free ports, and Daphne/Uvicorn servers.

Imported after django.setup() by the bench scripts (make bench skips files starting with "_").
"""

import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

ROOT = Path(__file__).resolve().parent.parent


def log(msg):
    print(msg, flush=True)


def session_for(user) -> tuple[str, str]:
    """A database session signed in as `user`, and a CSRF token to pair with it."""
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key, secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_servers(n: int, *, server: str = "daphne", log_name: str | None = None) -> list[tuple[subprocess.Popen, int]]:
    """`n` ASGI server processes on free ports, started and listening; returns (process, port) pairs."""
    env = {**os.environ, "DEBUG": "false", "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "command_center.settings.dev",
           # Django under ASGI runs each request's sync code in its own thread: persistent connections would
           # pile up one per thread, so the servers connect per request as a production ASGI setup without a pooler does
           "CONN_MAX_AGE": "0"}
    servers = []
    for index in range(n):
        port = free_port()
        command = {
            "daphne": [str(ROOT / ".venv/bin/daphne"), "-b", "127.0.0.1", "-p", str(port), "command_center.asgi:application"],
            "uvicorn": [str(ROOT / ".venv/bin/uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                        "command_center.asgi:application"],
        }[server]
        stderr = subprocess.DEVNULL
        if log_name:
            (ROOT / "var").mkdir(exist_ok=True)
            stderr = open(ROOT / "var" / f"{log_name}-{index}.log", "w")
        servers.append((subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr), port))
    for _, port in servers:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
    return servers
