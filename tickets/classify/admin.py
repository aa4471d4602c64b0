"""Admin: the model versions with their accuracy (read-only), the synonyms per small class (editable, inline on
the category), the labelled texts."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import CategorySynonyms, ClassifierModel, LabelledText


class SynonymsInline(admin.StackedInline):
    model = CategorySynonyms
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = _("synonyms for category suggestions")


def percent(value) -> str:
    return "—" if value is None else f"{value:.1%}"


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    """Versions are made by training (nightly, or the demo loader), never by hand."""

    list_display = ["version", "trained_at", "is_active", "top1_display", "top3_display", "previous_display", "train_size",
                    "held_size", "classes", "seconds", "acceptance_display"]
    exclude = ["pipeline"]

    def get_queryset(self, request):
        return selectors.with_acceptance(super().get_queryset(request).defer("pipeline"))

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "pipeline"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("top-1 accuracy"), ordering="top1")
    def top1_display(self, obj):
        return percent(obj.top1)

    @admin.display(description=_("top-3 accuracy"), ordering="top3")
    def top3_display(self, obj):
        return percent(obj.top3)

    @admin.display(description=_("active version's top-1 then"))
    def previous_display(self, obj):
        return percent(obj.previous_top1)

    @admin.display(description=_("first suggestion kept"))
    def acceptance_display(self, obj):
        accepted, total = obj.outcomes_accepted, obj.outcomes_total
        return f"{accepted}/{total} ({accepted / total:.0%})" if total else "—"

    def changelist_view(self, request, extra_context=None):
        figures = selectors.acceptance()
        if figures["rate"] is not None:
            messages.info(request, _("First suggestion kept in %(accepted)d of %(total)d new tickets (%(rate)s).") % {
                "accepted": figures["accepted"], "total": figures["total"], "rate": percent(figures["rate"])})
        return super().changelist_view(request, extra_context)


@admin.register(LabelledText)
class LabelledTextAdmin(admin.ModelAdmin):
    list_display = ["category", "held_back", "source", "text"]
    list_filter = ["held_back", "source"]
    search_fields = ["text"]
    raw_id_fields = ["category"]
