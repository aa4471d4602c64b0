"""The ASGI entry point `make run` serves: HTTP through Django's own WSGI handler, websockets through Channels.

One origin for the browser: a2wsgi runs the WSGI application (the one gunicorn serves in production) on a
pool of threads inside the ASGI server, and Channels takes the /ws/ connections.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_center.settings.dev")

from command_center.wsgi import application as wsgi_application  # noqa: E402  (sets Django up first)

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from dashboard.routing import websocket_urlpatterns  # noqa: E402
from realtime.security import SameOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WSGIMiddleware(wsgi_application, workers=settings.HTTP_THREADS),
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
