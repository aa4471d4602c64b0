"""Helpers the HTTP benchmarks share: a signed-in session, free ports, and Uvicorn servers.

Imported after django.setup() by the bench scripts (make bench skips files starting with "_").
"""

import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

ROOT = Path(__file__).resolve().parent.parent


def log(msg):
    print(msg, flush=True)


def session_for(user) -> tuple[str, str]:
    """A database session signed in as `user`, and a CSRF token to pair with it."""
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key, secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_servers(n: int, *, log_name: str | None = None) -> list[tuple[subprocess.Popen, int]]:
    """`n` Uvicorn processes (the Procfile's server, each with its connection pool) on free ports, started
    and listening; returns (process, port) pairs."""
    env = {**os.environ, "DEBUG": "false", "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "command_center.settings.dev"}
    servers = []
    for index in range(n):
        port = free_port()
        command = [str(ROOT / ".venv/bin/uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                   "--no-access-log", "command_center.asgi:application"]
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
