"""Point → grid lookups over 5,000+ grids (the demo city at --scale 11: 5,280 grids).

Builds the regions and grids of the demo city lattice in the database named by DATABASE_URL (idempotent,
no app demo data), then measures
  * single point lookups per second in one process: `grid.selectors.grid_at(point)` (ORM, covers, lowest code);
  * the time to assign 100,000 points to grids with `grid.selectors.grid_ids_for_points` (one SQL statement).
Prints one JSON object as its last line. BENCH_POINTS / BENCH_LOOKUPS change the sizes.
"""

import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_center.settings.dev")

import django  # noqa: E402

django.setup()

from django.contrib.gis.geos import Point  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from org import demo_city as dc  # noqa: E402
from org.management.commands.load_demo_city import Command as LoadDemoCity  # noqa: E402
from grid.models import Grid  # noqa: E402
from grid.selectors import grid_at, grid_ids_for_points  # noqa: E402

SCALE = 11  # 480 × 11 = 5,280 grids
POINTS = int(os.environ.get("BENCH_POINTS", "100000"))
LOOKUPS = int(os.environ.get("BENCH_LOOKUPS", "5000"))


def build() -> int:
    call_command("migrate", verbosity=0)
    with transaction.atomic():
        LoadDemoCity()._build(dc.lattice_for_scale(SCALE))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE grid_grid")
    return Grid.objects.count()


def random_points(n: int, seed: int) -> list[tuple[float, float]]:
    """Uniform over the city's bounding box plus a 2% margin, so a few fall outside every grid."""
    rng = random.Random(seed)
    mx, my = dc.WIDTH * 0.02, dc.HEIGHT * 0.02
    return [
        (rng.uniform(dc.LON0 - mx, dc.LON0 + dc.WIDTH + mx), rng.uniform(dc.LAT0 - my, dc.LAT0 + dc.HEIGHT + my))
        for _ in range(n)
    ]


def main() -> None:
    grids = build()
    print(f"{grids} grids ready", file=sys.stderr)

    points = [Point(x, y, srid=4326) for x, y in random_points(LOOKUPS, 1)]
    for p in points[:200]:  # warm the connection and the index pages
        grid_at(p)
    started = time.perf_counter()
    found = sum(1 for p in points if grid_at(p) is not None)
    single = time.perf_counter() - started

    coords = random_points(POINTS, 2)
    grid_ids_for_points(coords[:1000])
    started = time.perf_counter()
    ids = grid_ids_for_points(coords)
    bulk = time.perf_counter() - started
    assert len(ids) == POINTS
    # Same answers as the single lookup (boundary rule included) on a sample.
    for (x, y), grid_id in list(zip(coords, ids))[:: max(1, POINTS // 500)]:
        grid = grid_at(Point(x, y, srid=4326))
        assert grid_id == (grid.pk if grid else None)

    print(json.dumps({
        "grids": grids,
        "single_lookups": LOOKUPS,
        "single_lookups_per_s": round(LOOKUPS / single),
        "single_lookup_ms": round(single / LOOKUPS * 1000, 3),
        "single_found_share": round(found / LOOKUPS, 3),
        "bulk_points": POINTS,
        "bulk_assign_s": round(bulk, 3),
        "bulk_points_per_s": round(POINTS / bulk),
        "bulk_outside_every_grid": sum(1 for i in ids if i is None),
    }))


if __name__ == "__main__":
    main()
