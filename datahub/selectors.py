"""Reads of the data hub: the catalog, sharing, batches, records and exchange statistics.

For other apps: `exchanged_on(day, region=None)` (records exchanged on a day) and
`exchange_series(start=…, end=…, region=None)` (per department per day) feed the wall;
the typed feed models (HazmatVehicle, VehiclePosition, Enterprise, Licence, Dwelling, Camera)
and PlantedAnomaly are read directly by `alerts`.
"""

from datetime import date, timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from org import permissions
from org.models import Region

from .models import (
    AccessRequest, Camera, DataRecord, DataResource, DepartmentToken, Dwelling, Enterprise, ExchangeBatch, ExchangeDaily,
    HazmatVehicle, Licence, VehiclePosition,
)


def catalog_for(user) -> QuerySet[DataResource]:
    """The whole catalog is a directory for catalog readers; what they may read is `may_read`."""
    if not permissions.can(user, "datahub.view_catalog"):
        return DataResource.objects.none()
    return DataResource.objects.select_related("owner")


def may_read(*, department_id: int | None, resource: DataResource) -> bool:
    if department_id is None:
        return False
    if resource.owner_id == department_id or resource.sharing == DataResource.Sharing.UNCONDITIONAL:
        return True
    if resource.sharing == DataResource.Sharing.CONDITIONAL:
        return AccessRequest.objects.filter(
            resource=resource, department_id=department_id, status=AccessRequest.Status.APPROVED
        ).exists()
    return False


def readable_ids(department_id: int | None) -> set[int]:
    """Ids of the resources a department may read, in one query."""
    if department_id is None:
        return set()
    return set(
        DataResource.objects.filter(
            Q(owner_id=department_id)
            | Q(sharing=DataResource.Sharing.UNCONDITIONAL)
            | Q(
                sharing=DataResource.Sharing.CONDITIONAL,
                access_requests__department_id=department_id,
                access_requests__status=AccessRequest.Status.APPROVED,
            )
        ).values_list("id", flat=True)
    )


def requests_of(user) -> QuerySet[AccessRequest]:
    """Requests the user's department made, and requests for the resources it owns."""
    qs = AccessRequest.objects.select_related("resource__owner", "department", "requested_by", "decided_by")
    if user.is_admin_role:
        return qs
    if not user.department_id:
        return qs.none()
    return qs.filter(Q(department_id=user.department_id) | Q(resource__owner_id=user.department_id))


def tokens_of(user) -> QuerySet[DepartmentToken]:
    return permissions.visible(DepartmentToken.objects.select_related("department", "created_by"), user).prefetch_related(
        "scopes__resource"
    )


def batches_of(user, resource: DataResource | None = None) -> QuerySet[ExchangeBatch]:
    """Exchange batches a person may list. A batch is one department's push (its key, sizes, rejected rows
    with their errors): the business of the department that pushed it and of the resource's owner, not of
    everyone whose region holds that department; the wider audience gets the exchange statistics.

    - administrators: every batch;
    - a data officer: the batches its department pushed, and every batch into a resource its department
      owns (only the owner pushes today, so both are the owner's batches);
    - everyone else (dispatchers, duty chiefs, agents, leaders, grid workers, department staff): none; the
      API refuses them with 403 (action "datahub.view_batches"). Another department's data officer gets an
      empty list, as for any row outside a scope.
    Department tokens list their own department's batches (api.BatchPush)."""
    qs = ExchangeBatch.objects.select_related("resource", "department")
    if resource is not None:
        qs = qs.filter(resource=resource)
    if not permissions.can(user, "datahub.view_batches"):
        return qs.none()
    if user.is_admin_role:
        return qs
    if not user.department_id:
        return qs.none()
    return qs.filter(Q(department_id=user.department_id) | Q(resource__owner_id=user.department_id))


def _daily(region: Region | None) -> QuerySet[ExchangeDaily]:
    qs = ExchangeDaily.objects.all()
    if region is not None:
        qs = qs.filter(department__region__path__startswith=region.path)
    return qs


def exchanged_on(day: date, region: Region | None = None) -> dict:
    """Records and batches exchanged on `day` by departments in `region` (None: the whole city)."""
    totals = _daily(region).filter(day=day).aggregate(records=Sum("accepted"), batches=Sum("batches"), rejected=Sum("rejected"))
    return {key: value or 0 for key, value in totals.items()}


def exchange_series(*, start: date, end: date, region: Region | None = None) -> list[dict]:
    """[{day, department_id, department, records, batches}] per department per day, start..end inclusive."""
    rows = (
        _daily(region)
        .filter(day__gte=start, day__lte=end)
        .values("day", "department_id", "department__name")
        .annotate(records=Sum("accepted"), batches=Sum("batches"))
        .order_by("day", "department_id")
    )
    return [
        {"day": r["day"], "department_id": r["department_id"], "department": r["department__name"],
         "records": r["records"], "batches": r["batches"]}
        for r in rows
    ]


def exchange_total() -> dict:
    totals = ExchangeDaily.objects.aggregate(records=Sum("accepted"), batches=Sum("batches"))
    return {key: value or 0 for key, value in totals.items()}


def resource_daily(resource: DataResource, *, days: int = 14) -> list[dict]:
    """The last `days` days of one resource, every day present (zeros where nothing came)."""
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    got = {
        r["day"]: r
        for r in ExchangeDaily.objects.filter(resource=resource, day__gte=start)
        .values("day")
        .annotate(records=Sum("accepted"), rejected=Sum("rejected"), batches=Sum("batches"))
    }
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        row = got.get(day, {})
        out.append({"day": day, "records": row.get("records", 0), "rejected": row.get("rejected", 0), "batches": row.get("batches", 0)})
    return out


def resource_totals() -> dict[int, dict]:
    """Per resource: records exchanged today and in total (one query), for the catalog list."""
    today = timezone.localdate()
    rows = ExchangeDaily.objects.values("resource_id").annotate(
        total=Sum("accepted"), today=Sum("accepted", filter=Q(day=today))
    )
    return {r["resource_id"]: {"total": r["total"] or 0, "today": r["today"] or 0} for r in rows}


# ---- records of a resource (the read direction) ---------------------------------------------------

def _point(p):
    return None if p is None else [round(p.x, 7), round(p.y, 7)]


RECORD_READERS = {
    "vehicle_position": (
        VehiclePosition.objects.all(),
        lambda r: {"id": r.id, "plate": r.plate, "time": r.recorded_at.isoformat(), "lon": r.point.x, "lat": r.point.y, "speed": r.speed_kmh},
    ),
    "hazmat_vehicle": (
        HazmatVehicle.objects.all(),
        lambda r: {
            "id": r.id, "plate": r.plate, "carrier_name": r.carrier_name, "carrier_credit_code": r.carrier_credit_code,
            "goods_class": r.goods_class, "route": r.route.coords, "sites": r.sites.coords if r.sites else None,
            "permitted_start": r.permitted_start.isoformat("minutes"), "permitted_end": r.permitted_end.isoformat("minutes"),
        },
    ),
    "enterprise": (
        Enterprise.objects.all(),
        lambda r: {"id": r.id, "credit_code": r.credit_code, "name": r.name, "location": _point(r.location),
                   "address": r.address, "industry": r.industry, "status": r.status},
    ),
    "licence": (
        Licence.objects.all(),
        lambda r: {"id": r.id, "licence_type": r.licence_type, "number": r.number, "holder_credit_code": r.holder_credit_code,
                   "valid_from": r.valid_from.isoformat(), "valid_to": r.valid_to.isoformat(), "status": r.status},
    ),
    "dwelling": (
        Dwelling.objects.all(),
        lambda r: {"id": r.id, "code": r.code, "address": r.address, "location": _point(r.location), "area_m2": r.area_m2,
                   "registered_residents": r.registered_residents, "rooms": r.rooms},
    ),
    "camera": (
        Camera.objects.all(),
        lambda r: {"id": r.id, "code": r.code, "name": r.name, "location": _point(r.location), "owner_name": r.owner_name,
                   "stream_name": r.stream_name},
    ),
}


def records_page(
    resource: DataResource, *, after: int = 0, limit: int = 100, plate: str = "", since=None, until=None
) -> tuple[list[dict], int | None]:
    """One page of a resource's records in id order (keyset: pass the returned `next` as `after`).
    Vehicle positions can be narrowed to a plate and a time window (which also prunes partitions)."""
    if resource.feed == DataResource.Feed.GENERIC:
        qs, dump = DataRecord.objects.filter(resource=resource), (lambda r: {"id": r.id, "key": r.key, **r.data})
    else:
        qs, dump = RECORD_READERS[resource.feed]
    if resource.feed == DataResource.Feed.VEHICLE_POSITION:
        if plate:
            qs = qs.filter(plate=plate)
        if since is not None:
            qs = qs.filter(recorded_at__gte=since)
        if until is not None:
            qs = qs.filter(recorded_at__lt=until)
    rows = list(qs.filter(id__gt=after).order_by("id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return [dump(r) for r in rows], (rows[-1].id if more else None)
