"""Reads: the active model's measured accuracy and how often the first suggestion was kept."""

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import ClassifierModel, SuggestionOutcome


def active_model() -> ClassifierModel | None:
    return ClassifierModel.objects.filter(is_active=True).defer("pipeline").first()


def acceptance(*, since: dt.datetime | None = None) -> dict:
    """{"total", "accepted", "rate" (None without outcomes), "by_role": {role: (accepted, total)}} in one query."""
    qs = SuggestionOutcome.objects.all()
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    rows = qs.values("role").annotate(total=Count("id"), accepted=Count("id", filter=Q(accepted=True))).order_by("role")
    by_role = {r["role"]: (r["accepted"], r["total"]) for r in rows}
    total = sum(t for _, t in by_role.values())
    accepted = sum(a for a, _ in by_role.values())
    return {"total": total, "accepted": accepted, "rate": accepted / total if total else None, "by_role": by_role}


def figures(*, since: dt.datetime | None = None) -> dict:
    """What the statistics page shows, rates in percent: {"model": {"version", "top1", "top3"} or None,
    "acceptance": {"total", "accepted", "rate"}} (two queries)."""
    model = active_model()
    kept = acceptance(since=since)
    pct = lambda v: None if v is None else round(v * 100, 1)  # noqa: E731
    return {
        "model": {"version": model.version, "top1": pct(model.top1), "top3": pct(model.top3)} if model else None,
        "acceptance": {"total": kept["total"], "accepted": kept["accepted"], "rate": pct(kept["rate"])},
    }


def _outcomes(*, accepted_only: bool) -> Coalesce:
    qs = SuggestionOutcome.objects.filter(model_version=OuterRef("version"))
    if accepted_only:
        qs = qs.filter(accepted=True)
    count = qs.order_by().values("model_version").annotate(n=Count("id")).values("n")[:1]
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def with_acceptance(qs: QuerySet[ClassifierModel]) -> QuerySet[ClassifierModel]:
    """Model versions annotated with outcomes_total and outcomes_accepted (the tickets whose suggestions each made)."""
    return qs.annotate(outcomes_total=_outcomes(accepted_only=False), outcomes_accepted=_outcomes(accepted_only=True))
