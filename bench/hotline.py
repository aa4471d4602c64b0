"""12345 hotline under storm load: 100,000 open tickets from the last 30 days, then two figures.

1. Duplicate-candidate search (same category, open, within 300 m, last 30 days, jieba + rapidfuzz scoring,
   plus the caller's own open tickets): p50/p95/max over BENCH_QUERIES searches in process (goal p95 < 30 ms).
   Tickets cluster around every grid's station (~200 within 400 m, ten categories), so a search meets
   a realistic crowd of neighbours.
2. Sustained intake through the API with duplicate detection on: BENCH_CLIENTS keep-alive clients against
   BENCH_SERVERS Uvicorn processes; each contact is what the console does — GET /api/hotline/duplicates/,
   then POST /api/hotline/contacts/ (linked to the top candidate when it is a strong duplicate, else a new
   ticket) with an Idempotency-Key. Then the same through Open311: one form POST per request, which looks
   for a strong duplicate itself. Contacts/s over BENCH_INTAKE contacts each (goal ≥ 50/s). For scale, the
   console flow is also timed in process (the whole Django stack without HTTP and server threads).

Data is built in DATABASE_URL (use your own database) with INSERT … SELECT generate_series; running again
reuses it. Prints one JSON object as the last line.
"""

import http.client
import json
import os
import random
import secrets
import socket
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_center.settings.dev")

import django  # noqa: E402

django.setup()

from django.contrib.gis.geos import Point  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from org.models import Region, Role, User  # noqa: E402
from grid.models import Grid  # noqa: E402
from hotline import selectors  # noqa: E402
from tickets.models import Category, Ticket  # noqa: E402

from bench._common import CPUMeter, floor_request, log, machine, session_for, start_servers  # noqa: E402

OPEN = int(os.environ.get("BENCH_OPEN_TICKETS", "100000"))
QUERIES = int(os.environ.get("BENCH_QUERIES", "2000"))
INTAKE = int(os.environ.get("BENCH_INTAKE", "2000"))
SERVERS = int(os.environ.get("BENCH_SERVERS", "2"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
CODES = ["2101", "2102", "2201", "2202", "1101", "1501", "0201", "0203", "1301", "1302"]
PHRASES = {
    "2101": ["小区停水一整天了没有通知", "自来水发黄有异味", "楼上水压太低洗不了澡"],
    "2102": ["整栋楼停电好几个小时", "电压不稳家电烧坏", "小区变压器噪声很大"],
    "2201": ["工地晚上十一点后还在打桩噪音扰民", "广场舞音响太吵影响休息", "酒吧夜里音乐声音太大"],
    "2202": ["楼下饭店油烟直排熏得没法开窗", "烧烤摊油烟很大", "餐馆排烟管对着住宅"],
    "1101": ["路边垃圾堆了好几天没人清理", "垃圾桶满溢臭味很大", "小区门口暴露垃圾"],
    "1501": ["早市摊贩占道经营堵住人行道", "水果摊占用盲道", "夜市占道影响通行"],
    "0201": ["路灯晚上不亮一片漆黑", "好几盏路灯坏了", "路灯白天亮晚上不亮"],
    "0203": ["路面塌陷出现大坑很危险", "道路坑洼积水", "井盖旁边路面下沉"],
    "1301": ["施工工地夜间作业扰民", "工地渣土车噪音", "建筑工地凌晨施工"],
    "1302": ["施工围挡占用机动车道", "工地材料堆在人行道", "施工占道没有警示"],
}


def ensure_city():
    if not Region.objects.filter(code="329900000000").exists():
        call_command("load_demo_city", quiet=True, history_days=0)


BUILD_SQL = """
CREATE TEMP TABLE bench_grid AS
SELECT (row_number() OVER (ORDER BY g.id)) - 1 AS n, g.id AS grid_id, g.station, c.id AS community_id, c.path,
       t.id AS town_id, t.parent_id AS district_id, substr(t.code, 1, 6) AS district6
FROM grid_grid g JOIN org_region c ON c.id = g.community_id JOIN org_region t ON t.id = c.parent_id;
CREATE TEMP TABLE bench_cat AS
SELECT (row_number() OVER (ORDER BY code)) - 1 AS n, id, name FROM tickets_category WHERE code = ANY(%(codes)s);
CREATE TEMP TABLE bench_phrase (cat_n int, k int, phrase text);
"""

INSERT_SQL = """
INSERT INTO tickets_ticket (number, source, category_id, title, description, location, address, grid_id, community_id,
    town_id, district_id, region_path, center_id, level, citizen_name, citizen_phone, urgent, state,
    state_before_suspension, version, occurred_at, created_at, dispatched_at, due_at, light, closed_at, rework_count,
    urge_count, escalation_count, satisfaction, caller_count)
SELECT 'HB' || g.district6 || lpad(i::text, 9, '0'), 'hotline', c.id, p.phrase, '市民来电：' || p.phrase,
    ST_Translate(g.station, ((i * 7919) %% 800 - 400) * 0.00001, ((i * 104729) %% 800 - 400) * 0.00001),
    '测试路' || (i %% 500) || '号', g.grid_id, g.community_id, g.town_id, g.district_id, g.path, g.town_id, 3, '', '', false,
    CASE WHEN i %% 2 = 0 THEN 'dispatched' ELSE 'handling' END, '', 3,
    %(now)s - ((i * 31 %% 43000) || ' minutes')::interval, %(now)s - ((i * 31 %% 43000) || ' minutes')::interval,
    %(now)s - ((i * 31 %% 43000) || ' minutes')::interval, %(now)s + interval '5 days', 'green', NULL, 0, 0, 0, '', 1
FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i
JOIN bench_grid g ON g.n = i %% (SELECT count(*) FROM bench_grid)
JOIN bench_cat c ON c.n = (i / 7) %% (SELECT count(*) FROM bench_cat)
JOIN bench_phrase p ON p.cat_n = c.n AND p.k = i %% 3;
"""


def build():
    have = Ticket.objects.filter(number__startswith="HB").count()
    if have >= OPEN:
        log(f"reusing {have:,} bench tickets")
        return
    now = timezone.now()
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_grid, bench_cat, bench_phrase")
        cur.execute(BUILD_SQL, {"codes": CODES})
        cur.execute("SELECT n, (SELECT code FROM tickets_category WHERE id = bench_cat.id) FROM bench_cat")
        for n, code in cur.fetchall():
            for k, phrase in enumerate(PHRASES[code]):
                cur.execute("INSERT INTO bench_phrase VALUES (%s, %s, %s)", [n, k, phrase])
        start, chunk = have + 1, 50_000
        while start <= OPEN:
            stop = min(OPEN, start + chunk - 1)
            cur.execute(INSERT_SQL, {"now": now, "start": start, "stop": stop})
            log(f"  tickets {stop:,} ({time.perf_counter() - t0:.0f}s)")
            start = stop + 1
        cur.execute("ANALYZE tickets_ticket")
    log(f"built {OPEN:,} open tickets in {time.perf_counter() - t0:.0f}s")


def agent_user():
    city = Region.objects.get(code="329900000000")
    user, _ = User.objects.get_or_create(username="bench_agent", defaults={"role": Role.HOTLINE_AGENT, "region": city})
    return user


def search_figures(agent) -> dict:
    categories = {c.code: c for c in Category.objects.filter(code__in=CODES)}
    stations = list(Grid.objects.values_list("station", flat=True))
    rng = random.Random(7)
    # warm the segmenter and the connection
    selectors.duplicate_candidates(agent, content="预热", location=stations[0], category=categories["2201"])
    times, found = [], []
    for _ in range(QUERIES):
        code = rng.choice(CODES)
        s = rng.choice(stations)
        point = Point(s.x + rng.uniform(-0.003, 0.003), s.y + rng.uniform(-0.003, 0.003), srid=4326)
        text = rng.choice(PHRASES[code]) + "，希望尽快处理"
        t0 = time.perf_counter()
        result = selectors.duplicate_candidates(agent, content=text, location=point, category=categories[code],
                                                caller_phone=f"139{rng.randrange(10**8):08d}")
        times.append((time.perf_counter() - t0) * 1000)
        found.append(len(result))
    times.sort()
    with connection.cursor() as cur:
        s = stations[0]
        cur.execute(
            "EXPLAIN ANALYZE SELECT id FROM tickets_ticket WHERE category_id = %s AND state IN ('new','open','dispatched','handling',"
            "'verifying','suspended') AND created_at >= now() - interval '30 days' AND ST_DWithin(location, ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.0032)",
            [categories["2201"].id, s.x, s.y],
        )
        plan = [row[0] for row in cur.fetchall()]
    log("\n".join(plan))
    return {
        "duplicate_search_queries": QUERIES,
        "duplicate_search_p50_ms": round(statistics.median(times), 2),
        "duplicate_search_p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "duplicate_search_max_ms": round(times[-1], 2),
        "candidates_per_search_mean": round(statistics.mean(found), 2),
        "candidates_in_radius_sample_plan_uses_index": any("Index" in line for line in plan),
    }


def connect(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    # without it Nagle's algorithm and delayed ACKs hold each keep-alive request back ~40 ms
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def drive(servers, name: str, one) -> dict:
    """BENCH_CLIENTS threads share BENCH_INTAKE contacts; `one(conn, i, rng)` sends one and returns its outcome."""
    outcomes, latencies, errors = [], [], []
    lock = threading.Lock()
    counter = iter(range(INTAKE))

    def client(k):
        port = servers[k % len(servers)][1]
        conn = connect(port)
        rng = random.Random(k)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            t0 = time.perf_counter()
            try:
                outcome = one(conn, i, rng)
            except Exception as exc:  # noqa: BLE001 - a bench counts failures instead of stopping
                outcome = repr(exc)
                conn.close()
                conn = connect(port)
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                outcomes.append(outcome)
                if outcome not in ("linked", "new_ticket") and len(errors) < 3:
                    errors.append(outcome[:200])
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    with CPUMeter(servers) as meter:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    ok = outcomes.count("linked") + outcomes.count("new_ticket")
    return {
        f"{name}_contacts": INTAKE,
        f"{name}_failed": INTAKE - ok,
        f"{name}_cpu_per_contact": meter.per(INTAKE),
        f"{name}_linked": outcomes.count("linked"),
        f"{name}_new_tickets": outcomes.count("new_ticket"),
        f"{name}_contacts_per_s": round(ok / elapsed, 1),
        f"{name}_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1) if latencies else None,
        f"{name}_errors_sample": errors,
    }


def sample(i, rng, stations):
    code = CODES[i % len(CODES)]
    s = stations[(i * 37) % len(stations)]
    lon, lat = s.x + rng.uniform(-0.002, 0.002), s.y + rng.uniform(-0.002, 0.002)
    return code, lon, lat, rng.choice(PHRASES[code]) + f"（来电{i}）", f"138{(i * 7919) % 10**8:08d}"


def intake_figures(agent) -> dict:
    """Two intakes over HTTP: the console's API (duplicates, then the contact) and Open311 (one POST that
    looks for a strong duplicate itself)."""
    from hotline.models import Open311Client, Open311Service

    sid, csrf = session_for(agent)
    headers = {"Cookie": f"sessionid={sid}; csrftoken={csrf}", "X-CSRFToken": csrf, "Host": "127.0.0.1"}
    categories = {c.code: c.pk for c in Category.objects.filter(code__in=CODES)}
    services = dict(Open311Service.objects.filter(category__code__in=CODES).values_list("category__code", "code"))
    client = Open311Client(name=f"bench {secrets.token_hex(3)}")
    api_key = client.set_new_key()
    client.save()
    stations = list(Grid.objects.values_list("station", flat=True))
    run = secrets.token_hex(4)

    def console(conn, i, rng):
        code, lon, lat, text, phone = sample(i, rng, stations)
        q = urllib.parse.urlencode({"content": text, "category": categories[code], "lon": lon, "lat": lat, "phone": phone})
        conn.request("GET", f"/api/hotline/duplicates/?{q}", headers=headers)
        r = conn.getresponse()
        content = r.read()
        if r.status != 200:
            return f"http {r.status} {content[:120]!r}"
        dups = json.loads(content)["results"]
        body = {"channel": "phone", "type": "complaint", "content": text, "caller_phone": phone, "caller_name": "测试",
                "lon": lon, "lat": lat, "category": categories[code], "address": "测试路1号"}
        if dups and dups[0]["score"] >= selectors.STRONG_DUPLICATE_SCORE:
            body |= {"outcome": "linked", "link_to": dups[0]["id"]}
        else:
            body |= {"outcome": "new_ticket"}
        conn.request("POST", "/api/hotline/contacts/", body=json.dumps(body).encode(),
                     headers=headers | {"Content-Type": "application/json", "Idempotency-Key": f"bench-{run}-{i}"})
        r = conn.getresponse()
        content = r.read()
        return body["outcome"] if r.status == 201 else f"http {r.status} {content[:120]!r}"

    def open311(conn, i, rng):
        code, lon, lat, text, phone = sample(i, rng, stations)
        if code not in services:
            code = "2201"
        form = {"api_key": api_key, "service_code": services[code], "lat": lat, "long": lon, "description": text, "phone": phone}
        if services[code] == "noise":
            form["attribute[source]"] = "construction"
        conn.request("POST", "/open311/v2/requests.json", body=urllib.parse.urlencode(form).encode(),
                     headers={"Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded",
                              "Idempotency-Key": f"bench311-{run}-{i}"})
        r = conn.getresponse()
        content = r.read()
        if r.status != 201:
            return f"http {r.status} {content[:120]!r}"
        return "linked" if "已关联" in json.loads(content)[0]["service_notice"] else "new_ticket"

    servers = start_servers(SERVERS)
    try:
        for _, port in servers:  # warm every server up (imports, first connection, jieba's dictionary)
            warm = connect(port)
            q = urllib.parse.urlencode({"content": "预热", "category": categories["2201"], "lon": stations[0].x, "lat": stations[0].y})
            warm.request("GET", f"/api/hotline/duplicates/?{q}", headers=headers)
            warm.getresponse().read()
            warm.close()
        figures = drive(servers, "intake_console", console)
        log(f"console intake {figures['intake_console_contacts_per_s']} contacts/s")
        figures |= drive(servers, "intake_open311", open311)
        log(f"Open311 intake {figures['intake_open311_contacts_per_s']} contacts/s")
        figures["floor_request_cpu"] = floor_request(servers, headers, clients=CLIENTS)
    finally:
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            proc.wait(timeout=10)
    return figures | {"intake_server": "uvicorn", "intake_servers": SERVERS, "intake_clients": CLIENTS}


def inprocess_figures(agent) -> dict:
    """The console flow through the whole Django stack in this process, without HTTP or server threads."""
    from django.test import Client
    from django.test.utils import override_settings

    categories = {c.code: c.pk for c in Category.objects.filter(code__in=CODES)}
    stations = list(Grid.objects.values_list("station", flat=True))
    client = Client()
    client.force_login(agent)
    rng = random.Random(11)
    n = min(INTAKE, 500)
    run = secrets.token_hex(4)
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        t0, cpu0 = time.perf_counter(), time.process_time()
        for i in range(n):
            code, lon, lat, text, phone = sample(i, rng, stations)
            dups = client.get("/api/hotline/duplicates/", {"content": text, "category": categories[code], "lon": lon, "lat": lat,
                                                           "phone": phone}).json()["results"]
            body = {"channel": "phone", "type": "complaint", "content": text, "caller_phone": phone, "lon": lon, "lat": lat,
                    "category": categories[code]}
            strong = dups and dups[0]["score"] >= selectors.STRONG_DUPLICATE_SCORE
            body |= {"outcome": "linked", "link_to": dups[0]["id"]} if strong else {"outcome": "new_ticket"}
            client.post("/api/hotline/contacts/", json.dumps(body), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=f"benchip-{run}-{i}")
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"inprocess_console_contacts": n, "inprocess_console_contacts_per_s": round(n / wall, 1),
            "inprocess_console_contacts_per_cpu_s": round(n / cpu, 1)}


def main():
    ensure_city()
    build()
    if os.environ.get("BENCH_BUILD_ONLY"):
        return
    agent = agent_user()
    figures = {"machine": machine(), "open_tickets": Ticket.objects.filter(state__in=["dispatched", "handling"]).count()}
    figures |= search_figures(agent)
    log(f"duplicate search p95 {figures['duplicate_search_p95_ms']} ms")
    figures |= inprocess_figures(agent)
    log(f"in process {figures['inprocess_console_contacts_per_s']} contacts/s")
    figures |= intake_figures(agent)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
