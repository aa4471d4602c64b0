"""How the rows of each kind of resource are validated and stored.

Typed feeds parse their fields one by one (fast, and the messages name the field); everything else is
validated against the resource's JSON Schema, compiled once with fastjsonschema. Accepted rows go to
PostgreSQL with COPY: positions straight into the day-partitioned table, the other feeds into a
temporary staging table merged with INSERT … ON CONFLICT (a newer row for the same key replaces the older).
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import fastjsonschema
import orjson
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.translation import gettext as _
from psycopg import sql
from stdnum.cn import uscc

from . import partitions

# Asia/Shanghai has had no daylight saving since 1991: a fixed offset is exact and much faster per row.
CST = partitions.CST
COPY_CHUNK_ROWS = 20_000

PLATE_RE = re.compile(r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-Z0-9挂学警港澳]{5,6}$")
GOODS_CLASSES = {"1", "2.1", "2.2", "2.3", "3", "4.1", "4.2", "4.3", "5.1", "5.2", "6.1", "6.2", "7", "8", "9"}
ENTERPRISE_STATUS = {"operating": "operating", "在业": "operating", "存续": "operating",
                     "rectifying": "rectifying", "整改中": "rectifying",
                     "suspended": "suspended", "停业": "suspended",
                     "deregistered": "deregistered", "注销": "deregistered"}
LICENCE_STATUS = {"valid": "valid", "有效": "valid", "suspended": "suspended", "暂扣": "suspended",
                  "revoked": "revoked", "吊销": "revoked", "cancelled": "cancelled", "注销": "cancelled"}


class RowError(Exception):
    """One row is rejected; the message says why, in the user's language."""


# ---- field parsers (values arrive as JSON types, or as strings from CSV) ---------------------


def _required(row, name):
    value = row.get(name)
    if value is None or value == "":
        raise RowError(_("missing field “%(field)s”") % {"field": name})
    return value


def _str(row, name, *, max_length, required=True):
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise RowError(_("missing field “%(field)s”") % {"field": name})
        return ""
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    if len(value) > max_length:
        raise RowError(_("field “%(field)s” is longer than %(n)s characters") % {"field": name, "n": max_length})
    return value


def _number(row, name, *, low, high, required=True):
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise RowError(_("missing field “%(field)s”") % {"field": name})
        return None
    if value.__class__ is str:
        try:
            value = float(value)
        except ValueError:
            raise RowError(_("field “%(field)s” is not a number") % {"field": name}) from None
    elif value.__class__ not in (int, float):
        raise RowError(_("field “%(field)s” is not a number") % {"field": name})
    if not low <= value <= high:
        raise RowError(_("field “%(field)s” must be between %(low)s and %(high)s") % {"field": name, "low": low, "high": high})
    return value


def _int(row, name, *, low, high, required=True):
    value = _number(row, name, low=low, high=high, required=required)
    if value is None:
        return None
    if value != int(value):
        raise RowError(_("field “%(field)s” must be a whole number") % {"field": name})
    return int(value)


def _datetime(row, name):
    value = _required(row, name)
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise RowError(_("field “%(field)s” is not an ISO 8601 time") % {"field": name}) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CST)
    return parsed


def _date(row, name):
    value = _required(row, name)
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise RowError(_("field “%(field)s” is not a date (YYYY-MM-DD)") % {"field": name}) from None


def _time(row, name):
    value = _required(row, name)
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        raise RowError(_("field “%(field)s” is not a time of day (HH:MM)") % {"field": name}) from None


def _choice(row, name, mapping):
    value = _str(row, name, max_length=20)
    try:
        return mapping[value]
    except KeyError:
        raise RowError(
            _("field “%(field)s” must be one of: %(choices)s") % {"field": name, "choices": "、".join(mapping)}
        ) from None


def _credit_code(row, name, *, required=True):
    value = _str(row, name, max_length=18, required=required)
    if not value and not required:
        return ""
    value = value.upper()
    if not uscc.is_valid(value):
        raise RowError(_("field “%(field)s” is not a valid unified social credit code (check digit)") % {"field": name})
    return value


def _plate(row, name="plate"):
    value = _str(row, name, max_length=12)
    if not PLATE_RE.match(value):
        raise RowError(_("field “%(field)s” is not a vehicle plate") % {"field": name})
    return value


def _lonlat(row, *, required=True):
    lon = _number(row, "lon", low=73.0, high=136.0, required=required)
    lat = _number(row, "lat", low=3.0, high=54.0, required=required)
    if lon is None or lat is None:
        if lon is None and lat is None:
            return None
        raise RowError(_("fields “lon” and “lat” go together"))
    return f"SRID=4326;POINT({lon} {lat})"


def _geometry(row, name, kind, *, required=True):
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise RowError(_("missing field “%(field)s”") % {"field": name})
        return None
    try:
        geom = GEOSGeometry(orjson.dumps(value).decode() if isinstance(value, dict) else value, srid=4326)
    except (GEOSException, ValueError, TypeError):
        raise RowError(_("field “%(field)s” is not GeoJSON or WKT") % {"field": name}) from None
    if geom.geom_type != kind or geom.empty:
        raise RowError(_("field “%(field)s” must be a %(kind)s") % {"field": name, "kind": kind})
    xmin, ymin, xmax, ymax = geom.extent
    if xmin < 73 or xmax > 136 or ymin < 3 or ymax > 54:
        raise RowError(_("field “%(field)s” lies outside China (WGS 84 lon/lat expected)") % {"field": name})
    geom.srid = 4326
    return geom.hexewkb.decode()


def copy_text(value) -> str:
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = value if isinstance(value, str) else (value.isoformat() if hasattr(value, "isoformat") else str(value))
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# ---- feeds -------------------------------------------------------------------------------------


@dataclass
class Context:
    """What a feed needs to know while one batch is processed."""

    resource: object
    batch_id: int
    now: datetime
    cursor: object


class Feed:
    """Validates rows (`parse` returns one COPY line) and stores them in chunks (`flush`, `finish`)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.lines: list[str] = []

    def parse(self, row: dict) -> str:
        raise NotImplementedError

    def add(self, row: dict) -> None:
        self.lines.append(self.parse(row))
        if len(self.lines) >= COPY_CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.copy(self.lines)
            self.lines = []

    def copy(self, lines: list[str]) -> None:
        raise NotImplementedError

    def finish(self) -> int | None:
        """Store what is left; return the resource's record count (None: it grew by the accepted rows)."""
        raise NotImplementedError


class VehiclePositionFeed(Feed):
    """Appends to the day-partitioned position table; creates a missing day partition first."""

    SCHEMA = {
        "type": "object",
        "required": ["plate", "time", "lon", "lat", "speed"],
        "properties": {
            "plate": {"type": "string", "description": "车牌号"},
            "time": {"type": "string", "format": "date-time", "description": "定位时间 (ISO 8601)"},
            "lon": {"type": "number", "description": "经度 (WGS 84)"},
            "lat": {"type": "number", "description": "纬度 (WGS 84)"},
            "speed": {"type": "number", "minimum": 0, "maximum": 250, "description": "速度 km/h"},
        },
    }

    def __init__(self, ctx):
        super().__init__(ctx)
        from django.conf import settings

        self.retention_days = settings.DATAHUB_POSITION_RETENTION_DAYS
        self.oldest = ctx.now - timedelta(days=self.retention_days)
        self.newest = ctx.now + timedelta(days=1)
        self.days: set[date] = set()
        self.known_days: set[date] = set()
        self.batch_text = str(ctx.batch_id)

    def parse(self, row):
        if row.__class__ is not dict:
            raise RowError(_("the row is not an object"))
        plate = row.get("plate")
        if plate.__class__ is not str or not PLATE_RE.match(plate):
            _plate(row)  # raises the precise reason
        recorded_at = _datetime(row, "time")
        if recorded_at < self.oldest:
            raise RowError(_("time is older than the %(days)s days positions are kept") % {"days": self.retention_days})
        if recorded_at > self.newest:
            raise RowError(_("time lies in the future"))
        lon = _number(row, "lon", low=73.0, high=136.0)
        lat = _number(row, "lat", low=3.0, high=54.0)
        speed = _number(row, "speed", low=0, high=250)
        self.days.add(recorded_at.astimezone(CST).date())
        return f"{plate}\t{recorded_at.isoformat()}\tSRID=4326;POINT({lon} {lat})\t{speed}\t{self.batch_text}\n"

    def copy(self, lines):
        missing = self.days - self.known_days
        if missing:
            partitions.ensure_position_partitions(missing)
            self.known_days |= missing
        with self.ctx.cursor.copy("COPY datahub_vehicle_position (plate, recorded_at, point, speed_kmh, batch_id) FROM STDIN") as copy:
            copy.write("".join(lines))

    def finish(self):
        self.flush()
        return None


class StagedFeed(Feed):
    """COPY into a temporary staging table, then merge into the target keyed on `key` (last row wins)."""

    table: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, SQL type) of the parsed values, in `parse` order
    computed: dict[str, str] = {}  # extra target columns computed in SQL from the staged ones

    def __init__(self, ctx):
        super().__init__(ctx)
        self.seq = 0
        self.stage = f"datahub_stage_{ctx.batch_id}"
        ctx.cursor.execute(
            sql.SQL("CREATE TEMP TABLE {} (seq bigint, {}) ON COMMIT DROP").format(
                sql.Identifier(self.stage),
                sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in self.columns),
            )
        )

    def add(self, row):
        if row.__class__ is not dict:
            raise RowError(_("the row is not an object"))
        values = self.parse(row)
        self.seq += 1
        self.lines.append("\t".join([str(self.seq), *map(copy_text, values)]) + "\n")
        if len(self.lines) >= COPY_CHUNK_ROWS:
            self.flush()

    def copy(self, lines):
        with self.ctx.cursor.copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(self.stage))) as copy:
            copy.write("".join(lines))

    def merge_sql(self):
        names = [n for n, _t in self.columns]
        target_cols = names + list(self.computed) + ["batch_id", "updated_at"]
        select_exprs = [sql.SQL("s.{}").format(sql.Identifier(n)) for n in names]
        select_exprs += [sql.SQL(expr) for expr in self.computed.values()]
        select_exprs += [sql.Placeholder("batch"), sql.Placeholder("now")]
        updates = [c for c in target_cols if c not in self.key]
        return sql.SQL(
            "INSERT INTO {target} ({cols}) "
            "SELECT {exprs} FROM (SELECT DISTINCT ON ({key}) * FROM {stage} ORDER BY {key}, seq DESC) s "
            "ON CONFLICT ({key}) DO UPDATE SET {updates}"
        ).format(
            target=sql.Identifier(self.table),
            cols=sql.SQL(", ").join(map(sql.Identifier, target_cols)),
            exprs=sql.SQL(", ").join(select_exprs),
            key=sql.SQL(", ").join(map(sql.Identifier, self.key)),
            stage=sql.Identifier(self.stage),
            updates=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates),
        )

    def finish(self):
        self.flush()
        if self.seq:
            self.ctx.cursor.execute(self.merge_sql(), {"batch": self.ctx.batch_id, "now": self.ctx.now})
        return self.count()

    def count(self) -> int:
        self.ctx.cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(self.table)))
        return self.ctx.cursor.fetchone()[0]


# Community (level 4) that covers a staged point: typed rows are scoped to where they are.
COMMUNITY_OF = "(SELECT r.id FROM org_region r WHERE r.level = 4 AND ST_Covers(r.boundary, s.{}) ORDER BY r.code LIMIT 1)"


class HazmatVehicleFeed(StagedFeed):
    table = "datahub_hazmatvehicle"
    key = ("plate",)
    columns = (
        ("plate", "varchar(12)"), ("carrier_name", "varchar(200)"), ("carrier_credit_code", "varchar(18)"),
        ("goods_class", "varchar(8)"), ("route", "geometry(LineString,4326)"), ("sites", "geometry(MultiPoint,4326)"),
        ("permitted_start", "time"), ("permitted_end", "time"),
    )
    SCHEMA = {
        "type": "object",
        "required": ["plate", "carrier_name", "goods_class", "route", "permitted_start", "permitted_end"],
        "properties": {
            "plate": {"type": "string", "description": "车牌号"},
            "carrier_name": {"type": "string", "description": "运输企业"},
            "carrier_credit_code": {"type": "string", "description": "运输企业统一社会信用代码"},
            "goods_class": {"type": "string", "enum": sorted(GOODS_CLASSES), "description": "危险货物类别 (GB 6944)"},
            "route": {"type": ["object", "string"], "description": "核定路线 (GeoJSON LineString 或 WKT)"},
            "sites": {"type": ["object", "string"], "description": "登记停车/装卸点 (GeoJSON MultiPoint 或 WKT)"},
            "permitted_start": {"type": "string", "description": "准许通行开始 HH:MM"},
            "permitted_end": {"type": "string", "description": "准许通行结束 HH:MM"},
        },
    }

    def parse(self, row):
        goods_class = _str(row, "goods_class", max_length=8)
        if goods_class not in GOODS_CLASSES:
            raise RowError(_("field “goods_class” is not a GB 6944 class"))
        return (
            _plate(row), _str(row, "carrier_name", max_length=200), _credit_code(row, "carrier_credit_code", required=False),
            goods_class, _geometry(row, "route", "LineString"), _geometry(row, "sites", "MultiPoint", required=False),
            _time(row, "permitted_start"), _time(row, "permitted_end"),
        )


class EnterpriseFeed(StagedFeed):
    table = "datahub_enterprise"
    key = ("credit_code",)
    columns = (
        ("credit_code", "varchar(18)"), ("name", "varchar(200)"), ("location", "geometry(Point,4326)"),
        ("address", "varchar(300)"), ("industry", "varchar(100)"), ("status", "varchar(14)"),
    )
    computed = {"region_id": COMMUNITY_OF.format("location")}
    SCHEMA = {
        "type": "object",
        "required": ["credit_code", "name", "status"],
        "properties": {
            "credit_code": {"type": "string", "description": "统一社会信用代码 (GB 32100, 含校验码)"},
            "name": {"type": "string", "description": "企业名称"},
            "lon": {"type": "number"}, "lat": {"type": "number"},
            "address": {"type": "string"}, "industry": {"type": "string"},
            "status": {"type": "string", "enum": list(ENTERPRISE_STATUS), "description": "经营状态"},
        },
    }

    def parse(self, row):
        return (
            _credit_code(row, "credit_code"), _str(row, "name", max_length=200), _lonlat(row, required=False),
            _str(row, "address", max_length=300, required=False), _str(row, "industry", max_length=100, required=False),
            _choice(row, "status", ENTERPRISE_STATUS),
        )


class LicenceFeed(StagedFeed):
    table = "datahub_licence"
    key = ("licence_type", "number")
    columns = (
        ("licence_type", "varchar(100)"), ("number", "varchar(64)"), ("holder_credit_code", "varchar(18)"),
        ("valid_from", "date"), ("valid_to", "date"), ("status", "varchar(10)"),
    )
    SCHEMA = {
        "type": "object",
        "required": ["licence_type", "number", "holder_credit_code", "valid_from", "valid_to", "status"],
        "properties": {
            "licence_type": {"type": "string", "description": "许可证类型"},
            "number": {"type": "string", "description": "许可证编号"},
            "holder_credit_code": {"type": "string", "description": "持证企业统一社会信用代码"},
            "valid_from": {"type": "string", "format": "date"}, "valid_to": {"type": "string", "format": "date"},
            "status": {"type": "string", "enum": list(LICENCE_STATUS), "description": "许可状态"},
        },
    }

    def parse(self, row):
        valid_from, valid_to = _date(row, "valid_from"), _date(row, "valid_to")
        if valid_to < valid_from:
            raise RowError(_("“valid_to” lies before “valid_from”"))
        return (
            _str(row, "licence_type", max_length=100), _str(row, "number", max_length=64),
            _credit_code(row, "holder_credit_code"), valid_from, valid_to, _choice(row, "status", LICENCE_STATUS),
        )


class DwellingFeed(StagedFeed):
    table = "datahub_dwelling"
    key = ("code",)
    columns = (
        ("code", "varchar(40)"), ("address", "varchar(300)"), ("location", "geometry(Point,4326)"),
        ("area_m2", "double precision"), ("registered_residents", "integer"), ("rooms", "smallint"),
    )
    computed = {"region_id": COMMUNITY_OF.format("location")}
    SCHEMA = {
        "type": "object",
        "required": ["code", "address", "area_m2", "registered_residents"],
        "properties": {
            "code": {"type": "string", "description": "房屋编码"}, "address": {"type": "string", "description": "地址"},
            "lon": {"type": "number"}, "lat": {"type": "number"},
            "area_m2": {"type": "number", "description": "建筑面积 (平方米)"},
            "registered_residents": {"type": "integer", "description": "登记居住人数"},
            "rooms": {"type": "integer", "description": "房间数"},
        },
    }

    def parse(self, row):
        return (
            _str(row, "code", max_length=40), _str(row, "address", max_length=300), _lonlat(row, required=False),
            _number(row, "area_m2", low=1, high=100_000), _int(row, "registered_residents", low=0, high=10_000),
            _int(row, "rooms", low=0, high=1000, required=False),
        )


class CameraFeed(StagedFeed):
    table = "datahub_camera"
    key = ("code",)
    columns = (
        ("code", "varchar(40)"), ("name", "varchar(200)"), ("location", "geometry(Point,4326)"),
        ("owner_name", "varchar(200)"), ("stream_name", "varchar(200)"),
    )
    computed = {"region_id": COMMUNITY_OF.format("location")}
    SCHEMA = {
        "type": "object",
        "required": ["code", "name", "lon", "lat", "owner_name", "stream_name"],
        "properties": {
            "code": {"type": "string", "description": "设备编码"}, "name": {"type": "string", "description": "点位名称"},
            "lon": {"type": "number"}, "lat": {"type": "number"},
            "owner_name": {"type": "string", "description": "权属单位"}, "stream_name": {"type": "string", "description": "视频流名称"},
        },
    }

    def parse(self, row):
        return (
            _str(row, "code", max_length=40), _str(row, "name", max_length=200), _lonlat(row),
            _str(row, "owner_name", max_length=200), _str(row, "stream_name", max_length=200),
        )


@lru_cache(maxsize=256)
def _compiled(schema_json: bytes):
    return fastjsonschema.compile(orjson.loads(schema_json))


def compile_schema(schema: dict):
    """The resource's JSON Schema compiled to Python once per process (and per schema version)."""
    return _compiled(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))


def check_schema(schema: dict) -> None:
    """Raise ValueError when `schema` is not a usable JSON Schema."""
    try:
        compile_schema(schema)
    except (fastjsonschema.JsonSchemaDefinitionException, TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from exc


def coerce_csv(row: dict, schema: dict) -> dict:
    """CSV cells are text: give them the types the schema's properties ask for; empty cells are absent."""
    props = schema.get("properties", {})
    out = {}
    for name, value in row.items():
        if name is None:
            raise RowError(_("the row has more cells than the header"))
        if value is None or value == "":
            continue
        kind = props.get(name, {}).get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        try:
            if "integer" in kinds and value.lstrip("-").isdigit():
                value = int(value)
            elif "number" in kinds:
                value = float(value)
            elif "boolean" in kinds and value.lower() in ("true", "false", "1", "0", "是", "否"):
                value = value.lower() in ("true", "1", "是")
        except ValueError:
            pass  # left as text: the schema check names the field
        out[name] = value
    return out


class GenericFeed(StagedFeed):
    """JSON records keyed per resource (by its key field, else by the row's content)."""

    columns = (("key", "varchar(200)"), ("data", "jsonb"))

    def __init__(self, ctx):
        super().__init__(ctx)
        self.validate = compile_schema(ctx.resource.schema or {"type": "object"})
        self.key_field = ctx.resource.key_field

    def parse(self, row):
        try:
            self.validate(row)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise RowError(_("does not match the schema: %(reason)s") % {"reason": exc.message}) from None
        data = orjson.dumps(row, option=orjson.OPT_SORT_KEYS)
        if self.key_field:
            key = row.get(self.key_field)
            if key is None or key == "":
                raise RowError(_("missing key field “%(field)s”") % {"field": self.key_field})
            key = str(key)
            if len(key) > 200:
                raise RowError(_("key field “%(field)s” is longer than 200 characters") % {"field": self.key_field})
        else:
            key = hashlib.sha256(data).hexdigest()
        return key, data.decode()

    def merge_sql(self):
        return sql.SQL(
            "INSERT INTO datahub_datarecord (resource_id, key, data, batch_id, updated_at) "
            "SELECT %(resource)s, s.key, s.data, %(batch)s, %(now)s "
            "FROM (SELECT DISTINCT ON (key) * FROM {stage} ORDER BY key, seq DESC) s "
            "ON CONFLICT (resource_id, key) DO UPDATE SET data = EXCLUDED.data, batch_id = EXCLUDED.batch_id, "
            "updated_at = EXCLUDED.updated_at"
        ).format(stage=sql.Identifier(self.stage))

    def finish(self):
        self.flush()
        if self.seq:
            self.ctx.cursor.execute(
                self.merge_sql(), {"resource": self.ctx.resource.pk, "batch": self.ctx.batch_id, "now": self.ctx.now}
            )
        self.ctx.cursor.execute("SELECT count(*) FROM datahub_datarecord WHERE resource_id = %s", [self.ctx.resource.pk])
        return self.ctx.cursor.fetchone()[0]


FEEDS: dict[str, type[Feed]] = {
    "generic": GenericFeed,
    "vehicle_position": VehiclePositionFeed,
    "hazmat_vehicle": HazmatVehicleFeed,
    "enterprise": EnterpriseFeed,
    "licence": LicenceFeed,
    "dwelling": DwellingFeed,
    "camera": CameraFeed,
}


def feed_schema(feed: str) -> dict | None:
    """The fixed schema of a typed feed (None for generic resources, which bring their own)."""
    return getattr(FEEDS[feed], "SCHEMA", None)
