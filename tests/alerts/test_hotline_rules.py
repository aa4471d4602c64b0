"""Hotline rules at their edges: mean + 3σ, the configured terms, three contacts within seven days."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from alerts.models import RuleKind
from org.models import Region
from hotline.models import Contact
from tickets.models import Category

from .conftest import rule

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)


def contact(*, at, community, category=None, content="小区门口有人占道经营", address="", type="complaint"):
    c = Contact.objects.create(
        channel="phone", type=type, content=content, address=address, location=Point(120.15, 32.05, srid=4326),
        community=community, region_path=community.path, category=category, outcome="new_ticket", due_at=at + dt.timedelta(days=3),
    )
    Contact.objects.filter(pk=c.pk).update(created_at=at)
    return c


@pytest.fixture
def community(city):
    return Region.objects.filter(level=Region.Level.COMMUNITY, path__startswith="329900000000/329902").order_by("code").first()


@pytest.fixture
def category(city):
    return Category.objects.filter(parent__isnull=False).order_by("code").first()


def detect(kind, since=None, until=NOW, **params):
    r = rule(kind)
    return r.detector.detect(r, r.detector.params(params), since=since or until - dt.timedelta(days=1), until=until)


@pytest.mark.parametrize(("today", "flagged"), [(8, False), (9, True)])
def test_surge_above_mean_plus_three_sigma(community, category, today, flagged):
    """28 days alternating 4 and 0 contacts: mean 2, σ 2, threshold 2 + 3·2 = 8; 8 contacts today are not above it, 9 are."""
    for day in range(1, 29):
        for _ in range(4 if day % 2 else 0):
            contact(at=NOW - dt.timedelta(days=day, hours=1), community=community, category=category)
    for i in range(today):
        contact(at=NOW - dt.timedelta(minutes=10 + i), community=community, category=category)
    found = detect(RuleKind.HOTLINE_SURGE)
    assert bool(found) is flagged
    if flagged:
        (f,) = found
        assert f.evidence["mean"] == 2 and f.evidence["sigma"] == 2 and f.evidence["threshold"] == 8
        assert f.subject == f"{community.code}:{category.code}" and f.region_code == community.code


def test_a_quiet_category_needs_the_minimum(community, category):
    for i in range(4):
        contact(at=NOW - dt.timedelta(minutes=5 + i), community=community, category=category)
    assert detect(RuleKind.HOTLINE_SURGE) == []  # 4 > 0 + 3·0 but under min_contacts 5


def test_sensitive_terms(community):
    hit = contact(at=NOW - dt.timedelta(minutes=5), community=community, content="楼道里闻到燃气泄漏的味道，请尽快处理")
    contact(at=NOW - dt.timedelta(minutes=4), community=community, content="路灯不亮")
    (f,) = detect(RuleKind.SENSITIVE_CONTENT)
    assert f.subject == f"contact-{hit.pk}" and f.evidence["terms"] == ["燃气泄漏"]
    assert detect(RuleKind.SENSITIVE_CONTENT, terms=["路灯"])[0].evidence["terms"] == ["路灯"]


def test_wildcards_in_terms_are_literal(community):
    contact(at=NOW - dt.timedelta(minutes=5), community=community, content="完成率100%")
    assert detect(RuleKind.SENSITIVE_CONTENT, terms=["_"]) == []


@pytest.mark.parametrize(("third_after", "flagged"), [(dt.timedelta(days=7), True), (dt.timedelta(days=7, minutes=1), False)])
def test_three_contacts_about_one_address_within_seven_days(community, third_after, flagged):
    first = NOW - dt.timedelta(days=8)
    for offset in (dt.timedelta(0), dt.timedelta(days=2), third_after):
        contact(at=first + offset, community=community, address="春晖路 12 号")
    found = detect(RuleKind.REPEATED_COMPLAINT, since=NOW - dt.timedelta(days=3))
    assert bool(found) is flagged
    if flagged:
        assert found[0].subject == "春晖路12号" and len(found[0].evidence["contacts"]) == 3


def test_praise_is_not_a_complaint(community):
    for i in range(3):
        contact(at=NOW - dt.timedelta(hours=i + 1), community=community, address="春晖路12号", type="praise")
    assert detect(RuleKind.REPEATED_COMPLAINT) == []


def test_a_new_contact_is_detected_at_once(community, django_capture_on_commit_callbacks):
    """hotline's contact_taken signal → alerts.detect_contacts (eager in tests): a sensitive call is an alert right away."""
    from alerts.models import Alert
    from hotline.signals import contact_taken

    with django_capture_on_commit_callbacks(execute=True):
        c = Contact.objects.create(
            channel="phone", type="help", content="邻居说要跳楼，请马上派人", address="春晖路8号", community=community,
            region_path=community.path, outcome="new_ticket", due_at=NOW + dt.timedelta(days=1),
        )
        contact_taken.send(sender=Contact, contact=c)  # what hotline.services.contact_create sends
    alert = Alert.objects.get(subject=f"contact-{c.pk}")
    assert alert.level == "red" and alert.evidence["terms"] == ["跳楼"] and alert.region_path == community.path


def test_contacts_taken_while_a_detection_is_queued_queue_none_and_it_covers_them(community, django_capture_on_commit_callbacks):
    """Kicks coalesce: with a detection queued (the mark set) a new contact queues nothing; the queued one,
    when it runs, clears the mark and raises the alert for that contact too."""
    from django.core.cache import cache

    from alerts.hooks import CONTACTS_PENDING
    from alerts.models import Alert
    from alerts.tasks import detect_contacts

    cache.delete(CONTACTS_PENDING)
    queued_at = timezone.now()
    assert cache.add(CONTACTS_PENDING, 1, timeout=10)  # a detection is queued; it has not started
    with django_capture_on_commit_callbacks(execute=True):
        c = Contact.objects.create(
            channel="phone", type="help", content="楼顶有人说要跳楼", address="春晖路9号", community=community,
            region_path=community.path, outcome="new_ticket", due_at=NOW + dt.timedelta(days=1),
        )
    assert not Alert.objects.filter(subject=f"contact-{c.pk}").exists()  # no detection of its own
    result = detect_contacts(queued_at.isoformat())
    assert cache.get(CONTACTS_PENDING) is None
    assert result["raised"] >= 1 and Alert.objects.filter(subject=f"contact-{c.pk}", level="red").exists()
    # run again over the same window: deduplicated, nothing new
    again = detect_contacts(queued_at.isoformat())
    assert again["raised"] == 0 and Alert.objects.filter(subject=f"contact-{c.pk}").count() == 1
