

from django.core.management.base import BaseCommand, CommandError

from datahub import demo_day


class Command(BaseCommand):
    help = "Generate one simulated day of department data (vehicles, positions, enterprises, licences, dwellings, cameras) with planted anomalies."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="YYYY-MM-DD (Asia/Shanghai day)")
        parser.add_argument("--vehicles", type=int, default=50)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, date: str, vehicles: int, seed: int, **options):
        from datetime import date as date_cls

        try:
            day = date_cls.fromisoformat(date)
        except ValueError:
            raise CommandError("--date must be YYYY-MM-DD") from None
        if not 1 <= vehicles <= 5000:
            raise CommandError("--vehicles must be between 1 and 5000")
        try:
            result = demo_day.generate(day=day, vehicles=vehicles, seed=seed, stdout=self.stdout)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        kinds = {}
        for p in result.planted:
            kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
        self.stdout.write(f"planted anomalies: {kinds} (table datahub_plantedanomaly, file {result.ground_truth_file})")
