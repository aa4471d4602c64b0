"""Import grids from a GeoJSON FeatureCollection: a dry run unless --commit."""

import json

from django.core.management.base import BaseCommand, CommandError

from grid.services import GridImportError, grids_import


class Command(BaseCommand):
    help = (
        "Import grids from GeoJSON. Each feature: a Polygon/MultiPolygon in WGS 84 and properties code (15 digits), "
        "name, kind (comprehensive|dedicated|综合网格|专属网格), households, population, station [lon, lat]. "
        "Nothing is written unless --commit, and nothing at all if any feature is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="GeoJSON file")
        parser.add_argument("--commit", action="store_true", help="write the grids (default: dry run)")

    def handle(self, *args, path, commit, **options):
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        try:
            result = grids_import(geojson=data, commit=commit)
        except GridImportError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(f"{len(exc.messages)} problem(s); nothing was written") from None
        mode = "imported" if result.committed else "dry run, nothing written (add --commit)"
        self.stdout.write(f"{len(result.created)} new, {len(result.updated)} updated grids: {mode}")
