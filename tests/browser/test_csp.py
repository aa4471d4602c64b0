import pytest

from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_content_security_policy_is_valid_and_leaves_no_console_errors(browser, live_server, city):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    messages = []
    page.on("console", lambda msg: messages.append(msg.text) if msg.type == "error" else None)
    response = page.goto(f"{live_server.url}/login/")
    policy = response.headers["content-security-policy"]
    # a nonce appears only on pages that use one; the bare 'nonce' keyword is invalid CSP
    assert "script-src 'self'" in policy and "'nonce'" not in policy
    page.wait_for_load_state("networkidle")
    screenshot(page, "login-csp")
    assert messages == []
    context.close()
