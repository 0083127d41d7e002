import io

import pytest
from PIL import Image

from tests import media
from uploads import video
from uploads.imaging import BadMedia


def probe(data: bytes, content_type: str = "video/mp4", **options) -> video.VideoResult:
    return video.probe(io.BytesIO(data), content_type, **options)


def poster(result: video.VideoResult, name: str = "medium") -> Image.Image:
    rendition = next(r for r in result.poster if r.name == name and r.ext == "jpg")
    return Image.open(io.BytesIO(rendition.data))


def close_to(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(colour, expected, strict=True))


@pytest.mark.parametrize(
    ("data", "content_type", "codecs"),
    [
        (media.video(audio=True), "video/mp4", ("h264", "aac")),
        (media.video("libvpx", "webm", audio=True), "video/webm", ("vp8", "opus")),
        (media.video("mpeg4", "mov"), "video/quicktime", ("mpeg4", None)),
        (media.video("libsvtav1", "mp4"), "video/mp4", ("av1", None)),  # decoded by libdav1d: named by its codec
    ],
    ids=["mp4-h264-aac", "webm-vp8-opus", "quicktime-mpeg4", "mp4-av1"],
)
def test_a_video_has_its_facts_and_a_poster_from_a_little_way_in(data, content_type, codecs):
    result = probe(data, content_type)
    assert (result.width, result.height, result.rotation) == (320, 240, 0)
    assert (result.video_codec, result.audio_codec) == codecs
    assert result.duration == pytest.approx(2, abs=0.05)
    assert result.frame_rate == 25
    assert sorted({(r.name, r.ext) for r in result.poster}) == [
        (name, ext) for name in ("large", "medium", "thumb") for ext in ("jpg", "webp")
    ]
    assert poster(result).size == (320, 240)
    assert close_to(poster(result).getpixel((300, 200)), media.LATER)  # not the black first frame


def test_a_poster_is_a_later_keyframe_when_the_video_has_one():
    result = probe(media.video(seconds=4, gop=10))
    assert close_to(poster(result).getpixel((300, 200)), media.LATER)


def test_the_containers_rotation_turns_the_poster_and_swaps_the_dimensions():
    result = probe(media.video(rotation=90))
    assert (result.width, result.height, result.rotation) == (240, 320, 90)
    picture = poster(result)
    assert picture.size == (240, 320)
    # Turned a quarter counterclockwise: the marker in the frame's top left corner is now bottom left.
    assert close_to(picture.getpixel((5, 315)), media.MARKER)
    assert close_to(picture.getpixel((5, 5)), media.LATER)


def test_audio_only_has_duration_and_codec_and_no_poster():
    result = probe(media.audio_only())
    assert (result.audio_codec, result.video_codec, result.width, result.poster) == ("aac", None, None, [])
    assert result.duration == pytest.approx(1, abs=0.05)


def test_a_video_track_without_frames_has_no_poster():
    assert probe(media.empty_video_track()).poster == []


def test_dimensions_declared_by_the_container_give_way_to_the_streams_own():
    result = probe(media.declared_dimensions(media.video(), 30000, 30000))
    assert (result.width, result.height) == (320, 240)


def test_a_picture_over_the_pixel_limit_is_refused_before_decoding():
    with pytest.raises(BadMedia, match=r"320×240 pixels; the limit is 0.05 megapixels"):
        probe(media.video(), max_pixels=50_000)


def test_pictures_that_grow_past_the_limit_midstream_are_never_decoded():
    # The header (and the first SPS) says 64x64; a second SPS two seconds in switches to 2048x2048, over the limit.
    # The facts are the header's, and the decoder itself refuses the big pictures: no poster, nothing killed.
    data = media.growing_video((64, 64), (2048, 2048))
    result = probe(data, max_pixels=1_000_000)
    assert (result.width, result.height, result.video_codec) == (64, 64, "h264")
    assert result.poster == []
    assert probe(data).poster  # under the default limit the same file does get its (big) poster


def test_a_container_of_too_many_streams_is_refused():
    with pytest.raises(BadMedia, match="more than 64 streams"):
        probe(media.video(size=(16, 16), seconds=0.04, video_streams=video.MAX_STREAMS + 6))


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (media.video()[:2000], "video/mp4", "not a valid MP4 video"),
        (b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + b"\xff" * 400, "video/mp4", "not a valid MP4 video"),
        (media.video(), "video/webm", "not a valid WebM video"),
        (media.video("libvpx", "webm"), "video/quicktime", "not a valid QuickTime video"),
    ],
    ids=["truncated", "junk-after-header", "mp4-sniffed-as-webm", "webm-as-quicktime"],
)
def test_a_file_that_is_not_the_container_it_claims_is_refused(data, content_type, message):
    with pytest.raises(BadMedia, match=message):
        probe(data, content_type)
