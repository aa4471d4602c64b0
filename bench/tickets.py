"""Tickets at city scale: 1,000,000 tickets (100,000 open) in the demo city, then four figures.

1. API intake: POST /api/tickets/tickets/ over real HTTP to Uvicorn (BENCH_SERVERS processes, default 2 = cores),
   BENCH_CLIENTS concurrent keep-alive clients, each request with an Idempotency-Key; tickets/s.
2. Department inbox: p50/p95 of GET /dept/ (the HTML page) and /api/tickets/assignments/ for a street's
   enforcement team holding ~83,000 shares (~8,000 open).
3. A deadline scan that escalates 5,000 overdue shares (urge already done, grace passed).
4. A scan with nothing due (index only), with its EXPLAIN.

Data is built in DATABASE_URL (use your own database) with INSERT … SELECT generate_series; running again
reuses it. BENCH_TICKETS changes the size. Prints one JSON object as the last line.
"""

import http.client
import json
import os
import secrets
import socket
import statistics
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

from org.models import Department, Region, Role, User  # noqa: E402
from grid.models import Grid  # noqa: E402
from tickets import deadlines  # noqa: E402
from tickets.models import Assignment, Category, Ticket  # noqa: E402

from bench._common import CPUMeter, floor_request, log, machine, session_for, start_servers  # noqa: E402

TOTAL = int(os.environ.get("BENCH_TICKETS", "1000000"))
OPEN_EVERY = 10  # one ticket in ten is open: 100,000 of 1,000,000
INTAKE = int(os.environ.get("BENCH_INTAKE", "3000"))
SERVERS = int(os.environ.get("BENCH_SERVERS", "2"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
ESCALATE = 5000


def ensure_city():
    if not Region.objects.filter(code="329900000000").exists():
        call_command("load_demo_city", quiet=True, history_days=0)
    if not Category.objects.filter(parent__isnull=False).exists():
        from tickets.demo import load_categories

        load_categories()


BUILD_SQL = """
CREATE TEMP TABLE bench_grid AS
SELECT (row_number() OVER (ORDER BY g.id)) - 1 AS n, g.id AS grid_id, g.station, c.id AS community_id, c.path,
       t.id AS town_id, t.parent_id AS district_id, substr(t.code, 1, 9) AS town9, substr(t.code, 1, 6) AS district6
FROM grid_grid g JOIN org_region c ON c.id = g.community_id JOIN org_region t ON t.id = c.parent_id;
CREATE TEMP TABLE bench_cat AS
SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, id FROM tickets_category WHERE parent_id IS NOT NULL AND kind = 'event';
CREATE TEMP TABLE bench_dept AS
SELECT d.id, substr(d.code, 1, 9) AS town9 FROM org_department d WHERE d.code LIKE '%%-ZF';

INSERT INTO tickets_ticket (number, source, category_id, title, description, location, address, grid_id, community_id,
    town_id, district_id, region_path, center_id, level, citizen_name, citizen_phone, urgent, state,
    state_before_suspension, version, occurred_at, created_at, dispatched_at, due_at, light, closed_at, rework_count,
    urge_count, escalation_count, satisfaction, caller_count)
SELECT 'B' || g.district6 || lpad(i::text, 10, '0'), CASE WHEN i %% 3 = 0 THEN 'hotline' ELSE 'grid' END, c.id,
    '批量工单 ' || i, '基准测试数据', ST_Translate(g.station, ((i * 7919) %% 200 - 100) * 0.00002, ((i * 104729) %% 200 - 100) * 0.00002),
    '测试路' || (i %% 500) || '号', g.grid_id, g.community_id, g.town_id, g.district_id, g.path, g.town_id, 3,
    '', '', i %% 97 = 0,
    CASE WHEN i %% %(open_every)s = 0 THEN (CASE WHEN i %% 20 = 0 THEN 'dispatched' ELSE 'handling' END) ELSE 'closed' END,
    '', 4, %(now)s - (i || ' minutes')::interval, %(now)s - (i || ' minutes')::interval,
    %(now)s - (i || ' minutes')::interval,
    CASE WHEN i %% %(open_every)s = 0 THEN %(now)s + ((i %% 7200) || ' minutes')::interval ELSE NULL END,
    'green',
    CASE WHEN i %% %(open_every)s = 0 THEN NULL ELSE %(now)s - ((i - 1) || ' minutes')::interval END, 0, 0, 0, '', 1
FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i
JOIN bench_grid g ON g.n = i %% (SELECT count(*) FROM bench_grid)
JOIN bench_cat c ON c.n = i %% (SELECT count(*) FROM bench_cat);
"""

ASSIGN_SQL = """
INSERT INTO tickets_assignment (ticket_id, department_id, role, state, dispatched_at, sign_due_at, sign_unit, signed_at,
    handle_due_at, handle_unit, warn_at, next_scan_at, light, reply, return_reason, replied_at)
SELECT t.id, d.id, 'lead',
    CASE t.state WHEN 'closed' THEN 'replied' WHEN 'dispatched' THEN 'dispatched' ELSE 'signed' END,
    t.dispatched_at, t.dispatched_at + interval '2 hours', 'working_hours',
    CASE WHEN t.state = 'dispatched' THEN NULL ELSE t.dispatched_at + interval '30 minutes' END,
    COALESCE(t.due_at, t.dispatched_at + interval '1 day'), 'working_days',
    COALESCE(t.due_at, t.dispatched_at + interval '1 day') - interval '2 hours',
    CASE WHEN t.state = 'closed' THEN NULL ELSE COALESCE(t.due_at, t.dispatched_at) - interval '2 hours' + interval '3 days' END,
    'green', CASE WHEN t.state = 'closed' THEN '已处理' ELSE '' END, '',
    CASE WHEN t.state = 'closed' THEN t.closed_at END
FROM tickets_ticket t JOIN org_region town ON town.id = t.town_id JOIN bench_dept d ON d.town9 = substr(town.code, 1, 9)
WHERE t.number LIKE 'B%%' AND t.id BETWEEN %(lo)s AND %(hi)s;
"""


def build():
    have = Ticket.objects.filter(number__startswith="B").count()
    if have >= TOTAL:
        log(f"reusing {have:,} bench tickets")
        return
    now = timezone.now()
    t0 = time.perf_counter()
    chunk = 200_000
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_grid, bench_cat, bench_dept")
        start = have + 1
        first_sql, rest = BUILD_SQL.split("INSERT INTO", 1)
        cur.execute(first_sql % {})
        while start <= TOTAL:
            stop = min(TOTAL, start + chunk - 1)
            sql = ("INSERT INTO" + rest).replace("%(open_every)s", str(OPEN_EVERY))
            cur.execute(sql, {"now": now, "start": start, "stop": stop})
            log(f"  tickets {stop:,} ({time.perf_counter() - t0:.0f}s)")
            start = stop + 1
        cur.execute("SELECT min(id), max(id) FROM tickets_ticket WHERE number LIKE 'B%%'")
        lo, hi = cur.fetchone()
        cur.execute("SELECT coalesce(max(ticket_id), 0) FROM tickets_assignment")
        done = cur.fetchone()[0]
        step = 250_000
        for a in range(max(lo, done + 1), hi + 1, step):
            cur.execute(ASSIGN_SQL, {"lo": a, "hi": min(hi, a + step - 1)})
            log(f"  assignments up to ticket {min(hi, a + step - 1):,} ({time.perf_counter() - t0:.0f}s)")
        cur.execute("INSERT INTO tickets_ticketevent (ticket_id, at, action, from_state, to_state, note, data) "
                    "SELECT id, created_at, 'created', '', 'new', '', '{}'::jsonb FROM tickets_ticket WHERE number LIKE 'B%%' "
                    "AND NOT EXISTS (SELECT 1 FROM tickets_ticketevent e WHERE e.ticket_id = tickets_ticket.id)")
    # what autovacuum does on a live database: statistics and the visibility map (index-only counts)
    connection.ensure_connection()
    with connection.cursor() as cur:
        for table in ("tickets_ticket", "tickets_assignment", "tickets_ticketevent"):
            cur.execute(f"VACUUM ANALYZE {table}")
    log(f"built {TOTAL:,} tickets in {time.perf_counter() - t0:.0f}s")


def intake(servers, user) -> dict:
    sid, csrf = session_for(user)
    headers = {"Cookie": f"sessionid={sid}; csrftoken={csrf}", "X-CSRFToken": csrf, "Content-Type": "application/json",
               "Host": "127.0.0.1"}
    grids = list(Grid.objects.values_list("station", flat=True)[:400])
    codes = list(Category.objects.filter(parent__isnull=False, kind="event").values_list("code", flat=True))
    run = secrets.token_hex(4)
    statuses, latencies, errors = [], [], []
    lock = threading.Lock()
    counter = iter(range(INTAKE))

    def body(i):
        p = grids[i % len(grids)]
        return json.dumps({"source": "hotline", "category": codes[i % len(codes)], "title": f"基准受理 {i}",
                           "description": "市民来电反映问题", "lon": p.x + 0.00001, "lat": p.y + 0.00001,
                           "citizen_name": "测试", "citizen_phone": "13800000000"}).encode()

    def client(port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in counter:
            t = time.perf_counter()
            conn.request("POST", "/api/tickets/tickets/", body=body(i), headers={**headers, "Idempotency-Key": f"{run}-{i}"})
            r = conn.getresponse()
            content = r.read()
            with lock:
                statuses.append(r.status)
                if r.status != 201 and len(errors) < 3:
                    errors.append((r.status, content[:300]))
                latencies.append(time.perf_counter() - t)
        conn.close()

    # warm up every server (imports, first connections)
    for _, port in servers:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("POST", "/api/tickets/tickets/", body=body(0), headers={**headers, "Idempotency-Key": f"{run}-warm-{port}"})
        c.getresponse().read()
    threads = [threading.Thread(target=client, args=(servers[i % len(servers)][1],)) for i in range(CLIENTS)]
    t0 = time.perf_counter()
    with CPUMeter(servers) as meter:
        [t.start() for t in threads]
        [t.join() for t in threads]
    elapsed = time.perf_counter() - t0
    # a retry with a used key creates nothing
    before = Ticket.objects.count()
    c = http.client.HTTPConnection("127.0.0.1", servers[0][1], timeout=60)
    c.request("POST", "/api/tickets/tickets/", body=body(1), headers={**headers, "Idempotency-Key": f"{run}-1"})
    replay_status = c.getresponse().status
    latencies.sort()
    return {
        "requests": len(statuses), "created": statuses.count(201), "errors": len(statuses) - statuses.count(201),
        "seconds": round(elapsed, 2), "tickets_per_s": round(statuses.count(201) / elapsed, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "error_samples": [f"{code} {body.decode(errors='replace')}" for code, body in errors],
        "retry_status": replay_status, "retry_created": Ticket.objects.count() - before,
        "cpu_per_ticket": meter.per(len(statuses)), "floor_request_cpu": floor_request(servers, headers, clients=CLIENTS),
        "servers": f"uvicorn × {len(servers)}", "clients": CLIENTS,
    }


def intake_in_process(user, n=1000) -> dict:
    """The same POST through the whole Django stack (middleware, session, DRF, service) in this process:
    what one worker does per request once HTTP and connection set-up are taken away."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    grids = list(Grid.objects.values_list("station", flat=True)[:400])
    codes = list(Category.objects.filter(parent__isnull=False, kind="event").values_list("code", flat=True))
    run = secrets.token_hex(4)
    created = 0
    t0 = time.perf_counter()
    for i in range(n):
        p = grids[i % len(grids)]
        r = client.post("/api/tickets/tickets/", {"source": "hotline", "category": codes[i % len(codes)], "title": f"进程内受理 {i}",
                        "description": "", "lon": p.x + 0.00001, "lat": p.y + 0.00001}, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=f"inproc-{run}-{i}")
        created += r.status_code == 201
    elapsed = time.perf_counter() - t0
    return {"requests": n, "created": created, "seconds": round(elapsed, 2), "tickets_per_s": round(created / elapsed, 1),
            "ms_per_request": round(elapsed / n * 1000, 2)}


def inbox(servers, user) -> dict:
    sid, csrf = session_for(user)
    headers = {"Cookie": f"sessionid={sid}", "Host": "127.0.0.1"}
    out = {}
    for name, path in (("page", "/dept/"), ("api", "/api/tickets/assignments/?state=signed"), ("page_red", "/dept/?light=red")):
        conn = http.client.HTTPConnection("127.0.0.1", servers[0][1], timeout=60)
        times = []
        for i in range(120):
            t = time.perf_counter()
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit(f"{path}: HTTP {r.status}")
            if i >= 20:
                times.append(time.perf_counter() - t)
        times.sort()
        out[name] = {"p50_ms": round(statistics.median(times) * 1000, 1), "p95_ms": round(times[int(len(times) * 0.95)] * 1000, 1)}
    with connection.cursor() as cur:  # the API's state tab: its own index, not a walk down the primary key
        qs = Assignment.objects.filter(department=user.department, state="signed").order_by("-id").values("id")[:50]
        sql, params = qs.query.sql_with_params()
        cur.execute("EXPLAIN " + sql, params)
        out["api_plan_uses_index"] = "tickets_assignment_dept_state" in "\n".join(r[0] for r in cur.fetchall())
    out["open_shares"] = Assignment.objects.filter(department=user.department, state__in=Assignment.ACTIVE).count()
    out["all_shares"] = Assignment.objects.filter(department=user.department).count()
    return out


def escalation_scan() -> dict:
    kind = next(k for k in deadlines.kinds() if k.name == "tickets.assignment")
    now = timezone.now()
    ids = list(Assignment.objects.filter(state="signed", ticket__number__startswith="B", escalated_at__isnull=True)
               .order_by("id").values_list("id", flat=True)[:ESCALATE])
    past = now - timedelta(days=3)
    Assignment.objects.filter(id__in=ids).update(
        warn_at=past - timedelta(hours=2), handle_due_at=past, sign_due_at=past - timedelta(days=1), light="red",
        urged_at=past, next_scan_at=now - timedelta(minutes=1),
    )
    t0 = time.perf_counter()
    result = deadlines.scan_kind(kind, now=now)
    elapsed = time.perf_counter() - t0
    escalated = Ticket.objects.filter(assignments__id__in=ids, escalation_count__gte=1).count()
    return {"due": len(ids), "handled": result.handled, "failed": len(result.failed), "escalated": escalated,
            "seconds": round(elapsed, 2)}


def idle_scan() -> dict:
    kind = next(k for k in deadlines.kinds() if k.name == "tickets.assignment")
    now = timezone.now()
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        result = deadlines.scan_kind(kind, now=now)
        times.append(time.perf_counter() - t0)
    with connection.cursor() as cur:
        sql, params = kind.queryset().filter(next_scan_at__lte=now).order_by("next_scan_at").values("id")[:200].query.sql_with_params()
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    return {"handled": result.handled, "ms_median": round(statistics.median(times) * 1000, 2), "ms_max": round(max(times) * 1000, 2),
            "uses_index": "tickets_assignment_scan" in plan and "Seq Scan" not in plan}


def main():
    if "cc_tickets" not in settings.DATABASES["default"]["NAME"] and not os.environ.get("BENCH_ANY_DB"):
        log(f"warning: building bench data in {settings.DATABASES['default']['NAME']}")
    ensure_city()
    build()
    if os.environ.get("BENCH_BUILD_ONLY"):
        return
    street = Region.objects.get(name="望江街道")
    zf = Department.objects.get(code=f"{street.code[:9]}-ZF")
    staff, _ = User.objects.get_or_create(username="bench_zf", defaults={"role": Role.DEPARTMENT_STAFF, "department": zf})
    agent, _ = User.objects.get_or_create(username="bench_agent", defaults={"role": Role.HOTLINE_AGENT, "region": Region.objects.get(level=1)})
    servers = start_servers(SERVERS, log_name="bench-tickets")
    try:
        log("intake …")
        intake_figures = intake(servers, agent)
        log(json.dumps(intake_figures, ensure_ascii=False))
        log("inbox …")
        inbox_figures = inbox(servers, staff)
        log(json.dumps(inbox_figures, ensure_ascii=False))
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=20)
    log("intake in process …")
    in_process = intake_in_process(agent)
    log(json.dumps(in_process))
    log("scans …")
    idle = idle_scan()
    escalation = escalation_scan()
    print(json.dumps({
        "machine": machine(),
        "tickets": Ticket.objects.count(),
        "open_tickets": Ticket.objects.filter(state__in=["new", "open", "dispatched", "handling", "verifying", "suspended"]).count(),
        "intake": intake_figures,
        "intake_in_process": in_process,
        "load_average": os.getloadavg()[0],
        "dept_inbox": inbox_figures,
        "scan_escalate_5000": escalation,
        "scan_nothing_due": idle,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
