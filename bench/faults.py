"""Faults that once broke "exactly once" (issue 15), injected on purpose; two figures.

1. Concurrent scanners: BENCH_FAULT_TICKETS (1,000) tickets with two late shares each (2,000 due shares, all
   beyond the escalation grace), then BENCH_SCANNERS (4) scanner processes started together, each calling
   deadlines.scan() again and again (as workers do on each beat, without waiting 30 s) until nothing is due.
   Printed: escalations per ticket (the maximum must be 1), urges per share, deadlocks (PostgreSQL's own count
   for the database, pg_stat_database.deadlocks), rows the scanners reported failed, and the time to drain.
2. PostgreSQL restarted under load: a private PostgreSQL (tests/pg_server.py: its own data directory, a port in
   18150-18199) holding a copy of the database, two Uvicorn servers on it (ports 18100-18149), eight clients
   asking GET /api/org/me/ as fast as answers come and one polling /healthz; the database is stopped (fast
   shutdown) for BENCH_OUTAGE_SECONDS (5) and started again. Printed: requests during the outage and how they
   were answered (and how fast), failed requests after the database was back, seconds from its start to the
   first success, and /healthz's slowest answer.

Uses the database named by DATABASE_URL (default: the dev database). Prints one JSON object as the last line.
"""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_center.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

TICKETS = int(os.environ.get("BENCH_FAULT_TICKETS", "1000"))
SCANNERS = int(os.environ.get("BENCH_SCANNERS", "4"))
OUTAGE_SECONDS = float(os.environ.get("BENCH_OUTAGE_SECONDS", "5"))
CLIENTS = 8


def log(msg):
    print(msg, file=sys.stderr if "--scanner" in sys.argv else sys.stdout, flush=True)


# ------------------------------------------------------------------------------------------------ 1. scanners


def scanner_process() -> None:
    """One scanner (a worker process): scan until a scan finds nothing due; print what it did as JSON."""
    from tickets import deadlines

    handled, failed, busy, scans = 0, 0, 0, 0
    while True:
        result = deadlines.scan(names=["tickets.assignment"])
        scans += 1
        handled += result.handled
        failed += len(result.failed)
        if result.busy:
            busy += 1
            time.sleep(0.05)  # another scanner's batch is running: look again shortly
            continue
        if not result.handled and not result.unfinished:
            break
    print(json.dumps({"handled": handled, "failed": failed, "busy": busy, "scans": scans}))


def build_late_tickets(n: int) -> list[int]:
    """n tickets of 望江街道, each dispatched to its enforcement team (lead) and community (assisting), made
    through the services; then every share is made late beyond the grace."""
    from org.models import Department, Region, Role, User
    from grid.models import Grid
    from tickets import services
    from tickets.demo import load_categories
    from tickets.models import Assignment, Category

    if not Region.objects.filter(code="329900000000").exists():
        call_command("load_demo_city", quiet=True)
    load_categories()
    town = Region.objects.get(name="望江街道")
    zf = Department.objects.get(code=f"{town.code[:9]}-ZF")
    sq = Department.objects.get(code=f"{town.code[:9]}-SQ")
    dispatcher, _ = User.objects.get_or_create(username="bench_faults_disp", defaults={"role": Role.DISPATCHER, "region": town})
    category = Category.objects.get(code="1501")
    grid = Grid.objects.filter(community__parent=town).order_by("code").first()
    point = grid.boundary.point_on_surface
    ids = []
    for i in range(n):
        t = services.ticket_create(by=dispatcher, source="inspection", category=category, title=f"故障注入{i}", description="",
                                   location=point, address="春晖路")
        t = services.ticket_open(ticket=t, by=dispatcher, version=t.version)
        t = services.ticket_dispatch(ticket=t, by=dispatcher, lead=zf, assisting=[sq], version=t.version)
        ids.append(t.pk)
        if i % 200 == 199:
            log(f"  {i + 1} tickets")
    now = timezone.now()
    late = now - timedelta(days=10)
    Assignment.objects.filter(ticket_id__in=ids).update(
        warn_at=late - timedelta(days=1), sign_due_at=late, handle_due_at=late + timedelta(days=1), next_scan_at=now - timedelta(minutes=1),
    )
    return ids


def deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def concurrent_scanners() -> dict:
    from django.db.models import Count, Q

    from tickets.models import Assignment, Ticket, TicketEvent

    log(f"1. {TICKETS} tickets × 2 late shares, {SCANNERS} scanners at once")
    # nothing else may be due, so that the drain measures these rows only
    Assignment.objects.filter(next_scan_at__isnull=False).update(next_scan_at=None)
    ids = build_late_tickets(TICKETS)
    before = deadlocks()
    connection.close()
    env = {**os.environ, "LOG_LEVEL": "ERROR"}
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--scanner"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(SCANNERS)]
    outputs = [json.loads(p.communicate(timeout=1800)[0].strip().splitlines()[-1]) for p in procs]
    drained = time.perf_counter() - started
    per_ticket = (
        Ticket.objects.filter(pk__in=ids)
        .annotate(esc=Count("events", filter=Q(events__action="escalated")), urged=Count("events", filter=Q(events__action="urged")))
        .values_list("esc", "urged")
    )
    escalations = [e for e, _ in per_ticket]
    urges_per_share = TicketEvent.objects.filter(ticket_id__in=ids, action="urged").values("data__assignment").annotate(n=Count("id"))
    urge_counts = [row["n"] for row in urges_per_share]
    still_due = Assignment.objects.filter(ticket_id__in=ids, next_scan_at__lte=timezone.now()).count()
    return {
        "tickets": len(ids),
        "due_shares": 2 * len(ids),
        "scanners": SCANNERS,
        "escalations_per_ticket_max": max(escalations),
        "tickets_escalated_once": escalations.count(1),
        "tickets_escalated_twice_or_more": sum(1 for e in escalations if e > 1),
        "urges_per_share_max": max(urge_counts),
        "shares_urged": len(urge_counts),
        "deadlocks": deadlocks() - before,
        "rows_failed": sum(o["failed"] for o in outputs),
        "handled_by_scanner": [o["handled"] for o in outputs],
        "still_due": still_due,
        "seconds_to_drain": round(drained, 2),
    }


# ---------------------------------------------------------------------------------------------- 2. a restart


def start_server(port: int, database_url: str) -> subprocess.Popen:
    env = {**os.environ, "DEBUG": "true", "LOG_LEVEL": "CRITICAL", "DJANGO_SETTINGS_MODULE": "command_center.settings.dev",
           "DATABASE_URL": database_url}
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "critical",
         "--no-access-log", "command_center.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def restart_under_load() -> dict:
    from org.models import Role, User
    from tests.pg_server import PrivatePostgres, free_port, wait_until_accepting

    from bench._common import session_for

    log(f"2. PostgreSQL stopped for {OUTAGE_SECONDS:g} s under {CLIENTS} clients")
    user, _ = User.objects.get_or_create(username="bench_faults_disp", defaults={"role": Role.DISPATCHER})
    session, csrf = session_for(user)
    pg = PrivatePostgres().init()
    servers = []
    try:
        pg.start()
        pg.copy_database(settings.DATABASES["default"], "cc")
        ports = [free_port(range(18100, 18150))]
        ports.append(free_port(range(ports[0] + 1, 18150)))
        servers = [start_server(port, pg.url("cc")) for port in ports]
        for port in ports:
            wait_until_accepting(port)
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
        results: list[tuple[float, float, int]] = []  # (start, end, status) by monotonic time
        health: list[tuple[float, float, int]] = []
        stop = threading.Event()

        def one(port, path, extra):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            t0 = time.monotonic()
            try:
                conn.request("GET", path, headers=extra)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
            finally:
                conn.close()
            return t0, time.monotonic(), status

        def client(k):
            while not stop.is_set():
                results.append(one(ports[k % len(ports)], "/api/org/me/", headers))

        def healthz():
            while not stop.is_set():
                health.append(one(ports[0], "/healthz", {}))
                time.sleep(0.25)

        for port in ports:  # warm each server's pool
            for _ in range(20):
                one(port, "/api/org/me/", headers)
        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)] + [threading.Thread(target=healthz)]
        [t.start() for t in threads]
        time.sleep(3)
        down_at = time.monotonic()
        pg.stop("fast")
        stopped_at = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        pg.start()
        up_at = time.monotonic()  # pg_ctl start -w returned: the database accepts connections
        time.sleep(5)
        stop.set()
        [t.join() for t in threads]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)
        pg.destroy()

    if os.environ.get("BENCH_FAULTS_TIMELINE"):  # what each 0.1 s after the start brought
        for k in range(0, 30):
            lo, hi = up_at - 0.5 + k * 0.1, up_at - 0.4 + k * 0.1
            got = [r[2] for r in results if lo <= r[0] < hi]
            log(f"  {lo - up_at:+.1f}s {dict((s, got.count(s)) for s in sorted(set(got)))}")
    during = [r for r in results if down_at <= r[0] < up_at]
    after = [r for r in results if r[0] >= up_at]
    first_ok = min((end for start, end, status in after if status == 200), default=None)
    health_down = [h for h in health if down_at <= h[0] < up_at]
    return {
        "requests": len(results),
        "outage_seconds": round(up_at - down_at, 2),
        "stop_seconds": round(stopped_at - down_at, 2),
        "during_outage": {
            "requests": len(during),
            "by_status": {str(s): sum(1 for r in during if r[2] == s) for s in sorted({r[2] for r in during})},
            "slowest_answer_s": round(max((end - start for start, end, _ in during), default=0), 3),
        },
        "after_restart": {
            "requests": len(after),
            "failed": sum(1 for r in after if r[2] != 200),
            "seconds_to_first_success": round(first_ok - up_at, 3) if first_ok else None,
        },
        "failed_requests_total": sum(1 for r in results if r[2] != 200),
        "http_500": sum(1 for r in results if r[2] == 500),
        "healthz_slowest_s": round(max((end - start for start, end, _ in health), default=0), 3),
        "healthz_during_outage": {str(s): sum(1 for h in health_down if h[2] == s) for s in sorted({h[2] for h in health_down})},
    }


def check_cost() -> dict:
    """What the middleware's check of a pooled connection costs when all is well (a select() on its socket), next
    to CONN_HEALTH_CHECKS' check (psycopg_pool.ConnectionPool.check_connection: one round trip)."""
    import timeit

    from psycopg_pool import ConnectionPool

    from org import database

    connection.ensure_connection()
    raw = connection.connection
    n = 2000
    ours = min(timeit.repeat(lambda: database._looks_broken(raw), number=n, repeat=5)) / n
    theirs = min(timeit.repeat(lambda: ConnectionPool.check_connection(raw), number=n, repeat=5)) / n
    return {"select_check_us": round(ours * 1e6, 2), "check_connection_us": round(theirs * 1e6, 2)}


def main():
    from bench._common import machine

    figures = {"machine": machine(), "date": timezone.localdate().isoformat()}
    figures["scanners"] = concurrent_scanners()
    log(json.dumps(figures["scanners"], ensure_ascii=False))
    figures["restart"] = restart_under_load()
    log(json.dumps(figures["restart"], ensure_ascii=False))
    figures["connection_check"] = check_cost()
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    if "--scanner" in sys.argv:
        scanner_process()
    else:
        main()
