"""The production Content-Security-Policy in a real browser: the main pages, doing what they do, break none of it."""

import pytest
from django.test import override_settings

from tests.conftest import jpeg_bytes, process_until_ready, sign_in
from uploads.models import MediaItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Recorded in the page before any of its own scripts run (init scripts are not subject to the page's policy).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture
def csp_page(page):
    complaints = []
    # Chromium reports a broken rule of either policy, and a Permissions-Policy feature it does not know, here.
    policies = ("Content Security Policy", "Permissions-Policy", "Permissions policy")

    def listen(message) -> None:
        if any(name in message.text for name in policies):
            complaints.append(message.text)

    page.on("console", listen)
    page.add_init_script(RECORD_VIOLATIONS)
    with override_settings(CSP_ENABLED=True):
        yield page, complaints


def visit(page, path: str) -> list[str]:
    response = page.goto(path)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "camera=()" in response.headers["permissions-policy"]
    return page.evaluate("window.__violations")


def test_the_main_pages_break_no_rule_of_the_content_security_policy(csp_page, staff, tmp_path):
    page, complaints = csp_page
    violations = visit(page, "/accounts/signup/") + visit(page, "/accounts/login/")
    sign_in(page, "staff")

    # Upload through the page: the XHR POST straight to S3 (connect-src).
    photo = tmp_path / "sunset.jpg"
    photo.write_bytes(jpeg_bytes(900, 600, "orange"))
    violations += visit(page, "/upload/")
    page.fill("input[name=name]", "Sunset")
    page.set_input_files("input[type=file]", str(photo))
    page.click("#upload-button")
    page.wait_for_url("**/uploaded/")
    violations += page.evaluate("window.__violations")
    (item,) = MediaItem.scan()
    process_until_ready(item.object_key)

    # Renditions from S3 signed links (img-src); the favourite toggle's fetch (connect-src) and the selection's script.
    violations += visit(page, "/")
    page.wait_for_function("() => document.querySelector('[data-testid=media-card] img')?.naturalWidth > 0")
    page.get_by_test_id("favourite").click()
    page.locator('[data-favourite][aria-pressed="true"]').wait_for()
    page.get_by_test_id("select").first.click()
    page.get_by_test_id("selection-count").filter(has_text="1 selected").wait_for()
    violations += page.evaluate("window.__violations") + visit(page, f"/media/{item.id}/")

    # A share link, opened and downloaded: the download form is answered by a redirect to S3 (form-action).
    page.get_by_role("button", name="Create link").click()
    shared = page.get_by_test_id("share-url").inner_text()
    violations += page.evaluate("window.__violations") + visit(page, shared)
    with page.expect_download():
        page.get_by_test_id("shared-download").click()
    violations += page.evaluate("window.__violations")

    # To the trash, then the Delete for good button's confirmation (no inline handler).
    violations += visit(page, f"/media/{item.id}/")
    page.get_by_test_id("move-to-trash").click()
    violations += visit(page, "/trash/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("delete-for-good").click()
    assert page.url.endswith("/trash/") and page.get_by_test_id("media-card").count() == 1  # dismissed: kept

    # The avatar widget: a blob: preview, the XHR to S3, the new picture from S3.
    violations += visit(page, "/profile/")
    page.set_input_files("#avatar-file", str(photo))
    page.get_by_test_id("avatar-status").filter(has_text="Done.").wait_for()
    violations += page.evaluate("window.__violations")

    for path in ("/usage/", "/accounts/password/change/", "/admin/", "/admin/media/", f"/admin/media/{item.id}/"):
        violations += visit(page, path)
    assert violations == [] and complaints == []
