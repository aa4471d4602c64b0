# Pages and API of this app; included at the site root by command_center/urls.py.
from django.urls import path, re_path

from . import api, open311, views

app_name = "hotline"

FMT = r"\.(?P<fmt>\w+)$"

urlpatterns = [
    path("hotline/", views.console, name="console"),
    path("hotline/kb/", views.kb_list, name="kb"),
    path("hotline/kb/new/", views.kb_edit, name="kb-new"),
    path("hotline/kb/<id:pk>/edit/", views.kb_edit, name="kb-edit"),
    path("hotline/visits/", views.visits, name="visits"),
    path("hotline/visits/<id:pk>/record/", views.visit_record, name="visit-record"),
    path("hotline/visits/<id:pk>/decide/", views.visit_decide, name="visit-decide"),
    path("hotline/kpis/", views.kpis, name="kpis"),
    path("api/hotline/geocode/", api.geocode, name="api-geocode"),
    path("api/hotline/locate/", api.locate_point, name="api-locate"),
    path("api/hotline/kb/suggest/", api.kb_suggest, name="api-kb-suggest"),
    path("api/hotline/duplicates/", api.duplicates, name="api-duplicates"),
    path("api/hotline/caller-history/", api.caller_history, name="api-caller-history"),
    path("api/hotline/routing/", api.routing, name="api-routing"),
    path("api/hotline/contacts/", api.contacts, name="api-contacts"),
    path("api/hotline/contacts/<id:pk>/", api.contact_detail, name="api-contact"),
    path("api/hotline/visits/<id:pk>/record/", api.visit_record, name="api-visit-record"),
    path("api/hotline/kpis/", api.kpis, name="api-kpis"),
    re_path(r"^open311/v2/discovery" + FMT, open311.discovery, name="open311-discovery"),
    re_path(r"^open311/v2/services" + FMT, open311.service_list, name="open311-services"),
    re_path(r"^open311/v2/services/(?P<code>[\w-]+)" + FMT, open311.service_definition, name="open311-service"),
    re_path(r"^open311/v2/requests" + FMT, open311.requests_, name="open311-requests"),
    re_path(r"^open311/v2/requests/(?P<request_id>[^/.]+)" + FMT, open311.request_detail, name="open311-request"),
    re_path(r"^open311/v2/tokens/(?P<token>[^/.]+)" + FMT, open311.token, name="open311-token"),
    re_path(r"^open311/v2(?P<path>/.*)?$", open311.unknown_path, name="open311-unknown"),
]
