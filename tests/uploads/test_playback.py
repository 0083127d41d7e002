import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests import media
from tests.conftest import create_and_upload, post_json
from tests.uploads.test_processing import process
from tests.uploads.test_sharing import path_of, share
from uploads import playback
from uploads.models import MediaItem
from uploads.templatetags.media import duration

pytestmark = pytest.mark.django_db


def ready(client, alice, data: bytes, content_type: str, file_name: str) -> str:
    client.force_login(alice)
    body = create_and_upload(client, data, content_type=content_type, fileName=file_name, name="Clip")
    post_json(client, f"/api/media/{body['id']}/complete")
    process(MediaItem.get(body["id"]))
    return body["id"]


def player_src(page: str) -> str:
    return html.unescape(re.search(r'<video [^>]*src="([^"]+)"', page).group(1))


@pytest.mark.parametrize(
    ("detected", "video_codec", "audio_codec", "plays"),
    [
        ("video/mp4", "h264", "aac", True),
        ("video/mp4", "h264", None, True),
        ("video/webm", "vp9", "opus", True),
        ("video/quicktime", "h264", "aac", True),
        ("video/quicktime", "prores", "pcm_s16le", False),
        ("video/mp4", "hevc", "aac", False),
        ("video/mp4", "h264", "ac3", False),
        ("video/mp4", None, "aac", False),
    ],
)
def test_browsers_play_mp4_h264_and_webm_and_nothing_else(detected, video_codec, audio_codec, plays):
    item = MediaItem(detected_type=detected, video_codec=video_codec, audio_codec=audio_codec)
    assert playback.plays_in_browsers(item) is plays


def test_a_videos_page_plays_it_from_a_signed_link_that_lasts_a_viewing_with_its_facts(client, alice):
    media_id = ready(client, alice, media.video(audio=True), "video/mp4", "clip.mp4")
    page = client.get(f"/media/{media_id}/").content.decode()
    assert 'preload="metadata"' in page and 'poster="' in page
    src = player_src(page)
    query = parse_qs(urlsplit(src).query)
    assert query["X-Amz-Expires"] == [str(playback.PLAYER_URL_SECONDS)]
    assert query["versionId"] == [MediaItem.get(media_id).version_id]
    ranged = requests.get(src, headers={"Range": "bytes=0-99"}, timeout=10)
    assert (ranged.status_code, len(ranged.content), ranged.headers["Content-Type"]) == (206, 100, "video/mp4")
    assert ">0:02</dd>" in page and ">h264 / aac</dd>" in page and "320 × 240" in page and "25 fps" in page
    assert MediaItem.get(media_id).downloads == 0  # playing is not downloading


def test_a_format_browsers_do_not_play_says_it_is_download_only(client, alice):
    media_id = ready(client, alice, media.video("mpeg4", "mov"), "video/quicktime", "clip.mov")
    page = client.get(f"/media/{media_id}/").content.decode()
    assert "<video" not in page
    assert "Browsers do not play this video's format (mpeg4): download it to watch it." in page
    assert "medium.jpg" in page  # the poster still shows


def test_a_share_page_plays_the_video_no_longer_than_the_link_lasts(client, alice):
    media_id = ready(client, alice, media.video("libvpx", "webm"), "video/webm", "clip.webm")
    url = share(client, media_id, expires="1h")
    client.logout()
    page = client.get(path_of(url)).content.decode()
    expires = int(parse_qs(urlsplit(player_src(page)).query)["X-Amz-Expires"][0])
    assert 3500 < expires <= 3600
    assert ">vp8</dd>" in page


def test_a_pdfs_page_shows_its_first_page_and_page_count(client, alice):
    media_id = ready(client, alice, media.pdf(pages=3), "application/pdf", "notes.pdf")
    page = client.get(f"/media/{media_id}/").content.decode()
    assert "medium.jpg" in page and '<dd data-testid="pages">3</dd>' in page
    assert "<video" not in page


@pytest.mark.parametrize(("seconds", "shown"), [(2.0, "0:02"), (65.4, "1:05"), (3725, "1:02:05"), (None, "")])
def test_durations_read_as_players_show_them(seconds, shown):
    assert duration(seconds) == shown
