# Pages and API of this app; included at the site root by command_center/urls.py.
from django.urls import path

from . import api, views

app_name = "datahub"

urlpatterns = [
    path("datahub/", views.catalog, name="catalog"),
    path("datahub/tokens/", views.tokens, name="tokens"),
    path("datahub/tokens/<id:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("datahub/requests/<id:pk>/decide/", views.request_decide, name="request-decide"),
    path("datahub/r/<str:code>/", views.resource_detail, name="resource"),
    path("datahub/r/<str:code>/request/", views.request_access, name="request-access"),
    path("api/datahub/resources/", api.ResourceList.as_view(), name="api-resources"),
    path("api/datahub/resources/<str:code>/", api.ResourceDetail.as_view(), name="api-resource"),
    path("api/datahub/resources/<str:code>/batches/", api.BatchPush.as_view(), name="api-batches"),
    path("api/datahub/resources/<str:code>/records/", api.RecordList.as_view(), name="api-records"),
    path("api/datahub/access-requests/", api.AccessRequestList.as_view(), name="api-access-requests"),
    path("api/datahub/access-requests/<id:pk>/decide/", api.AccessRequestDecide.as_view(), name="api-access-request-decide"),
    path("api/datahub/stats/", api.ExchangeStats.as_view(), name="api-stats"),
]
