from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from datahub import partitions


class Command(BaseCommand):
    help = "Create upcoming day partitions of vehicle positions and drop the days past retention."

    def add_arguments(self, parser):
        parser.add_argument("--retention-days", type=int, default=settings.DATAHUB_POSITION_RETENTION_DAYS)
        parser.add_argument("--ahead", type=int, default=7, help="days ahead to create (default 7)")

    def handle(self, *args, retention_days, ahead, **options):
        if retention_days < 1 or ahead < 0:
            raise CommandError("--retention-days must be at least 1 and --ahead not negative")
        result = partitions.maintain(retention_days=retention_days, ahead_days=ahead)
        for name in result["created"]:
            self.stdout.write(f"created {name}")
        for name in result["dropped"]:
            self.stdout.write(f"dropped {name}")
        self.stdout.write(f"{len(result['created'])} created, {len(result['dropped'])} dropped")
