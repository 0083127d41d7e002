"""The upload page's engine (frontend/src/upload/) in headless Chromium against the local stack: a queue of many
files in parallel, files in parts, network loss, reload and resume, pause, retry, cancel, refusals and per-file
names. Bytes go from the browser to moto's server as they would to S3."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from mediahub import aws
from tests import media
from tests.conftest import jpeg_bytes, sign_in
from uploads.models import MediaItem, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIB = 1024**2
ARRIVED = {Status.UPLOADED, Status.READY}  # READY once a test of the session has started the Celery worker


@dataclass
class StorageTraffic:
    """The requests the page sends to the storage endpoint (moto's server here, S3 in production)."""

    in_flight: set = field(default_factory=set)
    most_in_flight: int = 0
    part_puts: list[int] = field(default_factory=list)  # part numbers, in the order their PUTs started
    posts: int = 0

    def started(self, request) -> None:
        self.in_flight.add(request)
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        if request.method == "PUT":
            self.part_puts.append(int(parse_qs(urlsplit(request.url).query)["partNumber"][0]))
        elif request.method == "POST":
            self.posts += 1

    def ended(self, request) -> None:
        self.in_flight.discard(request)


@pytest.fixture
def upload_page(page, alice, live_server, local_aws):
    sign_in(page)
    traffic = StorageTraffic()
    storage = local_aws.endpoint
    page.on("request", lambda r: r.url.startswith(storage) and r.method != "OPTIONS" and traffic.started(r))
    page.on("requestfinished", lambda r: traffic.ended(r))
    page.on("requestfailed", lambda r: traffic.ended(r))
    page.goto("/upload/")
    page.traffic = traffic
    return page


def video_file(path: Path, size: int) -> Path:
    """A real clip padded to `size` (tests/media.py), sparse on disk: big files cost no disk time."""
    return media.write_padded_video(path, size)


def photos(tmp_path: Path, count: int) -> list[Path]:
    colours = ["navy", "olive", "teal", "maroon", "purple"]
    paths = []
    for i in range(count):
        path = tmp_path / f"photo-{i:02}.jpg"
        path.write_bytes(jpeg_bytes(800 + i, 600, colours[i % len(colours)]))
        paths.append(path)
    return paths


def rows(page):
    return page.get_by_test_id("file-row")


def row_of(page, name: str):
    return rows(page).filter(has_text=name)


def wait_for_text(locator, text: str, timeout: float = 60_000) -> None:
    try:
        locator.filter(has_text=text).wait_for(timeout=timeout)
    except Exception:  # say what the rows said instead
        rows = locator.page.get_by_test_id("progress-text").all_inner_texts()
        raise AssertionError(f"never {text!r}; {locator.all_inner_texts()} rows: {rows}") from None


def progress_of(page, name: str) -> int:
    return int(row_of(page, name).get_by_test_id("progress").get_attribute("value"))


def wait_for_progress(page, name: str, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while progress_of(page, name) < at_least:
        assert time.monotonic() < deadline, f"{name} stayed at {progress_of(page, name)}%"
        page.wait_for_timeout(100)


def items_of(alice) -> list[MediaItem]:
    return list(MediaItem.by_owner.query(str(alice.pk)))


def open_multipart_uploads() -> list[dict]:
    return aws.client("s3").list_multipart_uploads(Bucket=settings.UPLOADS_BUCKET).get("Uploads", [])


def test_twenty_photos_go_several_at_once_and_each_row_ends_done(upload_page, alice, tmp_path):
    page = upload_page
    page.set_input_files("input[type=file]", [str(p) for p in photos(tmp_path, 20)])
    assert rows(page).count() == 20
    page.click("#upload-button")
    wait_for_text(page.get_by_test_id("overall"), "20 of 20 uploaded")

    assert page.traffic.most_in_flight > 1
    assert page.traffic.posts == 20
    texts = page.get_by_test_id("progress-text").all_inner_texts()
    assert texts == ["Done."] * 20
    assert sorted(item.file_name for item in items_of(alice)) == [f"photo-{i:02}.jpg" for i in range(20)]


def test_a_photos_row_shows_the_photo_itself_and_other_files_an_icon(upload_page, tmp_path):
    page = upload_page
    [photo] = photos(tmp_path, 1)
    document = tmp_path / "notes.pdf"
    document.write_bytes(media.pdf())
    page.set_input_files("input[type=file]", [str(photo), str(document)])
    width = row_of(page, photo.name).locator(".thumb img").evaluate("img => img.decode().then(() => img.naturalWidth)")
    assert width == 800  # the file's own pixels, read locally before anything is sent
    assert row_of(page, document.name).locator(".thumb svg.file-icon").count() == 1
    assert row_of(page, document.name).locator(".thumb img").count() == 0


def test_files_picked_dropped_and_pasted_join_the_queue_instead_of_replacing_it(upload_page, tmp_path):
    page = upload_page
    first, second = photos(tmp_path, 2)
    page.set_input_files("input[type=file]", str(first))
    page.set_input_files("input[type=file]", [str(second), str(first)])  # the same file again is added once
    add_in_page = """([how, name]) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array([255, 216, 255, 224])], name, { type: "image/jpeg" }));
        if (how === "paste") document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data }));
        const drop = new DragEvent("drop", { dataTransfer: data, bubbles: true });
        if (how === "drop") document.getElementById("dropzone").dispatchEvent(drop);
    }"""
    page.evaluate(add_in_page, ["drop", "dropped.jpg"])
    page.evaluate(add_in_page, ["paste", "pasted.jpg"])
    page.get_by_test_id("file-row").nth(3).wait_for()
    names = rows(page).locator(".file-name").all_inner_texts()
    assert names == [first.name, second.name, "dropped.jpg", "pasted.jpg"]


def test_each_file_gets_its_own_name_and_caption_and_the_batch_fills_the_rest(upload_page, alice, tmp_path):
    page = upload_page
    paths = photos(tmp_path, 3)
    page.set_input_files("input[type=file]", [str(p) for p in paths])
    second = row_of(page, paths[1].name)
    second.get_by_test_id("file-title").fill("The harbour")
    second.get_by_test_id("file-caption").fill("At dawn")
    page.fill("textarea[name=caption]", "Summer 2026")
    page.click("#upload-button")
    wait_for_text(page.get_by_test_id("overall"), "3 of 3 uploaded")

    found = {item.file_name: (item.name, item.caption) for item in items_of(alice)}
    assert found == {
        paths[0].name: (paths[0].name, "Summer 2026"),
        paths[1].name: ("The harbour", "At dawn"),
        paths[2].name: (paths[2].name, "Summer 2026"),
    }


def test_a_name_edited_while_uploading_is_saved_when_the_file_arrives(upload_page, alice, tmp_path):
    page = upload_page
    video = video_file(tmp_path / "clip.mp4", 80 * MIB)
    page.set_input_files("input[type=file]", str(video))
    page.click("#upload-button")
    wait_for_progress(page, video.name, 5)
    row_of(page, video.name).get_by_test_id("file-title").fill("Renamed while uploading")
    page.wait_for_url("**/uploaded/", timeout=120_000)
    assert [item.name for item in items_of(alice)] == ["Renamed while uploading"]


def test_apply_to_all_overwrites_every_waiting_file(upload_page, alice, tmp_path):
    page = upload_page
    paths = photos(tmp_path, 2)
    page.set_input_files("input[type=file]", [str(p) for p in paths])
    row_of(page, paths[0].name).get_by_test_id("file-title").fill("Mine")
    page.fill("input[name=name]", "Holiday")
    page.click("#apply-to-all")
    assert rows(page).get_by_test_id("file-title").evaluate_all("els => els.map(e => e.value)") == ["Holiday"] * 2


def test_refused_files_show_their_reason_in_their_row_while_the_others_go_on(upload_page, alice, tmp_path):
    page = upload_page
    good = photos(tmp_path, 2)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    fake = tmp_path / "fake.jpg"  # declared a JPEG by its name; its bytes are not one
    fake.write_bytes(b"this is not a picture at all" * 100)
    page.set_input_files("input[type=file]", [str(good[0]), str(notes), str(fake), str(good[1])])
    assert "text/plain are not accepted" in row_of(page, "notes.txt").inner_text()
    page.click("#upload-button")
    wait_for_text(page.get_by_test_id("overall"), "2 of 3 uploaded")
    wait_for_text(row_of(page, "fake.jpg").get_by_test_id("progress-text"), "not a type mediahub accepts")

    assert row_of(page, "fake.jpg").get_by_role("button", name="Retry fake.jpg").is_visible()
    statuses = {item.file_name: item.status for item in items_of(alice)}
    assert statuses.pop("fake.jpg") == Status.REJECTED
    assert statuses.keys() == {good[0].name, good[1].name} and set(statuses.values()) <= ARRIVED


def test_a_file_in_parts_survives_a_reload_sends_under_a_quarter_again_and_becomes_ready(
    upload_page, alice, tmp_path, celery_worker
):
    page = upload_page
    size = 300 * MIB
    video = video_file(tmp_path / "holiday.mp4", size)
    page.set_input_files("input[type=file]", str(video))
    page.click("#upload-button")
    wait_for_progress(page, video.name, 50, timeout=120)
    before = set(page.traffic.part_puts)
    assert len(before) >= 10  # of 19 parts: the reload comes half way

    page.reload()
    wait_for_text(row_of(page, video.name), "choose this file again")
    page.traffic.part_puts.clear()
    page.set_input_files("input[type=file]", str(video))
    page.wait_for_url("**/uploaded/", timeout=180_000)

    part_size = settings.MULTIPART_PART_SIZE
    resent = sum(min(part_size, size - (n - 1) * part_size) for n in set(page.traffic.part_puts) & before)
    assert resent < size / 4
    assert open_multipart_uploads() == []
    [item] = items_of(alice)
    assert int(item.size) == size
    deadline = time.monotonic() + 120
    while MediaItem.get(item.id).status != Status.READY:
        assert time.monotonic() < deadline, MediaItem.get(item.id).status
        time.sleep(0.5)


# Golden Retriever saves the queue (IndexedDB "uppy-blobs", store "metadata", one JSON record) at most every
# 500 ms: whether that record holds `count` files started.
SAVED_AS_STARTED = """async (count) => {
  const db = await new Promise((ok, fail) => {
    const open = indexedDB.open("uppy-blobs");
    open.onsuccess = () => ok(open.result);
    open.onerror = () => fail(open.error);
  });
  if (!db.objectStoreNames.contains("metadata")) return false;
  const records = await new Promise((ok) => {
    const all = db.transaction(["metadata"]).objectStore("metadata").getAll();
    all.onsuccess = () => ok(all.result);
  });
  db.close();
  return records.some((r) => Object.values(JSON.parse(r.metadata).files || {})
    .filter((f) => f.progress && f.progress.uploadStarted).length === count);
}"""


@pytest.mark.xfail(
    reason="Known bug, not yet diagnosed: in the full suite (twice, PostgreSQL) the two restored files came back "
    "'Waiting…' and did not continue by themselves, though the saved queue held both as started; alone the test "
    "passes. Pressing Upload sends them. Kept running so the fix shows as XPASS.",
    strict=False,
)
def test_small_files_cut_off_by_a_reload_come_back_whole_and_finish_by_themselves(
    upload_page, alice, local_aws, tmp_path
):
    page = upload_page
    held = []  # the storage POSTs of the first page, never answered: the reload cuts them off

    def hold_posts(route):
        held.append(route) if route.request.method == "POST" else route.continue_()

    page.route(f"{local_aws.endpoint}/**", hold_posts)
    files = photos(tmp_path, 2)
    page.set_input_files("input[type=file]", [str(path) for path in files])
    page.click("#upload-button")
    deadline = time.monotonic() + 30
    while len(held) < 2:
        assert time.monotonic() < deadline, f"{len(held)} of 2 uploads started"
        page.wait_for_timeout(100)
    page.unroute(f"{local_aws.endpoint}/**")
    # A reload before the queue is saved brings the files back as not yet started ("Waiting…", the Upload button
    # to press again): reload once both are saved as started.
    page.wait_for_function(SAVED_AS_STARTED, arg=2)
    created = {item.id for item in items_of(alice)}
    assert len(created) == 2 and {item.status for item in items_of(alice)} == {Status.PENDING}

    page.reload()  # nothing is chosen again: the files come back from the browser's storage
    wait_for_text(page.get_by_test_id("overall"), "2 of 2 uploaded")
    assert page.get_by_test_id("progress-text").all_inner_texts() == ["Done."] * 2
    # A cut-off POST cannot be continued (its policy was never stored): its pending item is deleted and the file
    # sent again under a new one, so no "pending" duplicate is left behind in the gallery.
    after = items_of(alice)
    assert len(after) == 2 and not {item.id for item in after} & created
    assert {item.status for item in after} <= ARRIVED
    assert sorted(item.file_name for item in after) == [path.name for path in files]


def test_a_network_loss_mid_upload_recovers_by_itself(upload_page, alice, tmp_path):
    page = upload_page
    video = video_file(tmp_path / "offline.mp4", 120 * MIB)
    page.set_input_files("input[type=file]", str(video))
    page.click("#upload-button")
    wait_for_progress(page, video.name, 20)
    page.context.set_offline(True)
    sent = len(page.traffic.part_puts)
    page.wait_for_timeout(3000)
    assert len(page.traffic.part_puts) == sent and progress_of(page, video.name) < 100  # nothing gets out
    page.context.set_offline(False)
    page.wait_for_url("**/uploaded/", timeout=120_000)
    [item] = items_of(alice)
    assert int(item.size) == 120 * MIB and item.status in ARRIVED


def test_pause_stops_the_bytes_and_resume_continues_from_the_parts_stored(upload_page, alice, tmp_path):
    page = upload_page
    video = video_file(tmp_path / "paused.mp4", 120 * MIB)
    page.set_input_files("input[type=file]", str(video))
    page.click("#upload-button")
    wait_for_progress(page, video.name, 30)
    assert re.search(
        r"\d+% · [\d.]+ MB of 120\.0 MB · [\d.]+ [MKG]B/s · \w+ left", row_of(page, video.name).inner_text()
    )
    assert re.search(
        r"0 of 1 uploaded · [\d.]+ MB of 120\.0 MB · [\d.]+ [MKG]B/s", page.get_by_test_id("overall").inner_text()
    )
    page.get_by_role("button", name=f"Pause {video.name}").click()
    wait_for_text(row_of(page, video.name), "Paused at")
    sent = len(page.traffic.part_puts)
    page.wait_for_timeout(1500)
    assert len(page.traffic.part_puts) == sent

    page.get_by_role("button", name=f"Resume {video.name}").click()
    page.wait_for_url("**/uploaded/", timeout=120_000)
    parts = page.traffic.part_puts
    assert len(parts) - len(set(parts)) <= 6  # only parts in flight at the pause (or retried) went twice


def test_cancel_leaves_no_item_and_no_parts(upload_page, alice, tmp_path):
    page = upload_page
    video = video_file(tmp_path / "cancelled.mp4", 120 * MIB)
    page.set_input_files("input[type=file]", str(video))
    page.click("#upload-button")
    wait_for_progress(page, video.name, 20)
    page.get_by_role("button", name=f"Cancel {video.name}").click()
    assert rows(page).count() == 0

    deadline = time.monotonic() + 10
    while items_of(alice) or open_multipart_uploads():
        assert time.monotonic() < deadline, (items_of(alice), open_multipart_uploads())
        time.sleep(0.2)
    assert aws.client("s3").list_objects_v2(Bucket=settings.UPLOADS_BUCKET).get("KeyCount") == 0


def test_storage_errors_are_retried_by_themselves_and_by_hand(upload_page, alice, tmp_path, local_aws):
    page = upload_page
    first, second = photos(tmp_path, 2)
    failures = {"left": 2}

    def flaky(route):  # two 503s, then the real storage: the automatic backoff gets through
        if route.request.method == "POST" and failures["left"]:
            failures["left"] -= 1
            return route.fulfill(status=503, body="SlowDown")
        return route.continue_()

    page.route(re.compile(re.escape(local_aws.endpoint) + ".*"), flaky)
    page.set_input_files("input[type=file]", [str(first), str(second)])
    page.click("#upload-button")
    wait_for_text(page.get_by_test_id("overall"), "2 of 2 uploaded")
    assert failures["left"] == 0
    page.unroute_all()

    third = tmp_path / "third.jpg"
    third.write_bytes(jpeg_bytes(640, 480, "red"))
    page.route(re.compile(re.escape(local_aws.endpoint) + ".*"), lambda route: route.fulfill(status=403, body="Denied"))
    page.set_input_files("input[type=file]", str(third))
    page.click("#upload-button")
    wait_for_text(row_of(page, third.name).get_by_test_id("progress-text"), "403")
    page.unroute_all()
    page.get_by_role("button", name=f"Retry {third.name}").click()
    wait_for_text(page.get_by_test_id("overall"), "3 of 3 uploaded")
    assert sorted(item.file_name for item in items_of(alice) if item.status in ARRIVED) == sorted(
        [first.name, second.name, third.name]
    )


def test_leaving_the_page_while_uploading_asks_first(upload_page, tmp_path):
    page = upload_page
    video = video_file(tmp_path / "leaving.mp4", 120 * MIB)
    page.set_input_files("input[type=file]", str(video))
    page.click("#upload-button")
    wait_for_progress(page, video.name, 5)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Gallery").click()
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert page.url.endswith("/upload/")
