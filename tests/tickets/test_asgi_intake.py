"""Ticket intake through the whole ASGI application as `make run` serves it: session cookie, CSRF, middleware, DRF.

HTTP goes through Django's own WSGI handler, mounted in the ASGI router by a2wsgi."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.conf import settings

from command_center.asgi import application
from tests.conftest import session_cookie
from tickets.models import Ticket, TicketEvent

from .test_api import payload

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = "a" * 32  # Django accepts an unmasked 32-character secret as cookie and header


def _request(method, path, *, cookie="", csrf=True, body=None, key=None):
    headers = [(b"host", b"localhost"), (b"content-type", b"application/json")]
    cookies = [cookie] if cookie else []
    if csrf:
        cookies.append(f"{settings.CSRF_COOKIE_NAME}={CSRF}")
        headers.append((b"x-csrftoken", CSRF.encode()))
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    if key:
        headers.append((b"idempotency-key", key.encode()))

    data = json.dumps(body).encode() if body else b""
    headers.append((b"content-length", str(len(data)).encode()))

    async def go():
        comm = HttpCommunicator(application, method, path, body=data, headers=headers)
        return await comm.get_response(timeout=20)

    response = async_to_sync(go)()
    return response["status"], json.loads(response["body"] or b"null")


def test_http_is_served_by_djangos_wsgi_handler_and_websockets_by_channels():
    from a2wsgi import WSGIMiddleware
    from django.core.handlers.wsgi import WSGIHandler

    from command_center.wsgi import application as wsgi_application

    assert isinstance(application.application_mapping["http"], WSGIMiddleware)
    assert isinstance(wsgi_application, WSGIHandler)
    assert "websocket" in application.application_mapping


def test_intake_through_asgi_creates_once_and_a_retry_returns_the_first(categories, grid1, town_dispatcher):
    cookie = session_cookie(town_dispatcher)
    status, first = _request("POST", "/api/tickets/tickets/", cookie=cookie, body=payload(grid1), key="asgi-1")
    assert status == 201, first
    assert first["number"] and first["state"] == "new"
    status, again = _request("POST", "/api/tickets/tickets/", cookie=cookie, body=payload(grid1), key="asgi-1")
    assert status == 200 and again["id"] == first["id"]
    assert Ticket.objects.filter(idempotency_key="asgi-1").count() == 1
    assert TicketEvent.objects.filter(ticket_id=first["id"], action="created").count() == 1


def test_intake_through_asgi_refuses_without_csrf_or_session_and_writes_nothing(categories, grid1, town_dispatcher):
    cookie = session_cookie(town_dispatcher)
    before = Ticket.objects.count()
    status, body = _request("POST", "/api/tickets/tickets/", cookie=cookie, csrf=False, body=payload(grid1))
    assert status == 403 and "CSRF" in body["detail"]
    status, _ = _request("POST", "/api/tickets/tickets/", body=payload(grid1))
    assert status == 403
    status, body = _request("POST", "/api/tickets/tickets/", cookie=cookie, body=payload(grid1, title=""))
    assert status == 400 and "title" in body
    assert Ticket.objects.count() == before
