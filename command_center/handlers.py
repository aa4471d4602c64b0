"""The HTTP side of the ASGI application: Django's handler, entered once per request from the event loop.

Django's stock ASGIHandler builds an asynchronous middleware chain. With synchronous middleware and views
(all of ours are), every sync-only middleware, every `process_view` hook and the view itself then cross
between the event loop and a thread: four round trips for an API POST. On top of that it runs each
request's synchronous parts in a thread made for that request (asgiref's ThreadSensitiveContext) and
crosses to it three times: the request_started signal, the view, and closing the response.

This handler reads the body on the event loop as Django does, then makes one call on a thread of its own
pool (settings.HTTP_THREADS threads, reused): request_started, the middleware chain built as under WSGI
with the view, and closing the response, which fires request_finished and returns the database connection
to the pool.
All of a request's database work therefore happens on one thread, as under WSGI. An ordinary response
is closed before the event loop sends its bytes; a streaming one is sent from that same thread through
the loop (async_to_sync), so its iterator runs there too, and closed after.

An async view still works: Django's synchronous path runs it through async_to_sync.
"""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self):
        super(ASGIHandler, self).__init__()  # BaseHandler: ASGIHandler's own __init__ loads an async chain
        self.load_middleware(is_async=False)
        # requests run on these threads, reused; as many as the pool has connections by default, so a few
        # slow uploads or exports leave the others free without requests queueing for a connection
        self.threads = ThreadPoolExecutor(max_workers=settings.HTTP_THREADS, thread_name_prefix="http")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError("Django can only handle ASGI/HTTP connections, not %s." % scope["type"])
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        response = await sync_to_async(self._respond, thread_sensitive=False, executor=self.threads)(scope, body_file, send)
        if response is not None:
            await self.send_response(response, send)

    def _respond(self, scope, body_file, send):
        """On a pool thread: the whole synchronous life of one request. Returns an ordinary response (closed)
        for the loop to send; sends a streaming one itself and returns None."""
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, response = self.create_request(scope, body_file)
            if request is not None:
                response = self.get_response(request)
                response._handler_class = self.__class__
                if isinstance(response, FileResponse):
                    response.block_size = self.chunk_size
            if not response.streaming:
                response.close()
                return response
            if not response.is_async:  # its iterator runs here, a chunk at a time as the loop sends them
                response.streaming_content = _on_this_thread(response.streaming_content)
            try:
                async_to_sync(self.send_response)(response, send)
            finally:
                response.close()
            return None
        finally:
            body_file.close()


async def _on_this_thread(iterator):
    """A synchronous iterator as an asynchronous one whose every step runs on the thread that called
    async_to_sync (thread_sensitive), where the request's database connection lives. Django's stock
    handler would read the whole iterator into memory first."""
    step = sync_to_async(next, thread_sensitive=True)
    iterator, end = iter(iterator), object()
    while (chunk := await step(iterator, end)) is not end:
        yield chunk
