"""Demo data of the alerts app: the expressway of the demo city (where 80 km/h applies instead of 60).

The warning models come with migrations 0002/0003 (and are ensured here). Run `manage.py datahub_demo_day --date …` and
then `manage.py alerts_detect --day …` to raise the day's alerts and see the recall on the planted set.
"""

from django.contrib.gis.geos import LineString, MultiLineString

from datahub.demo_day import ROADS

from .defaults import ensure_default_rules
from .models import Expressway

EXPRESSWAYS = ["江海快速路"]


def load_demo(*, scale: int, stdout) -> None:
    ensure_default_rules()
    for name in EXPRESSWAYS:
        if name in ROADS and not Expressway.objects.filter(name=name).exists():
            Expressway.objects.create(name=name, geometry=MultiLineString(LineString(ROADS[name], srid=4326), srid=4326))
    if stdout is not None:
        stdout.write(f"alerts: {Expressway.objects.count()} expressway(s); warning models are in the admin")
