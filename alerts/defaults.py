"""The warning models every installation starts with (as migrations 0002 and 0003 created them). The demo
loader ensures them too, so a database emptied by a test or an operator gets them back."""

from .models import AlertRule

DEFAULT_RULES = [
    # code, kind, name, level, deadline hours, params, description
    ("hazmat-long-stop", "long_stop", "危化品车辆异常停车", "orange", 4, {},
     "危险货物运输车辆在登记场所（车辆登记停车点、承运企业场所）以外停留超过 30 分钟"),
    ("hazmat-banned-hours", "banned_hours", "危化品车辆禁行时段行驶", "yellow", 24, {},
     "在禁行时段（默认 00:00–06:00）与区域内行驶"),
    ("hazmat-route-deviation", "route_deviation", "危化品车辆偏离核定路线", "orange", 4, {},
     "偏离核定路线 500 米以上持续超过 5 分钟"),
    ("hazmat-overspeed", "overspeed", "危化品车辆超速", "yellow", 24, {},
     "高速公路超过 80 km/h，其他道路超过 60 km/h"),
    ("licence-anomaly", "licence", "企业证照异常经营", "orange", 72, {},
     "企业在许可证过期或被吊销、注销后仍在经营"),
    ("group-rental", "group_rental", "疑似群租", "blue", 72, {},
     "每间居室登记居住超过 2 人，或人均面积不足 5 平方米"),
    ("video-fire", "video_event", "视频识别：火情", "red", 1, {"event_types": {"fire": "火情", "smoke": "烟雾"}},
     "视频智能分析识别到火情、烟雾"),
    ("video-river", "video_event", "视频识别：河道非法捕捞", "yellow", 24, {"event_types": {"illegal_fishing": "非法捕捞"}},
     "河道视频识别到垂钓、撒网等非法捕捞"),
    ("video-street", "video_event", "视频识别：占道经营", "blue", 24, {"event_types": {"street_vending": "占道经营"}},
     "街面视频识别到流动摊贩、占道经营"),

    ("hotline-surge", "hotline_surge", "热线诉求激增", "orange", 24, {},
     "某社区某类诉求近 24 小时来电数超过前 28 天日均值加 3 倍标准差"),
    ("hotline-sensitive", "sensitive_content", "热线敏感内容", "red", 2, {},
     "来电内容含有可配置的敏感词（轻生、爆炸、燃气泄漏、群体性事件等）"),
    ("hotline-repeated", "repeated_complaint", "同一地址重复投诉", "yellow", 48, {},
     "同一地址 7 天内 3 次及以上投诉、举报或求助"),
]


def ensure_default_rules() -> int:
    """Create the default warning models that are missing (existing ones keep their edited parameters)."""
    created = 0
    for code, kind, name, level, hours, params, description in DEFAULT_RULES:
        _, new = AlertRule.objects.get_or_create(
            code=code, defaults=dict(kind=kind, name=name, level=level, deadline_hours=hours, params=params, description=description)
        )
        created += new
    return created
