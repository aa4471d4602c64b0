from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        from org import demo as org_demo

        from . import demo, demo_history

        org_demo.register("tickets", load=demo.load_demo, history=demo_history.load_history)
        from org.cache import forget_on_change
        from org.health import register_check
        from org import workspaces
        from org.models import Role
        from org.permissions import register_action

        from . import calendar, deadlines, selectors
        from .classify import keywords, store, suggest
        from .models import Assignment, CalendarOverride, Category, CategorySynonyms, ClassifierModel
        from .roles import ACTIONS
        from .services import assignment_deadline_reached, assignments_deadline_batch

        for name, roles in ACTIONS.items():
            register_action(name, roles)
        workspaces.register(
            key="dept", label=_("Department workspace"), url_name="tickets:dept-inbox", roles=[Role.DEPARTMENT_STAFF],
            description=_("Sign, handle and reply to the tickets dispatched to your department."),
        )
        workspaces.register(
            key="console", label=_("Dispatcher console"), url_name="tickets:console", roles=[Role.DISPATCHER, Role.DUTY_CHIEF],
            description=_("Open, dispatch, urge and approve the cases at your center."),
        )
        register_check("calendar", calendar.health)
        forget_on_change(Category, lambda category: selectors.category_key(category.pk), uid="tickets.forget.category")
        forget_on_change(CalendarOverride, calendar.OVERRIDES_KEY, uid="tickets.forget.calendar")
        forget_on_change(Category, suggest.CATEGORIES_KEY, keywords.INDEX_KEY, uid="tickets.forget.classifier_categories")
        forget_on_change(CategorySynonyms, keywords.INDEX_KEY, uid="tickets.forget.synonyms")
        forget_on_change(ClassifierModel, store.ACTIVE_KEY, uid="tickets.forget.classifier")
        deadlines.register(
            deadlines.DeadlineKind(
                name="tickets.assignment",
                queryset=lambda: Assignment.objects.filter(state__in=Assignment.ACTIVE, next_scan_at__isnull=False),
                due_field="next_scan_at",
                handle=assignment_deadline_reached,
                handle_batch=assignments_deadline_batch,
                lock_first="ticket",  # every step locks the ticket before its shares (docs/locking.md)
            )
        )
