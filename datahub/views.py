"""Pages of the data hub: the catalog, a resource's card, access requests, department tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from org import permissions

from . import selectors, services
from .models import AccessRequest, DataResource, TokenScope


def _schema_fields(schema: dict) -> list[dict]:
    required = set(schema.get("required", []))
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type", "")
        out.append({
            "name": name,
            "type": " / ".join(kind) if isinstance(kind, list) else kind,
            "required": name in required,
            "description": prop.get("description", ""),
            "enum": "、".join(map(str, prop.get("enum", []))),
        })
    return out


@login_required
def catalog(request):
    permissions.require(request.user, "datahub.view_catalog")
    resources = selectors.catalog_for(request.user)
    q = request.GET.get("q", "").strip()
    sharing = request.GET.get("sharing", "")
    if q:
        resources = resources.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(owner__name__icontains=q))
    if sharing in DataResource.Sharing.values:
        resources = resources.filter(sharing=sharing)
    totals = selectors.resource_totals()
    readable = selectors.readable_ids(request.user.department_id)
    rows = [
        {"resource": r, "today": totals.get(r.pk, {}).get("today", 0), "readable": r.pk in readable} for r in resources
    ]
    pending = selectors.requests_of(request.user).filter(status=AccessRequest.Status.PENDING)
    if request.user.department_id:
        pending = pending.filter(resource__owner_id=request.user.department_id)
    today = timezone.localdate()
    return render(request, "datahub/catalog.html", {
        "rows": rows, "q": q, "sharing": sharing, "sharing_choices": DataResource.Sharing.choices,
        "today": selectors.exchanged_on(today), "total": selectors.exchange_total(),
        "pending": list(pending[:20]),
        "can_tokens": permissions.can(request.user, "datahub.manage_tokens") and request.user.department_id,
    })


@login_required
def resource_detail(request, code):
    permissions.require(request.user, "datahub.view_catalog")
    resource = get_object_or_404(selectors.catalog_for(request.user), code=code)
    user = request.user
    is_owner = user.department_id == resource.owner_id
    requests = selectors.requests_of(user).filter(resource=resource)
    daily = selectors.resource_daily(resource)
    peak = max([d["records"] for d in daily] + [1])
    for d in daily:
        d["height"] = round(100 * d["records"] / peak)
    return render(request, "datahub/resource.html", {
        "resource": resource,
        "fields": _schema_fields(resource.schema),
        "daily": daily,
        "is_owner": is_owner,
        "may_read": selectors.may_read(department_id=user.department_id, resource=resource),
        "may_request": (
            resource.sharing == DataResource.Sharing.CONDITIONAL and not is_owner and user.department_id
            and permissions.can(user, "datahub.request_access")
            and not requests.filter(department_id=user.department_id, status__in=["pending", "approved"]).exists()
        ),
        "requests": list(requests[:50]),
        "batches": list(selectors.batches_of(user, resource)[:20]) if (is_owner or user.is_admin_role) else [],
    })


@login_required
@require_POST
def request_access(request, code):
    permissions.require(request.user, "datahub.request_access")
    resource = get_object_or_404(selectors.catalog_for(request.user), code=code)
    if not request.user.department_id:
        raise PermissionDenied(_("Only a department's data officer asks for data."))
    try:
        services.access_request_create(
            resource=resource, department=request.user.department, purpose=request.POST.get("purpose", ""), by=request.user
        )
        messages.success(request, _("Request sent to %(owner)s.") % {"owner": resource.owner.name})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("datahub:resource", code=resource.code)


@login_required
@require_POST
def request_decide(request, pk):
    permissions.require(request.user, "datahub.decide_access")
    access_request = get_object_or_404(selectors.requests_of(request.user), pk=pk)
    if access_request.resource.owner_id != request.user.department_id and not request.user.is_admin_role:
        raise Http404
    try:
        services.access_request_decide(
            request=access_request, approve=request.POST.get("decision") == "approve", note=request.POST.get("note", ""),
            by=request.user,
        )
        messages.success(request, _("Decision recorded."))
    except services.StaleDecision:
        messages.error(request, _("This request was already decided."))
    return redirect("datahub:resource", code=access_request.resource.code)


def _token_choices(user) -> list[dict]:
    """(resource, direction) pairs a department may put on a token: push its own, read what it may read."""
    readable = selectors.readable_ids(user.department_id)
    out = []
    for resource in DataResource.objects.select_related("owner").order_by("code"):
        if resource.owner_id == user.department_id:
            out.append({"value": f"{resource.pk}:push", "resource": resource, "direction": TokenScope.Direction.PUSH.label})
        if resource.pk in readable:
            out.append({"value": f"{resource.pk}:read", "resource": resource, "direction": TokenScope.Direction.READ.label})
    return out


@login_required
def tokens(request):
    permissions.require(request.user, "datahub.manage_tokens")
    if not request.user.department_id:
        raise PermissionDenied(_("Tokens belong to a department; your account has none."))
    choices = _token_choices(request.user)
    if request.method == "POST":
        allowed = {c["value"]: c for c in choices}
        picked = [allowed[v] for v in request.POST.getlist("scope") if v in allowed]
        scopes = [(c["resource"], c["value"].split(":")[1]) for c in picked]
        try:
            created, secret = services.token_create(
                department=request.user.department, name=request.POST.get("name", ""), scopes=scopes, by=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            # Post/redirect/get: a reload must not create a second token. The secret waits in the
            # session only until the next page shows it once.
            request.session["datahub_new_token"] = {"id": created.pk, "secret": secret}
        return redirect("datahub:tokens")
    shown = request.session.pop("datahub_new_token", None)
    tokens = selectors.tokens_of(request.user)
    created = next((t for t in tokens if shown and t.pk == shown["id"]), None)
    response = render(request, "datahub/tokens.html", {
        "tokens": tokens, "choices": choices, "secret": shown["secret"] if created else None, "created": created,
    })
    response["Cache-Control"] = "no-store"  # the secret is on this page once
    return response


@login_required
@require_POST
def token_revoke(request, pk):
    permissions.require(request.user, "datahub.manage_tokens")
    token = permissions.get_visible_or_404(selectors.tokens_of(request.user), request.user, pk=pk)
    services.token_revoke(token=token, by=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("datahub:tokens")
