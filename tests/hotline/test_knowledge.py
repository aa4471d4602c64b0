"""Knowledge base: suggestions from jieba tokens over PostgreSQL full text, validity, editing rights."""

import datetime as dt

import pytest
from django.utils import timezone

from hotline import selectors, services
from hotline.models import KnowledgeArticle


@pytest.mark.django_db
def test_suggestions_come_from_segmented_full_text(client, agent):
    client.force_login(agent)
    r = client.get("/api/hotline/kb/suggest/", {"q": "我想问一下居住证在哪里办，要带什么"})
    titles = [a["title"] for a in r.json()["results"]]
    assert titles[0] == "居住证办理流程"
    r = client.get("/api/hotline/kb/suggest/", {"q": "工地夜里施工噪音太大"})
    assert r.json()["results"][0]["title"] in ("夜间施工噪音的规定", "施工扰民的投诉处理")  # both answer it


@pytest.mark.django_db
def test_articles_outside_their_validity_are_not_suggested(agent, editor_agent):
    today = timezone.localdate()
    services.article_save(by=editor_agent, article=None, title="春节期间垃圾清运安排", body="春节期间生活垃圾清运时间调整为每日一次。",
                          category=None, department=None, valid_from=today - dt.timedelta(days=60),
                          valid_until=today - dt.timedelta(days=1))
    assert "春节期间垃圾清运安排" not in [a.title for a in selectors.article_search("春节垃圾清运")]
    assert "春节期间垃圾清运安排" not in [a.title for a in selectors.article_suggestions("春节垃圾清运")]
    assert selectors.article_search("春节垃圾清运", include_invalid=True)[0].title == "春节期间垃圾清运安排"


@pytest.mark.django_db
def test_editing_needs_the_flag_or_the_duty_chief(client, agent, editor_agent, chief):
    data = {"title": "燃气报修电话", "body": "燃气泄漏请立即拨打96777并开窗通风。", "valid_from": "2026-01-01", "is_active": "on"}
    client.force_login(agent)
    assert client.post("/hotline/kb/new/", data).status_code == 403
    assert client.get("/hotline/kb/new/").status_code == 403
    assert not KnowledgeArticle.objects.filter(title="燃气报修电话").exists()
    client.force_login(editor_agent)
    assert client.post("/hotline/kb/new/", data).status_code == 302
    article = KnowledgeArticle.objects.get(title="燃气报修电话")
    assert article.created_by == editor_agent and "燃气" in article.segmented.split()
    client.force_login(chief)
    r = client.post(f"/hotline/kb/{article.pk}/edit/", data | {"body": "燃气泄漏请拨打96777。", "version": article.version})
    assert r.status_code == 302
    article.refresh_from_db()
    assert article.body == "燃气泄漏请拨打96777。" and article.version == 2
    # a stale version is refused and changes nothing
    r = client.post(f"/hotline/kb/{article.pk}/edit/", data | {"body": "旧的", "version": 1})
    assert r.status_code == 400
    article.refresh_from_db()
    assert article.body == "燃气泄漏请拨打96777。"


@pytest.mark.django_db
def test_bad_article_input_writes_nothing(client, editor_agent):
    client.force_login(editor_agent)
    before = KnowledgeArticle.objects.count()
    r = client.post("/hotline/kb/new/", {"title": "x", "body": "y", "valid_from": "2026-05-01", "valid_until": "2026-04-01"})
    assert r.status_code == 400
    assert KnowledgeArticle.objects.count() == before


@pytest.mark.django_db
def test_search_page_lists_matches(client, agent, charlie):
    client.force_login(agent)
    r = client.get("/hotline/kb/", {"q": "停电"})
    assert "停电报修及计划停电查询" in r.content.decode()
    client.force_login(charlie)  # a dispatcher may read the knowledge base
    assert client.get("/hotline/kb/").status_code == 200
