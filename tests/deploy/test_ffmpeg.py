"""The package's PyAV (deploy.ffmpeg: an LGPL FFmpeg that only decodes) reads our videos as PyPI's does.

The wheel `make package` built, unpacked as the package holds it, runs uploads/video.py in a fresh process of the
runtime's Python (PyPI's PyAV, in this virtualenv, makes the test videos: it has the encoders). Skipped until the
wheel is built: `.venv/bin/python -m deploy.ffmpeg` (minutes, once) or `make package`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deploy import ffmpeg, licences
from deploy.policy import ROOT
from tests import media

WHEEL = ffmpeg.built()
pytestmark = pytest.mark.skipif(WHEEL is None, reason="the LGPL PyAV is not built: .venv/bin/python -m deploy.ffmpeg")

CHILD = r"""
import io, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import av
from PIL import Image
from uploads import video
assert av.__file__.startswith(sys.argv[1]), av.__file__
out = {"licence": av._core.library_meta["libavcodec"]["license"], "videos": {}}
for name, path, content_type in json.loads(sys.argv[3]):
    with open(path, "rb") as fp:
        result = video.probe(fp, content_type)
    facts = {k: getattr(result, k) for k in ("width", "height", "rotation", "video_codec", "audio_codec", "duration")}
    medium = [r for r in result.poster if r.name == "medium" and r.ext == "jpg"]
    if medium:
        picture = Image.open(io.BytesIO(medium[0].data))
        w, h = picture.size
        facts["poster"] = {"size": [w, h], "inside": picture.getpixel((w * 15 // 16, h * 5 // 6)),
                           "bottom_left": picture.getpixel((5, h - 5))}
    out["videos"][name] = facts
print(json.dumps(out))
"""

VIDEOS = {  # name: (the file, its sniffed type, the codecs it must report)
    "mp4-h264-aac": (lambda: media.video(audio=True), "video/mp4", ("h264", "aac")),
    "mp4-hevc": (lambda: media.video("libx265"), "video/mp4", ("hevc", None)),
    "webm-vp8-opus": (lambda: media.video("libvpx", "webm", audio=True), "video/webm", ("vp8", "opus")),
    "webm-vp9": (lambda: media.video("libvpx-vp9", "webm"), "video/webm", ("vp9", None)),
    "quicktime-mpeg4": (lambda: media.video("mpeg4", "mov"), "video/quicktime", ("mpeg4", None)),
    "mp4-h264-turned": (lambda: media.video(rotation=90), "video/mp4", ("h264", None)),
    # Decoded by dav1d, as with PyPI's wheel, and named by its codec (uploads/video.py), as browsers name it.
    "mp4-av1": (lambda: media.video("libsvtav1"), "video/mp4", ("av1", None)),
}


@pytest.fixture(scope="module")
def lgpl_pyav(tmp_path_factory) -> Path:
    """The wheel unpacked (what installing a wheel amounts to), as the package's av/ and av.libs/."""
    target = tmp_path_factory.mktemp("lgpl-av")
    with zipfile.ZipFile(WHEEL) as wheel:
        wheel.extractall(target)
    for library in (target / "av.libs").iterdir():
        library.chmod(0o755)
    return target


@pytest.fixture(scope="module")
def decoded(lgpl_pyav, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("videos")
    cases = []
    for name, (make, content_type, _) in VIDEOS.items():
        (folder / name).write_bytes(make())
        cases.append((name, str(folder / name), content_type))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mediahub.settings"}
    answer = subprocess.run(
        [sys.executable, "-c", CHILD, str(lgpl_pyav), str(ROOT), json.dumps(cases)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


def close_to(colour: list[int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(colour, expected, strict=True))


def test_the_package_pyav_ships_no_gpl_code_and_its_ffmpeg_says_lgpl(lgpl_pyav, decoded):
    assert licences.problems(lgpl_pyav, sys.executable) == []
    assert decoded["licence"] == "LGPL version 2.1 or later"


@pytest.mark.parametrize("name", [name for name in VIDEOS if name != "mp4-h264-turned"])
def test_the_package_pyav_reads_a_videos_facts_and_poster(decoded, name):
    facts = decoded["videos"][name]
    assert (facts["video_codec"], facts["audio_codec"]) == VIDEOS[name][2]
    assert (facts["width"], facts["height"], facts["rotation"]) == (320, 240, 0)
    assert facts["duration"] == pytest.approx(2, abs=0.05)
    assert facts["poster"]["size"] == [320, 240]
    assert close_to(facts["poster"]["inside"], media.LATER)  # a later frame, not the black first one


def test_the_package_pyav_turns_the_poster_as_the_container_says(decoded):
    facts = decoded["videos"]["mp4-h264-turned"]
    assert (facts["width"], facts["height"], facts["rotation"]) == (240, 320, 90)
    assert facts["poster"]["size"] == [240, 320]
    assert close_to(facts["poster"]["bottom_left"], media.MARKER)
