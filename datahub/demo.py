"""The demo city's data resource catalog (数据资源目录): typed feeds and a few JSON resources.

Tokens are not created here (a secret is shown once, to a person): sign in as `data_officer` or an
owner department's officer and create one at /datahub/tokens/. `manage.py datahub_demo_day` fills a day.
"""

from org.demo_city import DEMO_PASSWORD
from org.models import Department, Role, User

from . import services
from .models import DataResource

S, C, N = DataResource.Sharing.UNCONDITIONAL, DataResource.Sharing.CONDITIONAL, DataResource.Sharing.NOT_SHARED
F, Y = DataResource.Feed, DataResource.Cycle

# code, name, owner department code suffix, feed, cycle, sharing, description, (schema, key field) for JSON resources
CATALOG = [
    ("JT-HAZMAT-VEHICLE", "危险货物运输车辆信息", "JT", F.HAZMAT_VEHICLE, Y.DAILY, C, "危货车辆车牌、运输企业、货物类别、核定路线、准许通行时段", None),
    ("JT-HAZMAT-GPS", "危险货物运输车辆实时定位", "JT", F.VEHICLE_POSITION, Y.REALTIME, C, "车载终端每 10 秒上报的位置与速度", None),
    ("SJ-ENTERPRISE", "市场主体登记信息", "SJ", F.ENTERPRISE, Y.DAILY, S, "企业统一社会信用代码、名称、住所、经营状态", None),
    ("SJ-LICENCE", "行政许可信息", "SJ", F.LICENCE, Y.DAILY, S, "许可证类型、编号、有效期、许可状态", None),
    ("GA-DWELLING", "实有房屋与登记人口", "GA", F.DWELLING, Y.WEEKLY, C, "房屋编码、地址、面积、登记居住人数（群租研判）", None),
    ("GA-CAMERA", "公共视频点位", "GA", F.CAMERA, Y.MONTHLY, C, "视频点位编码、位置、权属单位、视频流名称", None),
    ("GA-CASE", "刑事案件明细", "GA", F.GENERIC, Y.DAILY, N, "涉密案件数据，不予共享", (
        {"type": "object", "required": ["case_no", "category"], "properties": {
            "case_no": {"type": "string", "description": "案件编号"}, "category": {"type": "string", "description": "案件类别"},
            "occurred_at": {"type": "string", "description": "发案时间"}}}, "case_no")),
    ("YJ-HAZCHEM-SITE", "危险化学品重大危险源", "YJ", F.GENERIC, Y.MONTHLY, C, "重大危险源企业、等级、储量", (
        {"type": "object", "required": ["site_id", "credit_code", "level"], "properties": {
            "site_id": {"type": "string", "description": "危险源编号"}, "credit_code": {"type": "string", "description": "企业统一社会信用代码"},
            "level": {"type": "integer", "minimum": 1, "maximum": 4, "description": "危险源等级"},
            "chemical": {"type": "string", "description": "主要危化品"}, "storage_t": {"type": "number", "minimum": 0, "description": "储量（吨）"}}}, "site_id")),
    ("SW-WATER-LEVEL", "河道水位监测", "SW", F.GENERIC, Y.HOURLY, S, "水位站每小时水位", (
        {"type": "object", "required": ["station", "time", "level_m"], "properties": {
            "station": {"type": "string", "description": "测站编码"}, "time": {"type": "string", "description": "观测时间"},
            "level_m": {"type": "number", "description": "水位（米）"}, "warning_m": {"type": "number", "description": "警戒水位（米）"}}}, "")),
    ("MZ-ELDERLY", "独居老人关爱名单", "MZ", F.GENERIC, Y.MONTHLY, C, "独居、空巢老人及联系人（敏感）", (
        {"type": "object", "required": ["person_id", "community"], "properties": {
            "person_id": {"type": "string", "description": "人员编号"}, "community": {"type": "string", "description": "所在社区"},
            "age": {"type": "integer", "minimum": 60, "description": "年龄"}, "contact_phone": {"type": "string", "description": "联系人电话"}}}, "person_id")),
    ("ZJ-CONSTRUCTION", "在建工地信息", "ZJ", F.GENERIC, Y.WEEKLY, S, "在建项目、施工单位、夜间施工许可", (
        {"type": "object", "required": ["project_id", "name"], "properties": {
            "project_id": {"type": "string", "description": "项目编号"}, "name": {"type": "string", "description": "项目名称"},
            "builder_credit_code": {"type": "string", "description": "施工单位统一社会信用代码"},
            "night_work_permit": {"type": "boolean", "description": "夜间施工许可"}}}, "project_id")),
]


# Data officers of the owner departments (the org demo's `data_officer` works at 市大数据管理局).
OFFICERS = [("data_jt", "交通数据专员", "JT"), ("data_sj", "市场监管数据专员", "SJ"), ("data_ga", "公安数据专员", "GA")]


def load_demo(*, scale: int, stdout) -> None:
    departments = {d.code: d for d in Department.objects.filter(code__startswith="329900-")}
    for username, display_name, dept in OFFICERS:
        if f"329900-{dept}" in departments and not User.objects.filter(username=username).exists():
            User.objects.create_user(
                username=username, password=DEMO_PASSWORD, role=Role.DATA_OFFICER,
                department=departments[f"329900-{dept}"], display_name=display_name,
            )
    for code, name, owner, feed, cycle, sharing, description, generic in CATALOG:
        department = departments.get(f"329900-{owner}")
        if department is None:
            continue
        schema, key_field = generic if generic else (None, "")
        existing = DataResource.objects.filter(code=code).first()
        if existing is not None and existing.name == name and existing.owner_id == department.pk:
            continue  # idempotent: an entry already there is left as it is (with its counts)
        services.resource_register(
            code=code, name=name, owner=department, feed=feed, schema=schema, description=description,
            key_field=key_field, update_cycle=cycle, sharing=sharing,
        )
    if stdout is not None:
        stdout.write(
            f"datahub: {DataResource.objects.count()} catalog entries; create a push token as data_jt / data_sj / data_ga at /datahub/tokens/, "
            "then `python manage.py datahub_demo_day --date 2026-11-20` for one simulated day"
        )
