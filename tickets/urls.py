# Pages and API of this app; included at the site root by command_center/urls.py.
from django.urls import path

app_name = "tickets"
urlpatterns = []
