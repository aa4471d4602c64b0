"""The same offline submission arriving twice at the same moment (the page and the service worker both
sending it) is applied once, and both get the same answer."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from grid.models import CheckIn, MobileSubmission

from .conftest import inside

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_sends_of_one_key_store_one_check_in(worker, grid2):
    p = inside(grid2)
    barrier = threading.Barrier(2)
    answers = []

    def send():
        client = Client()
        client.force_login(worker)
        barrier.wait()
        r = client.post(reverse("field:m-api-checkin"), {"lon": p.x, "lat": p.y}, HTTP_IDEMPOTENCY_KEY="same-key-twice")
        answers.append((r.status_code, r.json()))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert CheckIn.objects.filter(user=worker).count() == 1
    assert MobileSubmission.objects.filter(user=worker, key="same-key-twice").count() == 1
