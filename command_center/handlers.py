"""The HTTP side of the ASGI application: Django's handler, entered once per request from the event loop.

Django's stock ASGIHandler builds an asynchronous middleware chain. With synchronous middleware and views
(all of ours are), every sync-only middleware, every `process_view` hook and the view itself then cross
between the event loop and the request's thread: four round trips for an API POST, about 2 ms of CPU per
request on a small machine. This handler builds the chain as under WSGI and runs it, view included, in
one call on the request's thread. Reading the body, the request signals, sending the response and closing
it (which returns the database connection to the pool) stay Django's own.

An async view still works: Django's synchronous path runs it through async_to_sync.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self):
        super(ASGIHandler, self).__init__()  # BaseHandler: ASGIHandler's own __init__ loads an async chain
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
