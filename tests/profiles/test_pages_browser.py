import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_through_the_form_shows_the_user_menu(page, alice):
    page.goto("/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    menu = page.get_by_test_id("user-menu")
    menu.wait_for()
    assert "alice" in menu.inner_text()
    page.get_by_test_id("user-menu").locator("summary").click()
    assert page.get_by_role("button", name="Sign out").is_visible()
