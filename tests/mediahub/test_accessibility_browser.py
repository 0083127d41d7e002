"""Every kind of page in a real browser, light and dark: axe-core (npm, frontend/node_modules) finds nothing, a
390 px phone never scrolls sideways, the dark scheme is dark, and Escape closes the user menu."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from albums import services as album_services
from albums import sharing as album_sharing
from exports import building
from tests.conftest import ROOT, create_and_upload, jpeg_bytes, post_json, process_until_ready, sign_in
from uploads import sharing
from uploads.models import MediaItem, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def axe_violations(page) -> list[str]:
    """axe-core's violations of every impact on the page as it is now, one line each (rule, impact, where)."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}" for v in found]


@pytest.fixture
def media(alice, bob, staff) -> dict[str, str]:
    """Alice's gallery: a ready photo (with a share link), one still processing, a refused one, and a PDF."""
    client = Client()
    client.force_login(alice)
    ready = create_and_upload(client, jpeg_bytes(900, 600, "orange"), name="Sunset over the bay")["id"]
    post_json(client, f"/api/media/{ready}/complete")
    process_until_ready(MediaItem.get(ready).object_key)
    busy = create_and_upload(client, jpeg_bytes(), name="Still processing")["id"]
    post_json(client, f"/api/media/{busy}/complete")
    pdf = create_and_upload(client, PDF, content_type="application/pdf", fileName="notes.pdf", name="Notes")["id"]
    post_json(client, f"/api/media/{pdf}/complete")
    payload = {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 10, "name": "Never sent"}
    refused = post_json(client, "/api/media/", payload).json()["id"]
    post_json(client, f"/api/media/{refused}/complete")  # nothing was uploaded: refused
    trashed = create_and_upload(client, jpeg_bytes(color="purple"), name="In the trash")["id"]
    post_json(client, f"/api/media/{trashed}/complete")
    client.delete(f"/api/media/{trashed}")  # to the trash
    _, token = sharing.share_create(
        owner_id=str(alice.pk), media_id=ready, expires_at=utcnow() + timedelta(days=1), max_downloads=3
    )
    client.post("/profile/tokens/", {"name": "backup script", "scope": "read"})
    # Albums (issue 13): one with the photo and the PDF, shared with downloads.
    album = album_services.album_create(owner_id=str(alice.pk), name="Summer", description="By the bay")
    album_services.add_items(owner_id=str(alice.pk), album_id=album.id, ids=[ready, pdf])
    _, album_token = album_sharing.share_create(
        owner_id=str(alice.pk), album_id=album.id, expires_at=utcnow() + timedelta(days=1), downloads=True
    )
    # --- ZIP downloads (exports/): one ready (with an item left out), one queued ---
    zipped = post_json(client, "/api/exports", {"ids": [ready, busy]}).json()["id"]
    building.build(zipped)
    post_json(client, "/api/exports", {"ids": [ready]})
    # --- end of ZIP downloads ---
    return {
        "ready": ready,
        "busy": busy,
        "refused": refused,
        "share": f"/s/{token}/",
        "album": f"/albums/{album.id}/",
        "shared album": f"/a/{album_token}/",
        "zip": zipped,
    }


def queue_files(page, tmp_path) -> None:
    """The upload page with a queue: two photos, a PDF and a refused text file."""
    files = []
    for name, data in (("one.jpg", jpeg_bytes()), ("two.jpg", jpeg_bytes(color="navy")), ("doc.pdf", PDF)):
        files.append(tmp_path / name)
        files[-1].write_bytes(data)
    (tmp_path / "notes.txt").write_text("hello")
    page.set_input_files("input[type=file]", [str(f) for f in files] + [str(tmp_path / "notes.txt")])
    page.get_by_test_id("file-row").nth(3).wait_for()


def each_page(page, media, tmp_path):
    """Visits every kind of page, yielding its name once it is shown as a person would see it."""
    page.goto("/accounts/login/")
    yield "login"
    page.goto("/accounts/signup/")
    yield "sign-up"
    sign_in(page, "bob")
    page.goto("/")
    yield "empty gallery"
    page.context.clear_cookies()
    sign_in(page)
    page.goto("/")
    yield "gallery"
    page.get_by_test_id("user-menu").locator("summary").click()
    yield "gallery, user menu open"
    page.goto("/upload/")
    yield "upload"
    queue_files(page, tmp_path)
    yield "upload with a queue"
    page.click("#upload-button")
    page.get_by_test_id("overall").filter(has_text="3 of 3 uploaded").wait_for()
    yield "upload with a finished queue"
    page.goto(f"/media/{media['busy']}/uploaded/")
    yield "upload confirmation"
    page.goto(f"/media/{media['ready']}/")
    yield "detail"
    page.get_by_role("button", name="Create link").click()
    yield "share link created"
    page.goto(f"/media/{media['refused']}/")
    yield "detail of a refused item"
    page.goto("/profile/")
    yield "profile"
    page.get_by_role("button", name="Create token").click()
    yield "token created"
    page.goto("/u/alice/")
    yield "public profile"
    page.goto("/accounts/password/change/")
    yield "password change"
    page.goto("/usage/")
    yield "usage"
    page.goto("/albums/")
    yield "album list"
    page.goto(media["album"])
    yield "album page"
    page.goto("/downloads/")
    yield "downloads"
    page.goto(f"/downloads/{media['zip']}/")
    yield "ZIP download"
    page.goto("/trash/")
    yield "trash"
    page.get_by_test_id("select").first.check()
    yield "trash with a selection"
    page.goto("/trash/empty/")
    yield "empty trash confirmation"
    # --- search (search helper) ---
    page.goto("/?sort=taken")
    yield "gallery by date taken"
    page.goto("/search/?q=sun")
    yield "search results"
    page.goto("/search/?q=sun&from=2026-12-02&to=2026-12-01")
    yield "search refused"
    page.context.clear_cookies()
    page.goto(media["share"])
    yield "share page"
    page.goto(media["shared album"])
    yield "shared album page"
    sign_in(page, "staff")
    page.goto("/admin/")
    yield "admin index"
    page.goto("/admin/media/")
    yield "admin media list"
    page.goto(f"/admin/media/{media['ready']}/")
    yield "admin media detail"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_on_any_page_kind(page, media, tmp_path, scheme):
    page.emulate_media(color_scheme=scheme)
    found, too_wide = {}, []
    for name in each_page(page, media, tmp_path):
        found[name] = axe_violations(page)
        if page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"):
            too_wide.append(name)  # on a desktop's 1280 px too, nothing is wider than the window
    assert len(found) == 32
    assert too_wide == []
    failing = {name: v for name, v in found.items() if v}
    assert not failing, "\n".join(f"{name}: {line}" for name, lines in failing.items() for line in lines)


# The elements whose right edge passes the viewport's: what to fix when a page is too wide.
TOO_WIDE = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5)
  .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}px`)"""


def test_no_page_scrolls_sideways_on_a_390_px_phone(page, media, tmp_path):
    page.set_viewport_size(PHONE)
    widths, found = {}, {}
    for name in each_page(page, media, tmp_path):
        widths[name] = page.evaluate("document.documentElement.scrollWidth"), page.evaluate(TOO_WIDE)
        found[name] = axe_violations(page)
    too_wide = {name: w for name, w in widths.items() if w[0] > PHONE["width"]}
    assert not too_wide, "\n".join(f"{name}: {w}" for name, w in too_wide.items())
    assert not any(found.values()), found  # the phone layout is as accessible as the wide one
    assert {"gallery", "detail", "upload with a queue", "profile", "usage", "share page"} < set(widths)


def background_luminance(page, selector: str) -> float:
    """The relative luminance (WCAG's, 0 black to 1 white) of an element's computed background."""
    rgb = page.eval_on_selector(selector, "(el) => getComputedStyle(el).backgroundColor.match(/\\d+/g).slice(0, 3)")
    linear = [(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4) for c in (int(v) / 255 for v in rgb)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_a_dark_system_scheme_gets_dark_pages_and_a_light_one_light_pages(page, alice):
    sign_in(page)
    page.goto("/usage/")
    page.emulate_media(color_scheme="dark")
    assert background_luminance(page, "body") < 0.02
    assert background_luminance(page, ".card") < 0.03
    page.emulate_media(color_scheme="light")
    assert background_luminance(page, "body") > 0.9
    assert background_luminance(page, ".card") > 0.9


def test_escape_closes_the_user_menu_and_gives_the_focus_back(page, alice):
    sign_in(page)
    menu = page.get_by_test_id("user-menu")
    summary = menu.locator("summary")
    summary.click()
    assert menu.get_attribute("open") is not None
    page.keyboard.press("Escape")
    assert menu.get_attribute("open") is None

    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # into the menu: its first link
    assert page.evaluate("document.activeElement.textContent") == "Profile"
    page.keyboard.press("Escape")
    assert menu.get_attribute("open") is None
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"


def test_the_first_tab_reaches_a_visible_skip_link_to_the_content(page, alice):
    sign_in(page)
    page.goto("/usage/")
    page.keyboard.press("Tab")
    link = page.get_by_role("link", name="Skip to content")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert link.bounding_box()["y"] >= 0  # moved into view when focused
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # :focus-visible
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
