"""The wall and the leaders' statistics over a year of tickets (1,000,000 by default).

1. Snapshot: GET /api/dashboard/wall/snapshot/ (city wall and district wall) through Django; p50/p95 ms.
2. Statistics: GET /stats/ for a one-year range, city leader; p50/p95 ms.
3. Event to screen: BENCH_CLIENTS (50) websocket clients on Uvicorn, a Celery worker relaying on the commit kick
   (as `make run` does); tickets are created through the service and the time from commit to arrival at every
   client is measured; p50/p95 ms.

Data is built once in DATABASE_URL with INSERT … SELECT generate_series (numbers start with "W"); running
again reuses it. BENCH_TICKETS changes the size. Prints one JSON object as the last line.
"""

import asyncio
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_center.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from dashboard import rollup  # noqa: E402
from org.models import Region, Role, User  # noqa: E402
from grid.models import Grid  # noqa: E402
from tickets import services  # noqa: E402
from tickets.models import Category, Ticket  # noqa: E402

from bench._common import free_port, session_for, wait_for_port  # noqa: E402

TOTAL = int(os.environ.get("BENCH_TICKETS", "1000000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "60"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
DAYS = 365


def log(msg):
    print(msg, flush=True)


BUILD_SQL = """
CREATE TEMP TABLE IF NOT EXISTS wall_grid AS
SELECT (row_number() OVER (ORDER BY g.id)) - 1 AS n, g.id AS grid_id, g.station, ST_PointOnSurface(g.boundary) AS inside,
       c.id AS community_id, c.path, t.id AS town_id, t.parent_id AS district_id, substr(t.code, 1, 6) AS district6
FROM grid_grid g JOIN org_region c ON c.id = g.community_id JOIN org_region t ON t.id = c.parent_id;
CREATE TEMP TABLE IF NOT EXISTS wall_cat AS
SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, id FROM tickets_category WHERE parent_id IS NOT NULL;
"""

# i = 1 is the newest ticket; a year of tickets, ~2,700 a day. Recent ones are open (about 1% of all);
# the rest closed (2% cancelled), a quarter late, three in four rated, some reworked, a few never dispatched.
TICKETS_SQL = """
INSERT INTO tickets_ticket (number, source, category_id, title, description, location, address, grid_id, community_id,
    town_id, district_id, region_path, center_id, level, citizen_name, citizen_phone, urgent, state,
    state_before_suspension, version, occurred_at, created_at, dispatched_at, due_at, light, closed_at, rework_count,
    urge_count, escalation_count, satisfaction)
SELECT 'W' || g.district6 || lpad(i::text, 10, '0'),
    CASE WHEN i %% 3 = 0 THEN 'hotline' WHEN i %% 7 = 0 THEN 'inspection' ELSE 'grid' END, c.id,
    '年度工单 ' || i, '基准测试数据',
    ST_Translate(g.inside, ((i * 7919) %% 200 - 100) * 0.000004, ((i * 104729) %% 200 - 100) * 0.000004),
    '测试路' || (i %% 500) || '号', g.grid_id, g.community_id, g.town_id, g.district_id, g.path, g.town_id, 3,
    '', '', i %% 97 = 0,
    CASE WHEN i <= %(open)s AND i %% 4 <> 0 THEN (ARRAY['new', 'open', 'dispatched', 'handling', 'handling', 'verifying'])[1 + i %% 6]
         WHEN i %% 53 = 0 THEN 'cancelled' ELSE 'closed' END,
    '', 5, t0, t0,
    CASE WHEN i %% 13 = 0 OR (i <= %(open)s AND i %% 4 <> 0 AND i %% 6 IN (0, 1)) THEN NULL ELSE t0 + interval '10 minutes' END,
    CASE WHEN i %% 13 = 0 OR (i <= %(open)s AND i %% 4 <> 0 AND i %% 6 IN (0, 1)) THEN NULL ELSE t0 + interval '48 hours' END,
    CASE WHEN i <= %(open)s AND i %% 4 <> 0 THEN (CASE WHEN i %% 17 = 0 THEN 'red' WHEN i %% 11 = 0 THEN 'yellow' ELSE 'green' END)
         ELSE 'green' END,
    CASE WHEN i <= %(open)s AND i %% 4 <> 0 THEN NULL ELSE t0 + ((1 + i %% 64) || ' hours')::interval END,
    CASE WHEN i %% 29 = 0 THEN 1 ELSE 0 END, 0, CASE WHEN i %% 211 = 0 THEN 1 ELSE 0 END,
    CASE WHEN (i <= %(open)s AND i %% 4 <> 0) OR i %% 53 = 0 OR i %% 4 = 1 THEN ''
         WHEN i %% 10 < 7 THEN 'satisfied' WHEN i %% 10 < 9 THEN 'basically' ELSE 'unsatisfied' END
FROM (SELECT i, %(now)s - (i * %(spacing)s || ' seconds')::interval AS t0
      FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i) s
JOIN wall_grid g ON g.n = i %% (SELECT count(*) FROM wall_grid)
JOIN wall_cat c ON c.n = i %% (SELECT count(*) FROM wall_cat);
"""

ASSIGN_SQL = """
INSERT INTO tickets_assignment (ticket_id, department_id, role, state, dispatched_at, sign_due_at, sign_unit, signed_at,
    handle_due_at, handle_unit, warn_at, next_scan_at, light, reply, return_reason, replied_at)
SELECT t.id, CASE WHEN t.id %% 5 = 0 THEN city.id ELSE d.id END, 'lead',
    CASE t.state WHEN 'closed' THEN 'replied' WHEN 'dispatched' THEN 'dispatched' WHEN 'verifying' THEN 'replied'
                 WHEN 'cancelled' THEN 'cancelled' ELSE 'signed' END,
    t.dispatched_at, t.dispatched_at + interval '2 hours', 'working_hours', t.dispatched_at + interval '30 minutes',
    t.due_at, 'working_days', t.due_at - interval '8 hours', NULL, t.light,
    CASE WHEN t.state IN ('closed', 'verifying') THEN '已处理' ELSE '' END, '',
    CASE WHEN t.state = 'closed' THEN t.closed_at - interval '1 hour' WHEN t.state = 'verifying' THEN t.created_at + interval '5 hours' END
FROM tickets_ticket t
JOIN org_region town ON town.id = t.town_id
JOIN org_department d ON d.code = substr(town.code, 1, 9) || '-ZF'
JOIN org_department city ON city.code = '329900-CG'
WHERE t.number LIKE 'W%%' AND t.dispatched_at IS NOT NULL AND t.id BETWEEN %(lo)s AND %(hi)s;
"""

RETURNED_SQL = """
INSERT INTO tickets_assignment (ticket_id, department_id, role, state, dispatched_at, sign_due_at, sign_unit,
    handle_due_at, handle_unit, warn_at, light, reply, return_reason)
SELECT t.id, d.id, 'lead', 'returned', t.dispatched_at - interval '5 minutes', t.dispatched_at, 'working_hours',
    t.due_at, 'working_days', t.due_at, 'green', '', '不属于本部门职责'
FROM tickets_ticket t JOIN org_region town ON town.id = t.town_id JOIN org_department d ON d.code = substr(town.code, 1, 9) || '-SQ'
WHERE t.number LIKE 'W%%' AND t.dispatched_at IS NOT NULL AND t.id %% 41 = 0 AND t.id BETWEEN %(lo)s AND %(hi)s;
"""

EVENTS_SQL = """
INSERT INTO tickets_ticketevent (ticket_id, at, action, from_state, to_state, note, data)
SELECT id, created_at, 'created', '', 'new', '', jsonb_build_object('source', source)
FROM tickets_ticket WHERE number LIKE 'W%%' AND id BETWEEN %(lo)s AND %(hi)s
UNION ALL
SELECT id, closed_at + interval '1 day', 'rated', 'closed', 'closed', '', jsonb_build_object('satisfaction', satisfaction)
FROM tickets_ticket WHERE number LIKE 'W%%' AND satisfaction <> '' AND id BETWEEN %(lo)s AND %(hi)s
UNION ALL
SELECT id, created_at + interval '6 hours', 'escalated', state, state, '', '{}'::jsonb
FROM tickets_ticket WHERE number LIKE 'W%%' AND escalation_count > 0 AND id BETWEEN %(lo)s AND %(hi)s;
"""

EXTENSIONS_SQL = """
INSERT INTO tickets_ticketrequest (ticket_id, assignment_id, kind, reason, extra_days, requested_by_id, requested_at,
    decision, decided_by_id, decided_at, decision_note)
SELECT a.ticket_id, a.id, 'extension', '需要采购材料', 2, %(user)s, a.dispatched_at + interval '1 day', 'approved', %(user)s,
    a.dispatched_at + interval '1 day', ''
FROM tickets_assignment a JOIN tickets_ticket t ON t.id = a.ticket_id
WHERE t.number LIKE 'W%%' AND a.state <> 'returned' AND a.ticket_id %% 37 = 0 AND a.ticket_id BETWEEN %(lo)s AND %(hi)s;
"""


def ensure_city():
    if not Region.objects.filter(code="329900000000").exists():
        call_command("load_demo_city", quiet=True, history_days=0)
    if not Category.objects.filter(parent__isnull=False).exists():
        from tickets.demo import load_categories

        load_categories()


def build(admin):
    have = Ticket.objects.filter(number__startswith="W").count()
    if have >= TOTAL:
        log(f"reusing {have:,} bench tickets")
        return
    now = timezone.now()
    spacing = DAYS * 86400 / TOTAL
    open_count = int(4 * 86400 / spacing)  # the last four days' tickets may still be open
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(BUILD_SQL)
        chunk = 200_000
        for start in range(have + 1, TOTAL + 1, chunk):
            stop = min(TOTAL, start + chunk - 1)
            cur.execute(TICKETS_SQL, {"now": now, "start": start, "stop": stop, "spacing": spacing, "open": open_count})
            log(f"  tickets {stop:,} ({time.perf_counter() - t0:.0f}s)")
        cur.execute("SELECT min(id), max(id) FROM tickets_ticket WHERE number LIKE 'W%%'")
        lo, hi = cur.fetchone()
        step = 250_000
        for a in range(lo, hi + 1, step):
            bounds = {"lo": a, "hi": min(hi, a + step - 1), "user": admin.pk}
            for sql in (ASSIGN_SQL, RETURNED_SQL, EVENTS_SQL, EXTENSIONS_SQL):
                cur.execute(sql, bounds)
            log(f"  assignments, timeline, requests up to ticket {bounds['hi']:,} ({time.perf_counter() - t0:.0f}s)")
        cur.execute("ANALYZE tickets_ticket; ANALYZE tickets_assignment; ANALYZE tickets_ticketevent; ANALYZE tickets_ticketrequest")
    log(f"built {TOTAL:,} tickets in {time.perf_counter() - t0:.0f}s")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def timed(client, url, runs):
    client.get(url)  # warm: connection, catalogs, plans
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return {"p50_ms": round(statistics.median(out), 1), "p95_ms": round(percentile(out, 95), 1)}


def user(username, role, region):
    u, _ = User.objects.get_or_create(username=username, defaults={"role": role, "region": region})
    return u


def session_cookie(u) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={session_for(u)[0]}"


def start(cmd, env):
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def listen(port, cookie, clients, events, ready, results):
    """In a separate process: `clients` websocket clients; report (ticket id, arrival time) of every delivery."""
    import websockets

    arrivals = []

    async def client(connected):
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/wall/", additional_headers={
                "Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}, max_size=None) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            connected.append(1)
            seen = 0
            while seen < events:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                if message.get("topic") == "ticket.created" and message["data"]["title"].startswith("大屏延迟"):
                    arrivals.append((message["data"]["id"], time.time()))
                    seen += 1

    async def run():
        connected = []
        tasks = [asyncio.create_task(client(connected)) for _ in range(clients)]
        while len(connected) < clients:
            await asyncio.sleep(0.05)
        ready.set()
        await asyncio.gather(*tasks)

    asyncio.run(run())
    results.put(arrivals)


def event_to_screen(leader, dispatcher, town) -> dict:
    """Commit → Celery kick → worker relay → Redis → Uvicorn → every client, for BENCH_CLIENTS clients."""
    env = {**os.environ, "DEBUG": "false", "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "command_center.settings.dev"}
    port = free_port()
    bin_dir = ROOT / ".venv" / "bin"
    server = start([str(bin_dir / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                    "command_center.asgi:application"], env)
    worker = start([str(bin_dir / "celery"), "-A", "command_center", "worker", "--concurrency=2", "--loglevel=WARNING",
                    "-Q", "celery", "--hostname", f"wallbench{port}@%h"], env)
    try:
        wait_for_port(port)
        time.sleep(3)  # let the worker connect to the broker
        cookie = session_cookie(leader)
        grids = list(Grid.objects.filter(community__parent=town).values_list("boundary", flat=True)[:20])
        category = Category.objects.filter(parent__isnull=False).order_by("code").first()
        committed: dict[int, float] = {}
        # the clients live in their own process so their JSON parsing never delays the commits being timed
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        ready = context.Event()
        listener = context.Process(target=listen, args=(port, cookie, CLIENTS, EVENTS, ready, results))
        listener.start()
        if not ready.wait(90):
            raise RuntimeError("websocket clients did not connect")
        for n in range(EVENTS):
            ticket = services.ticket_create(
                by=dispatcher, source="grid", category=category, title=f"大屏延迟{n}", description="",
                location=grids[n % len(grids)].point_on_surface,
            )
            committed[ticket.pk] = time.time()
            time.sleep(0.1)  # ten changes a second: a busy city's wall
        arrivals = results.get(timeout=90)
        listener.join(timeout=10)
        if len(arrivals) < EVENTS * CLIENTS:
            raise RuntimeError(f"only {len(arrivals)} of {EVENTS * CLIENTS} deliveries arrived")
        latencies = [(at - committed[pk]) * 1000 for pk, at in arrivals]
        return {"clients": CLIENTS, "events": EVENTS, "deliveries": len(latencies),
                "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 95), 1),
                "max_ms": round(max(latencies), 1)}
    finally:
        for process in (server, worker):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


def main():
    ensure_city()
    city = Region.objects.get(code="329900000000")
    district = Region.objects.get(code="329902000000")
    town = Region.objects.filter(parent=district).order_by("code").first()
    admin = User.objects.filter(is_superuser=True).first() or user("wall_bench_admin", Role.ADMIN, city)
    build(admin)
    t = time.perf_counter()
    rollup.refresh()  # the statistics' daily and monthly figures (beat keeps them current in production)
    log(f"daily figures rebuilt in {time.perf_counter() - t:.0f}s")
    leader, district_leader = user("wall_bench_leader", Role.LEADER, city), user("wall_bench_jc", Role.LEADER, district)
    dispatcher = user("wall_bench_disp", Role.DISPATCHER, town)
    client, district_client = Client(), Client()
    client.force_login(leader)
    district_client.force_login(district_leader)
    open_city = Ticket.objects.filter(state__in=["new", "open", "dispatched", "handling", "verifying", "suspended"]).count()
    log(f"{Ticket.objects.count():,} tickets, {open_city:,} open")

    load_at_start = round(os.getloadavg()[0], 1)
    snapshot_city = timed(client, "/api/dashboard/wall/snapshot/", RUNS)
    log(f"snapshot city {snapshot_city}")
    snapshot_district = timed(district_client, "/api/dashboard/wall/snapshot/", RUNS)
    log(f"snapshot district {snapshot_district}")
    today = timezone.localdate()
    year = f"/stats/?start={today - timezone.timedelta(days=364)}&end={today}"
    stats_year = timed(client, year, max(5, RUNS // 3))
    log(f"statistics one year {stats_year}")
    stats_district = timed(district_client, year, max(5, RUNS // 3))
    log(f"statistics one year, district {stats_district}")
    latency = event_to_screen(leader, dispatcher, town)
    log(f"event to screen {latency}")
    print(json.dumps({
        "tickets": Ticket.objects.count(),
        "open_tickets": open_city,
        "snapshot_city_p95_ms": snapshot_city["p95_ms"], "snapshot_city_p50_ms": snapshot_city["p50_ms"],
        "snapshot_district_p95_ms": snapshot_district["p95_ms"],
        "stats_one_year_p95_ms": stats_year["p95_ms"], "stats_one_year_p50_ms": stats_year["p50_ms"],
        "stats_one_year_district_p95_ms": stats_district["p95_ms"],
        "event_to_client_p50_ms": latency["p50_ms"], "event_to_client_p95_ms": latency["p95_ms"],
        "event_to_client_max_ms": latency["max_ms"], "ws_clients": latency["clients"], "deliveries": latency["deliveries"],
        "load_average_1m_at_start": load_at_start,  # the machine is shared: figures under load are slower
    }))


if __name__ == "__main__":
    main()
