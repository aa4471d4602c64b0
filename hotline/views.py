"""Pages: the agent console /hotline/, the knowledge base, return visits, and the leaders' figures.
Thin: read through selectors, write through one service, errors shown as messages in Chinese."""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from org.models import Department
from org.permissions import can, get_visible_or_404, require
from tickets.models import Category, Satisfaction

from . import api, selectors, services
from .models import Channel, ContactType, KnowledgeArticle, ReturnVisit


def _show_errors(request, exc: ValidationError) -> None:
    for text in exc.messages:
        messages.error(request, text)


@login_required
def console(request):
    require(request.user, "hotline.take")
    categories = Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent").order_by("kind", "code")
    groups: dict[str, list] = {}
    for c in categories:
        groups.setdefault(c.get_kind_display(), []).append(c)
    return render(request, "hotline/console.html", {
        "channels": Channel.choices,
        "types": ContactType.choices,
        "category_groups": groups.items(),
        "tiles_url": settings.MAP_TILES_URL,
        "may_edit": services.may_edit_articles(request.user),
    })


# ---------------------------------------------------------------------------------------------- knowledge base


class ArticleForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120)
    body = forms.CharField(label=gettext_lazy("Answer"), widget=forms.Textarea(attrs={"rows": 10}))
    category = forms.ModelChoiceField(label=gettext_lazy("Category"), required=False,
                                      queryset=Category.objects.filter(parent__isnull=False, is_active=True))
    department = forms.ModelChoiceField(label=gettext_lazy("Department"), required=False,
                                        queryset=Department.objects.filter(is_active=True))
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=gettext_lazy("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


@login_required
def kb_list(request):
    require(request.user, "hotline.kb_read")
    q = request.GET.get("q", "").strip()[:200]
    may_edit = services.may_edit_articles(request.user)
    if q:
        articles = selectors.article_search(q, limit=30, include_invalid=may_edit)
    else:
        qs = KnowledgeArticle.objects.all() if may_edit else selectors.articles_valid_on(timezone.localdate())
        articles = list(qs.select_related("category", "department").order_by("-updated_at")[:50])
    today = timezone.localdate()
    for a in articles:
        a.valid_now = services._article_valid(a, today)
    return render(request, "hotline/kb_list.html", {"articles": articles, "q": q, "may_edit": may_edit})


@login_required
def kb_edit(request, pk: int | None = None):
    if not services.may_edit_articles(request.user):
        raise PermissionDenied(_("Your role may not edit the knowledge base."))
    article = None
    if pk is not None:
        article = KnowledgeArticle.objects.filter(pk=pk).first()
        if article is None:
            raise Http404(_("Not found, or not within your scope."))
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                saved = services.article_save(
                    by=request.user, article=article, title=d["title"], body=d["body"], category=d["category"],
                    department=d["department"], valid_from=d["valid_from"], valid_until=d["valid_until"],
                    is_active=d["is_active"], version=d["version"],
                )
            except ValidationError as exc:
                _show_errors(request, exc)
            except services.NotPossible as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("The article was saved."))
                return redirect("hotline:kb")
        status = 400
    else:
        initial = {"valid_from": timezone.localdate(), "is_active": True}
        if article is not None:
            initial = {
                "title": article.title, "body": article.body, "category": article.category_id, "department": article.department_id,
                "valid_from": article.valid_from, "valid_until": article.valid_until, "is_active": article.is_active,
                "version": article.version,
            }
        form = ArticleForm(initial=initial)
        status = 200
    return render(request, "hotline/kb_edit.html", {"form": form, "article": article}, status=status)


# ---------------------------------------------------------------------------------------------- return visits


@login_required
def visits(request):
    if not (can(request.user, "hotline.visit") or can(request.user, "hotline.chief_decide")):
        raise PermissionDenied(_("Your role may not do this."))
    due = list(selectors.visits_due_for(request.user)[:100])
    with_chief = list(selectors.visits_with_chief(request.user)[:100])
    for v in due + with_chief:
        v.caller_name, v.caller_phone = selectors.caller_of(v.contact, request.user) if v.contact else ("", "")
    return render(request, "hotline/visits.html", {
        "due": due, "with_chief": with_chief, "satisfaction": Satisfaction.choices,
        "may_visit": can(request.user, "hotline.visit"), "may_decide": can(request.user, "hotline.chief_decide"),
        "now": timezone.now(),
    })


@login_required
@require_POST
def visit_record(request, pk: int):
    require(request.user, "hotline.visit")
    visit = get_visible_or_404(ReturnVisit.objects.all(), request.user, pk=pk)
    try:
        services.return_visit_record(
            visit=visit, by=request.user, satisfaction=request.POST.get("satisfaction", ""),
            note=request.POST.get("note", ""), unsatisfied_to=request.POST.get("unsatisfied_to", "rework"),
        )
    except ValidationError as exc:
        _show_errors(request, exc)
    except services.NotPossible as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The return visit was recorded."))
    return redirect("hotline:visits")


@login_required
@require_POST
def visit_decide(request, pk: int):
    require(request.user, "hotline.chief_decide")
    visit = get_visible_or_404(ReturnVisit.objects.all(), request.user, pk=pk)
    try:
        services.return_visit_chief_decide(
            visit=visit, by=request.user, reopen=request.POST.get("reopen") == "1", note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        _show_errors(request, exc)
    except services.NotPossible as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The decision was recorded."))
    return redirect("hotline:visits")


# ---------------------------------------------------------------------------------------------- figures


@login_required
def kpis(request):
    require(request.user, "hotline.kpis")
    figures, error = None, ""
    try:
        start, end = api.kpi_period(request.GET)
        region = api.kpi_region(request.user, request.GET.get("region"))
        figures = selectors.hotline_kpis(request.user, start=start, end=end, region=region)
    except ValidationError as exc:
        error = " ".join(exc.messages)
        start = end = timezone.now()
    channels = dict(Channel.choices)
    types = dict(ContactType.choices)
    return render(request, "hotline/kpis.html", {
        "figures": figures, "error": error,
        "start": timezone.localtime(start).date(), "end": timezone.localtime(end).date() - dt.timedelta(days=1),
        "by_channel": [(channels.get(k, k), v) for k, v in (figures or {}).get("by_channel", {}).items()],
        "by_type": [(types.get(k, k), v) for k, v in (figures or {}).get("by_type", {}).items()],
    }, status=400 if error else 200)
