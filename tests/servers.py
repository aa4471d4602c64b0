"""A real uvicorn in a subprocess for the tests that need the served application (websockets, outages)."""

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_uvicorn(app: str, *, port: int, env: dict) -> tuple[subprocess.Popen, str]:
    """uvicorn serving `app` on 127.0.0.1:`port` with `env`, once /login/ answers; (process, base URL)."""
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", app],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/login/", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("uvicorn did not start: " + process.stderr.read().decode()[-2000:])


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)
