"""A video's player on a page: whether browsers play it, and a link to the original they can stream from."""

from __future__ import annotations

from datetime import datetime

from uploads import storage
from uploads.models import MediaItem, Status, utcnow

# How long a player's link works. The browser fetches ranges with it as the video plays and whenever someone seeks,
# so it must outlast a viewing: three hours covers a feature film watched with pauses. (A download link lasts 60 s:
# it is followed at once.) On a share page it never outlasts the link.
PLAYER_URL_SECONDS = 3 * 3600
# What current Chromium, Firefox and Safari all play, by container: video codecs and audio codecs (FFmpeg's names;
# None: no such stream). QuickTime is MP4's parent format: browsers play it when it holds H.264.
_PLAYABLE = {
    "video/mp4": ({"h264", "vp9", "av1"}, {None, "aac", "mp3", "opus", "flac"}),
    "video/quicktime": ({"h264"}, {None, "aac", "mp3"}),
    "video/webm": ({"vp8", "vp9", "av1"}, {None, "opus", "vorbis"}),
}


def plays_in_browsers(item: MediaItem) -> bool:
    video_codecs, audio_codecs = _PLAYABLE.get(item.detected_type or "", (set(), set()))
    return item.video_codec in video_codecs and item.audio_codec in audio_codecs


def player(item: MediaItem, *, until: datetime | None = None) -> dict | None:
    """For a ready video: {"playable", "url" (None when it does not play), "codecs"}; None for anything else.
    `until`: the link must not work past it (a share link's expiry)."""
    if item.family != "video" or item.status != Status.READY:
        return None
    codecs = " / ".join(codec for codec in (item.video_codec, item.audio_codec) if codec)
    if not plays_in_browsers(item):
        return {"playable": False, "url": None, "codecs": codecs}
    seconds = PLAYER_URL_SECONDS
    if until is not None:
        seconds = max(1, min(seconds, int((until - utcnow()).total_seconds())))
    # A QuickTime file is served as MP4, which it is to a browser: some refuse video/quicktime by its name alone.
    content_type = "video/mp4" if item.detected_type == "video/quicktime" else item.detected_type
    url = storage.stream_url(item.object_key, content_type=content_type, version_id=item.version_id, expires=seconds)
    return {"playable": True, "url": url, "codecs": codecs}
