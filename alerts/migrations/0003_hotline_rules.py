"""The hotline warning models (surge, sensitive wording, repeated complaints)."""

from django.db import migrations

RULES = [
    ("hotline-surge", "hotline_surge", "热线诉求激增", "orange", 24, {},
     "某社区某类诉求近 24 小时来电数超过前 28 天日均值加 3 倍标准差"),
    ("hotline-sensitive", "sensitive_content", "热线敏感内容", "red", 2, {},
     "来电内容含有可配置的敏感词（轻生、爆炸、燃气泄漏、群体性事件等）"),
    ("hotline-repeated", "repeated_complaint", "同一地址重复投诉", "yellow", 48, {},
     "同一地址 7 天内 3 次及以上投诉、举报或求助"),
]


def create(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    for code, kind, name, level, hours, params, description in RULES:
        AlertRule.objects.get_or_create(
            code=code, defaults=dict(kind=kind, name=name, level=level, deadline_hours=hours, params=params, description=description)
        )


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_default_rules")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
