"""ZIP downloads in Chromium: a selection made in the gallery's toolbar (or, for an attack, a crafted form), the
ZIP's page following the build without a reload (static/js/exports.js), and the link saving a ZIP whose entries are
the originals."""

from __future__ import annotations

import threading
import time
import zipfile

import pytest

from exports import building, lifecycle
from exports.models import ZipJob
from tests.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A crafted selection form, as the gallery's posts it (checkboxes named ids, a submit button with formaction), for
# ids the gallery would never show.
SELECTION_FORM = """(ids) => {
  const form = document.createElement("form");
  form.id = "selection";
  form.method = "post";
  const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
  form.innerHTML = `<input type="hidden" name="csrfmiddlewaretoken" value="${csrf}">` +
    ids.map((id) => `<label><input type="checkbox" name="ids" value="${id}">${id}</label>`).join("") +
    `<button type="submit" formaction="/downloads/">Download as ZIP</button>`;
  document.querySelector("main").append(form);
}"""


def test_a_zip_of_a_few_items_is_started_followed_and_downloaded(
    page, alice, ready_item, queued, monkeypatch, tmp_path
):
    originals = {
        "beach.jpg": b"\xff\xd8" + b"b" * 40_000,
        "notes.pdf": b"%PDF-1.4" + b"n" * 9_000,
        "clip.mp4": b"c" * 30_000,
    }
    items = [ready_item(alice, data, name) for name, data in originals.items()]
    other = ready_item(alice, b"not chosen", "other.jpg")
    # Slow the build down so the page has progress to show: a write every 16 KB, each followed by a pause.
    monkeypatch.setattr(building, "CHUNK", 16 * 1024)
    monkeypatch.setattr(building, "PROGRESS_SECONDS", 0)
    written = lifecycle.progress
    monkeypatch.setattr(lifecycle, "progress", lambda job, **kw: (written(job, **kw), time.sleep(0.6)))

    sign_in(page)
    page.goto("/downloads/")
    page.get_by_test_id("no-exports").wait_for()
    page.goto("/")  # the gallery's selection toolbar
    for item in items:
        page.check(f"input[name=ids][value='{item.id}']")
    assert page.get_by_test_id("selection-count").inner_text() == "3 selected"
    assert not page.is_checked(f"input[name=ids][value='{other.id}']")
    page.get_by_test_id("bulk-zip").click()

    page.wait_for_url("**/downloads/*/")
    (job,) = ZipJob.by_owner.query(str(alice.pk))
    status = page.get_by_test_id("export-status")
    assert status.inner_text().startswith("Queued: 3 items")
    page.evaluate("window.notReloaded = true")
    builder = threading.Thread(target=building.build, args=(job.id,))
    builder.start()
    page.wait_for_function("() => document.querySelector('[data-export-status]').textContent.startsWith('Building')")
    assert 0 <= page.eval_on_selector("[data-export-progress]", "el => el.value") < 100
    builder.join()
    page.get_by_test_id("export-download").wait_for()
    assert status.inner_text().startswith("Ready: 3 items")
    assert page.evaluate("window.notReloaded") is True  # shown by the poller, not by a reload
    assert page.locator("[data-export-progress]").is_hidden()

    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    assert download.value.suggested_filename == job.file_name
    saved = tmp_path / "got.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert sorted(archive.namelist()) == sorted(originals)  # in the gallery's order, newest first
        assert {name: archive.read(name) for name in archive.namelist()} == originals


def test_a_refused_selection_says_why_on_the_page(page, alice, bob, ready_item, queued):
    theirs = ready_item(bob, b"bob's", "bob.jpg")
    sign_in(page)
    page.goto("/downloads/")
    page.evaluate(SELECTION_FORM, [theirs.id])
    page.check(f"input[value='{theirs.id}']")
    page.get_by_role("button", name="Download as ZIP").click()
    error = page.get_by_test_id("export-error")
    assert "1 of the selected items are not in your library" in error.inner_text()
    assert list(ZipJob.by_owner.query(str(alice.pk))) == []
