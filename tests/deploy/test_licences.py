"""deploy.licences against real builds: PyPI's PyAV (the dev virtualenv's) is GPL, and the check says so."""

from __future__ import annotations

import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from deploy import licences

SITE = Path(sysconfig.get_path("purelib"))  # the dev virtualenv's, which has PyPI's PyAV wheel


@pytest.fixture(scope="module")
def pypi_findings() -> list[str]:
    return licences.problems(SITE, sys.executable)


def test_pypi_pyav_is_flagged_for_the_gpl_encoders_its_ffmpeg_loads(pypi_findings):
    found = pypi_findings
    assert any(p.startswith("av.libs/libavcodec-") and " loads libx264-" in p for p in found)
    assert any(p.startswith("av.libs/libavcodec-") and " loads libx265-" in p for p in found)
    assert any(p.startswith("av.libs/libx264-") and p.endswith("a GPL or non-free library ships") for p in found)
    assert "FFmpeg's libavcodec was configured with --enable-libx264, --enable-libx265" in found


def test_a_zip_of_pypi_pyav_fails_the_check(tmp_path):
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((SITE / "av.libs").glob("libavcodec-*")) + sorted((SITE / "av.libs").glob("libx26*")):
            zipped.write(path, f"av.libs/{path.name}")
    with pytest.raises(SystemExit) as refused:
        licences.check(archive, sys.executable)
    assert "would ship GPL or non-free code" in str(refused.value)
    assert "loads libx264-" in str(refused.value)


def test_libraries_are_told_by_name_not_by_a_word_inside_it():
    assert licences.GPL_LIBRARIES.match("libx264-d6533a8d.so.165")
    assert licences.GPL_LIBRARIES.match("libpostproc.so.58")
    assert not licences.GPL_LIBRARIES.match("libavcodec-5e6b81c2.so.62.28.102")
    assert not licences.GPL_LIBRARIES.match("libx26.so")
