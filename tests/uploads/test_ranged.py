import io

import pytest
from django.conf import settings

from mediahub.aws import client as aws_client
from uploads import storage
from uploads.ranged import OutOfTime, RangedOriginal

KEY = "uploads/7/0123456789abcdef0123456789abcdef/original.mp4"
DATA = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def version() -> str:
    answer = aws_client("s3").put_object(Bucket=settings.UPLOADS_BUCKET, Key=KEY, Body=DATA)
    return answer["VersionId"]


def test_the_emulator_answers_a_range_with_exactly_those_bytes(version):
    assert storage.read_original_range(KEY, 1000, 1010, version) == DATA[1000:1010]
    assert storage.read_original_range(KEY, len(DATA) - 5, len(DATA) + 100, version) == DATA[-5:]
    answer = aws_client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=KEY, Range="bytes=10-19")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert answer["ContentRange"] == f"bytes 10-19/{len(DATA)}"


def test_reads_and_seeks_anywhere_fetching_only_what_is_read_plus_read_ahead(version):
    reader = RangedOriginal(KEY, len(DATA), version_id=version, readahead=4096)
    reader.seek(500_000)
    assert reader.read(10) == DATA[500_000:500_010]
    assert reader.read(100) == DATA[500_010:500_110]  # from the buffer
    assert (reader.requests, reader.bytes_fetched) == (1, 4096)
    assert reader.seek(-20, io.SEEK_END) == len(DATA) - 20
    assert reader.read() == DATA[-20:]
    assert reader.read(5) == b""
    reader.seek(500_000 + 4000)
    assert reader.read(200) == DATA[504_000:504_200]  # the buffer's end, then the rest
    assert reader.requests == 3
    assert reader.bytes_fetched < 3 * 4096 + 200


def test_readinto_fills_a_buffer(version):
    reader = RangedOriginal(KEY, len(DATA), version_id=version)
    target = bytearray(8)
    reader.seek(256)
    assert reader.readinto(target) == 8
    assert bytes(target) == DATA[256:264]


def test_a_read_after_the_deadline_raises(version):
    reader = RangedOriginal(KEY, len(DATA), version_id=version, deadline=0)
    with pytest.raises(OutOfTime):
        reader.read(1)
