import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from alerts import detection, selectors


class Command(BaseCommand):
    help = "Run every active warning model over one day (Asia/Shanghai) and print the recall on the planted anomalies."

    def add_arguments(self, parser):
        parser.add_argument("--day", required=True, help="YYYY-MM-DD")

    def handle(self, *args, day: str, **options):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            raise CommandError("--day must be YYYY-MM-DD") from None
        result = detection.detect_day(day)
        self.stdout.write(f"found {result.found}, raised {result.raised}, folded into existing {result.merged}; seconds {result.seconds}")
        report = selectors.recall_report(day)
        self.stdout.write(json.dumps(report.summary(), ensure_ascii=False))
