"""Writes of the data hub: batches, tokens, access requests, catalog entries."""

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from org import inputs
from org.exceptions import Conflict
from org.models import Department
from realtime.services import outbox_write

from . import bodies, feeds, selectors
from .signals import batch_committed
from .models import AccessRequest, DataResource, DepartmentToken, ExchangeBatch, TokenScope

logger = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 1000
TOKEN_PREFIX = "dh_"


# ---- ingestion ---------------------------------------------------------------------------------


class BatchConflict(Exception):
    """The idempotency key was already used for this resource: the recorded batch is the answer."""

    def __init__(self, batch):
        self.batch = batch


class KeyReused(Exception):
    """The idempotency key was already used for this resource with a different body (answered with 422)."""


@dataclass
class BatchResult:
    batch: ExchangeBatch
    replayed: bool = False
    errors: list = field(default_factory=list)


def ingest_batch(
    *, resource: DataResource, department: Department, token: DepartmentToken | None, idempotency_key: str,
    fmt: str, stream,
) -> BatchResult:
    """Validate and store one pushed batch, all in one transaction.

    The batch row is inserted first: a second request with the same key waits on the unique index
    and then gets the recorded batch back (nothing is stored twice). A malformed body, a crash or a
    lost connection rolls back everything, so a retry with the same key starts clean.
    """
    key = inputs.check_idempotency_key(idempotency_key or "")  # the rule every surface has (a missing key fails it)
    if resource.owner_id != department.pk:
        raise PermissionDenied(_("Only the owner department pushes data to this resource."))
    existing = ExchangeBatch.objects.filter(resource=resource, idempotency_key=key).first()
    reader = bodies.CountingReader(stream)
    if existing is not None:
        return _replay(existing, reader)
    started = timezone.now()
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    batch = ExchangeBatch.objects.create(
                        resource=resource, department=department, token=token, idempotency_key=key, format=fmt,
                        started_at=started, finished_at=started,
                    )
            except IntegrityError:
                raise BatchConflict(None) from None
            return _fill_batch(batch=batch, resource=resource, reader=reader, fmt=fmt, started=started)
    except BatchConflict:
        # A concurrent request with this key committed first.
        batch = ExchangeBatch.objects.get(resource=resource, idempotency_key=key)
        return _replay(batch, reader)


def _replay(batch: ExchangeBatch, reader: bodies.CountingReader) -> BatchResult:
    """The recorded batch, if the body sent again is the one it recorded."""
    if batch.body_sha256 and reader.drain() != batch.body_sha256:
        raise KeyReused(_("This Idempotency-Key was already used for batch %(id)s with a different body. Use a new key for a new batch.") % {"id": batch.pk})
    return BatchResult(batch=batch, replayed=True, errors=batch.errors)


def _fill_batch(*, batch, resource, reader, fmt, started) -> BatchResult:
    resource = DataResource.objects.select_related("owner__region").get(pk=resource.pk)
    if resource.feed != DataResource.Feed.VEHICLE_POSITION:
        # Keyed feeds recount their table after the merge: one batch per resource at a time keeps the count true.
        DataResource.objects.select_for_update(no_key=True).filter(pk=resource.pk).first()
    errors: list[dict] = []
    received = rejected = 0
    with connection.cursor() as cursor:
        feed = feeds.FEEDS[resource.feed](feeds.Context(resource=resource, batch_id=batch.pk, now=started, cursor=cursor.cursor))
        schema = resource.schema or {}
        generic_csv = fmt == "csv" and resource.feed == DataResource.Feed.GENERIC
        add = feed.add
        for number, row in bodies.READERS[fmt](reader):
            received += 1
            try:
                if fmt == "csv":
                    if None in row:
                        raise feeds.RowError(_("the row has more cells than the header"))
                    if generic_csv:
                        row = feeds.coerce_csv(row, schema)
                add(row)
            except feeds.RowError as exc:
                rejected += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append({"row": number, "reason": str(exc)})
        if received == 0:
            raise bodies.MalformedBody(_("The batch holds no rows."))
        record_count = feed.finish()
    now = timezone.now()
    batch.received, batch.rejected, batch.accepted = received, rejected, received - rejected
    batch.body_sha256 = reader.drain()
    batch.bytes, batch.errors, batch.finished_at = reader.bytes, errors, now
    batch.save(update_fields=["received", "accepted", "rejected", "bytes", "body_sha256", "errors", "finished_at"])
    update = {"record_count": F("record_count") + batch.accepted if record_count is None else record_count}
    if batch.accepted:
        update["last_updated_at"] = now
    DataResource.objects.filter(pk=resource.pk).update(**update)
    _count_daily(batch=batch, day=timezone.localdate(now))
    outbox_write(
        topic="datahub.batch",
        data={
            "resource": resource.code, "department": resource.owner.name, "batch": batch.pk,
            "accepted": batch.accepted, "rejected": batch.rejected, "at": now.isoformat(),
        },
        region=resource.owner.region,
        department_ids=[resource.owner_id],
    )
    transaction.on_commit(lambda: _announce(batch=batch, resource=resource))
    return BatchResult(batch=batch, errors=errors)


def _announce(*, batch: ExchangeBatch, resource: DataResource) -> None:
    for receiver, result in batch_committed.send_robust(
        sender=ExchangeBatch, batch_id=batch.pk, batch=batch, resource_code=resource.code, feed=resource.feed
    ):
        if isinstance(result, Exception):  # a listener's failure must not fail a batch that is already stored
            logger.error("batch_committed receiver %r failed", receiver, exc_info=result)


def _count_daily(*, batch: ExchangeBatch, day: date) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO datahub_exchangedaily (department_id, resource_id, day, batches, accepted, rejected, bytes) "
            "VALUES (%s, %s, %s, 1, %s, %s, %s) ON CONFLICT (department_id, resource_id, day) DO UPDATE SET "
            "batches = datahub_exchangedaily.batches + 1, accepted = datahub_exchangedaily.accepted + EXCLUDED.accepted, "
            "rejected = datahub_exchangedaily.rejected + EXCLUDED.rejected, bytes = datahub_exchangedaily.bytes + EXCLUDED.bytes",
            [batch.department_id, batch.resource_id, day, batch.accepted, batch.rejected, batch.bytes],
        )


# ---- tokens ------------------------------------------------------------------------------------


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, department: Department, name: str, scopes: list[tuple[DataResource, str]], by) -> tuple[DepartmentToken, str]:
    """Create a token; returns it with its secret, which is never stored and never shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if not scopes:
        raise ValidationError({"scopes": _("Choose at least one resource and direction.")})
    for resource, direction in scopes:
        if direction == TokenScope.Direction.PUSH and resource.owner_id != department.pk:
            raise ValidationError({"scopes": _("“%(name)s” belongs to another department: it can only be read.") % {"name": resource.name}})
        if direction == TokenScope.Direction.READ and not selectors.may_read(department_id=department.pk, resource=resource):
            raise ValidationError({"scopes": _("Your department may not read “%(name)s”.") % {"name": resource.name}})
        if direction not in TokenScope.Direction.values:
            raise ValidationError({"scopes": _("Unknown direction.")})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = DepartmentToken.objects.create(
            department=department, name=name[:100], prefix=secret[:10], key_hash=hash_token(secret), created_by=by
        )
        TokenScope.objects.bulk_create(
            [TokenScope(token=token, resource=r, direction=d) for r, d in dict.fromkeys(scopes)]
        )
        outbox_write(topic="datahub.token", data={"token": token.pk, "event": "created"}, department_ids=[department.pk])
    return token, secret


def token_revoke(*, token: DepartmentToken, by) -> DepartmentToken:
    with transaction.atomic():
        locked = DepartmentToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            outbox_write(topic="datahub.token", data={"token": locked.pk, "event": "revoked"}, department_ids=[locked.department_id])
    return locked


def token_touch(*, token: DepartmentToken) -> None:
    """Note when a token was last used, at most once a minute (no hot row under a busy feed)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        DepartmentToken.objects.filter(pk=token.pk).update(last_used_at=now)


# ---- sharing -----------------------------------------------------------------------------------


def access_request_create(*, resource: DataResource, department: Department, purpose: str, by) -> AccessRequest:
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationError({"purpose": _("Say what the data will be used for.")})
    if resource.sharing != DataResource.Sharing.CONDITIONAL:
        raise ValidationError({"resource": _("Only resources shared on conditions are requested.")})
    if resource.owner_id == department.pk:
        raise ValidationError({"resource": _("Your department owns this resource.")})
    try:
        with transaction.atomic():
            request = AccessRequest.objects.create(resource=resource, department=department, purpose=purpose, requested_by=by)
            outbox_write(
                topic="datahub.access_request",
                data={"request": request.pk, "resource": resource.code, "status": request.status},
                department_ids=[resource.owner_id, department.pk],
            )
    except IntegrityError:
        raise ValidationError({"resource": _("Your department already has a pending or approved request for this resource.")}) from None
    return request


class StaleDecision(Conflict):
    """The request was decided by someone else first."""


def access_request_decide(*, request: AccessRequest, approve: bool, note: str = "", by) -> AccessRequest:
    """The owner department approves or rejects a pending request (or revokes an approved one)."""
    if by.department_id != request.resource.owner_id and not by.is_admin_role:
        raise PermissionDenied(_("Only the owner department decides on requests for its resources."))
    with transaction.atomic():
        locked = AccessRequest.objects.select_for_update().select_related("resource").get(pk=request.pk)
        if approve:
            if locked.status != AccessRequest.Status.PENDING:
                raise StaleDecision(_("This request was already decided."))
            locked.status = AccessRequest.Status.APPROVED
        else:
            if locked.status not in (AccessRequest.Status.PENDING, AccessRequest.Status.APPROVED):
                raise StaleDecision(_("This request was already decided."))
            locked.status = (
                AccessRequest.Status.REVOKED if locked.status == AccessRequest.Status.APPROVED else AccessRequest.Status.REJECTED
            )
        locked.decided_by, locked.decided_at, locked.decision_note = by, timezone.now(), (note or "").strip()
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if locked.status == AccessRequest.Status.REVOKED:
            # Reading stops at once: read scopes of the requester's tokens on this resource go away.
            TokenScope.objects.filter(
                token__department_id=locked.department_id, resource_id=locked.resource_id, direction=TokenScope.Direction.READ
            ).delete()
        outbox_write(
            topic="datahub.access_request",
            data={"request": locked.pk, "resource": locked.resource.code, "status": locked.status},
            department_ids=[locked.resource.owner_id, locked.department_id],
        )
    return locked


# ---- catalog -----------------------------------------------------------------------------------


def resource_register(
    *, code: str, name: str, owner: Department, feed: str = DataResource.Feed.GENERIC, schema: dict | None = None,
    description: str = "", key_field: str = "", update_cycle: str = DataResource.Cycle.DAILY,
    sharing: str = DataResource.Sharing.CONDITIONAL,
) -> DataResource:
    """Create or update a catalog entry (idempotent by code). Typed feeds carry their own fixed schema."""
    if feed not in feeds.FEEDS:
        raise ValidationError({"feed": _("Unknown storage.")})
    fixed = feeds.feed_schema(feed)
    schema = fixed if fixed is not None else (schema or {"type": "object"})
    try:
        feeds.check_schema(schema)
    except ValueError as exc:
        raise ValidationError({"schema": _("Not a usable JSON Schema: %(reason)s") % {"reason": exc}}) from None
    if key_field and key_field not in schema.get("properties", {}):
        raise ValidationError({"key_field": _("The key field must be one of the schema's properties.")})
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{1,39}", code or ""):
        raise ValidationError({"code": _("Resource codes are 2 to 40 capital letters, digits, “-” or “_”.")})
    if not (name or "").strip():
        raise ValidationError({"name": _("Give the resource a name.")})
    with transaction.atomic():
        taken = DataResource.objects.select_for_update().filter(code=code).exclude(owner=owner).first()
        if taken is not None:
            raise ValidationError({"code": _("This code is registered by %(owner)s.") % {"owner": taken.owner.name}})
        resource, created = DataResource.objects.update_or_create(
            code=code,
            defaults=dict(
                name=name, owner=owner, feed=feed, schema=schema, description=description, key_field=key_field,
                update_cycle=update_cycle, sharing=sharing,
            ),
        )
        outbox_write(
            topic="datahub.resource", data={"resource": resource.code, "event": "created" if created else "updated"},
            region=owner.region, department_ids=[owner.pk],
        )
    return resource
