import pytest

from tests import media
from tests.conftest import create_and_upload, post_json, sign_in
from tests.uploads.test_processing import process
from uploads.models import MediaItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAY_AND_WATCH = """async () => {
    const video = document.querySelector("video");
    await video.play();
    const started = video.currentTime;
    await new Promise(resolve => setTimeout(resolve, 700));
    return {readyState: video.readyState, started, now: video.currentTime, error: video.error && video.error.code};
}"""
POSTER_WIDTH = """async () => {
    const picture = new Image();
    picture.src = document.querySelector("video").poster;
    await picture.decode();
    return picture.naturalWidth;
}"""


@pytest.mark.parametrize(
    ("data", "content_type", "file_name"),
    [
        (media.video(audio=True, seconds=3), "video/mp4", "clip.mp4"),
        (media.video("libvpx", "webm"), "video/webm", "clip.webm"),
    ],
    ids=["mp4-h264", "webm-vp8"],
)
def test_a_video_shows_its_poster_and_plays(page, client, alice, data, content_type, file_name):
    client.force_login(alice)
    body = create_and_upload(client, data, content_type=content_type, fileName=file_name, name="Clip")
    post_json(client, f"/api/media/{body['id']}/complete")
    process(MediaItem.get(body["id"]))

    sign_in(page)
    page.goto(f"/media/{body['id']}/")
    assert page.evaluate(POSTER_WIDTH) == 320
    page.get_by_role("heading", name="Clip").click()  # a person's gesture: the site's policy allows no autoplay
    played = page.evaluate(PLAY_AND_WATCH)
    assert played["error"] is None
    assert played["readyState"] >= 2
    assert played["now"] > played["started"]
