"""Data hub ingestion through HTTP: one 1,000,000-row NDJSON upload of vehicle positions.

Starts the production web server (Uvicorn, as in the Procfile) on a free port against DATABASE_URL,
creates a push token for 危险货物运输车辆实时定位, streams the body from a file and reports accepted
rows per second (wall clock of the whole request) and the server process's peak resident memory
(VmHWM) during the upload. Uvicorn applies flow control to request bodies, so the memory figure shows
our own streaming. The same body also goes through the ingestion service in this process. The bench's
rows are removed afterwards. Prints one JSON object as its last line. BENCH_ROWS changes the run.
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_center.settings.dev")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from org.models import Department, Region, Role, User  # noqa: E402
from datahub import services  # noqa: E402
from datahub.models import DataResource, ExchangeBatch, ExchangeDaily  # noqa: E402

from bench._common import free_port, wait_for_port  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
SERVERS = ["uvicorn"]  # the Procfile's server
VEHICLES = 1000
PROVINCES = "苏浙沪皖鲁"


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def write_body(path: Path) -> int:
    """Positions every 10 s for VEHICLES vehicles, ending now, inside the demo city."""
    end = timezone.localtime().replace(microsecond=0) - timedelta(minutes=1)
    per_vehicle = ROWS // VEHICLES
    start = end - timedelta(seconds=10 * per_vehicle)
    size = 0
    with path.open("wb") as f:
        buf = []
        for step in range(per_vehicle):
            at = (start + timedelta(seconds=10 * step)).isoformat()
            for v in range(VEHICLES):
                buf.append(orjson.dumps({
                    "plate": f"{PROVINCES[v % 5]}A{v:05d}", "time": at,
                    "lon": round(120.0 + (v % 100) * 0.006 + step * 1e-5, 6), "lat": round(31.8 + (v // 100) * 0.04, 6),
                    "speed": float((v + step) % 90),
                }))
            if len(buf) >= 50_000:
                chunk = b"\n".join(buf) + b"\n"
                size += f.write(chunk)
                buf = []
        if buf:
            size += f.write(b"\n".join(buf) + b"\n")
    return size


def clean_up(resource, token, extra=None) -> None:
    """Take the bench's rows back out, so the demo's alerts and exchange figures never see them."""
    from django.db import connection, transaction
    from django.db.models import F

    with transaction.atomic():
        batches = list(ExchangeBatch.objects.filter(token=token))
        if extra is not None:
            batches.append(extra)
        for batch in batches:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM datahub_vehicle_position WHERE batch_id = %s", [batch.pk])
            ExchangeDaily.objects.filter(resource=resource, department=batch.department, day=timezone.localdate(batch.finished_at)).update(
                batches=F("batches") - 1, accepted=F("accepted") - batch.accepted, rejected=F("rejected") - batch.rejected,
                bytes=F("bytes") - batch.bytes,
            )
            DataResource.objects.filter(pk=resource.pk).update(record_count=F("record_count") - batch.accepted)
            batch.delete()
        token.delete()


def main():
    if not Region.objects.filter(code="329900000000").exists():
        call_command("load_demo_city", quiet=True, history_days=0)
    resource = DataResource.objects.get(code="JT-HAZMAT-GPS")
    jt = Department.objects.get(code="329900-JT")
    officer, _ = User.objects.get_or_create(username="bench_jt", defaults={"role": Role.DATA_OFFICER, "department": jt})
    token, secret = services.token_create(department=jt, name="bench", scopes=[(resource, "push")], by=officer)
    figures, direct = {}, None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            body = Path(tmp) / "positions.ndjson"
            t0 = time.perf_counter()
            size = write_body(body)
            print(f"wrote {ROWS:,} rows, {size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f}s", flush=True)
            for server in SERVERS:
                figures[server] = upload(resource, secret, body, size, server)
                print(server, figures[server], flush=True)
            direct = in_process(resource, body)
    finally:
        clean_up(resource, token, extra=direct["batch"] if direct else None)
    main_server = figures[SERVERS[0]]
    print(json.dumps({
        "rows": ROWS,
        "body_mb": round(size / 1e6, 1),
        "server": f"{SERVERS[0]} (1 process)",
        "accepted_per_s": main_server["accepted_per_s"],
        "server_peak_rss_mb": main_server["server_peak_rss_mb"],
        **{f"{name}": f for name, f in figures.items()},
        "in_process_accepted_per_s": direct["per_s"],
        "in_process_memory_growth_mb": direct["growth_mb"],
    }))


def in_process(resource, body: Path) -> dict:
    """The same body through the ingestion service in this process: our own code's memory, without a server."""
    me = os.getpid()
    before = rss_kb(me, "VmRSS")
    Path(f"/proc/{me}/clear_refs").write_text("5")
    t0 = time.perf_counter()
    with body.open("rb") as f:
        result = services.ingest_batch(
            resource=resource, department=resource.owner, token=None, idempotency_key=f"bench-direct-{time.time()}",
            fmt="ndjson", stream=f,
        )
    elapsed = time.perf_counter() - t0
    return {"batch": result.batch, "per_s": round(result.batch.accepted / elapsed),
            "growth_mb": round((rss_kb(me, "VmHWM") - before) / 1024, 1)}


def upload(resource, secret, body: Path, size: int, server_name: str) -> dict:
    """Start one server process, warm it up, POST the body once; accepted rows/s and the server's peak memory."""
    port = free_port()
    env = {**os.environ, "DEBUG": "false", "LOG_LEVEL": "WARNING"}
    command = {
        "uvicorn": [str(ROOT / ".venv/bin/uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                    "command_center.asgi:application"],
    }[server_name]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, tries=100)
        headers = {"Authorization": f"Token {secret}", "Content-Type": "application/x-ndjson"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
        warm = orjson.dumps({"plate": "苏A00000", "time": timezone.localtime().isoformat(), "lon": 120.3, "lat": 32.0, "speed": 1})
        conn.request("POST", f"/api/datahub/resources/{resource.code}/batches/", body=warm,
                     headers={**headers, "Idempotency-Key": f"bench-warm-{time.time()}"})
        conn.getresponse().read()
        rss_before = rss_kb(server.pid, "VmRSS")
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset the peak: measure this upload only
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600, blocksize=1 << 20)
        t0 = time.perf_counter()
        with body.open("rb") as f:
            conn.request("POST", f"/api/datahub/resources/{resource.code}/batches/", body=f,
                         headers={**headers, "Idempotency-Key": f"bench-{time.time()}", "Content-Length": str(size)})
            response = conn.getresponse()
            result = json.loads(response.read())
        elapsed = time.perf_counter() - t0
        peak_kb = rss_kb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(timeout=20)
    if response.status != 201:
        raise SystemExit(f"upload through {server_name} failed: HTTP {response.status} {result}")
    return {
        "accepted": result["accepted"], "rejected": result["rejected"], "seconds": round(elapsed, 2),
        "accepted_per_s": round(result["accepted"] / elapsed),
        "server_rss_before_mb": round(rss_before / 1024, 1), "server_peak_rss_mb": round(peak_kb / 1024, 1),
    }


if __name__ == "__main__":
    main()
