# Pages and API of this app; included at the site root by command_center/urls.py.
urlpatterns = []
