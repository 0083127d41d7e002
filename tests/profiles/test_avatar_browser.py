import pytest

from tests.conftest import jpeg_bytes, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_change_the_avatar_on_the_profile_page_and_see_it_in_the_navigation(page, alice, tmp_path):
    sign_in(page)
    page.goto("/profile/")
    assert page.get_by_test_id("nav-avatar").locator(".initials").inner_text() == "A"

    picture = tmp_path / "me.jpg"
    picture.write_bytes(jpeg_bytes(500, 400, "crimson"))
    page.set_input_files("#avatar-file", str(picture))
    page.get_by_test_id("avatar-status").filter(has_text="Done.").wait_for()
    nav_img = page.get_by_test_id("nav-avatar").locator("img")
    assert "/64.jpg" in nav_img.get_attribute("src")
    assert nav_img.evaluate("img => img.complete && img.naturalWidth") == 64

    page.goto("/")  # and it stays after a reload
    assert "/64.jpg" in page.get_by_test_id("nav-avatar").locator("img").get_attribute("src")


def test_a_refused_avatar_says_why_in_the_widget(page, alice, tmp_path):
    sign_in(page)
    page.goto("/profile/")
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"<html>not a picture</html>")
    page.set_input_files("#avatar-file", str(fake))
    status = page.get_by_test_id("avatar-status")
    status.filter(has_text="not a type mediahub accepts").wait_for()
