"""Outbox relay throughput: events written in their own transactions, then relayed to Redis groups.

Prints {"outbox_write_per_s": …, "relay_events_per_s": …, "events": …} as its last line.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_center.settings.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from org.models import Region  # noqa: E402
from realtime import services  # noqa: E402
from realtime.models import OutboxEvent  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))


def main():
    if not Region.objects.filter(code="329900000000").exists():
        call_command("load_demo_city", quiet=True, history_days=0)
    community = Region.objects.filter(level=Region.Level.COMMUNITY).order_by("code").first()
    services.relay_pending(batch=1_000_000)  # start from an empty queue
    start = time.perf_counter()
    # Kicking a worker per write is what production does; here the relay is timed on its own.
    for n in range(EVENTS):
        with transaction.atomic():
            OutboxEvent.objects.create(
                topic="bench.event", data={"n": n}, groups=services.groups_for(region=community)
            )
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    sent = 0
    while True:
        batch = services.relay_pending(batch=1000)
        if not batch:
            break
        sent += batch
    relay_s = time.perf_counter() - start
    OutboxEvent.objects.filter(topic="bench.event").delete()
    print(json.dumps({
        "events": EVENTS,
        "groups_per_event": len(services.groups_for(region=community)),
        "outbox_write_per_s": round(EVENTS / write_s),
        "relay_events_per_s": round(sent / relay_s) if relay_s else None,
    }))


if __name__ == "__main__":
    main()
