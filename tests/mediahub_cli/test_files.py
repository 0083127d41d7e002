"""The uploader's local side: it tells file types as the server does, and reads files a block at a time."""

from __future__ import annotations

import pytest

from mediahub_cli import files
from tests.images import animated_gif, camera_jpeg, encoded, photo, png_header, webp_lossless_header
from uploads import filetypes

HEADS = {
    "jpeg": camera_jpeg().getvalue(),
    "png": png_header(10, 10).getvalue(),
    "gif": animated_gif().getvalue(),
    "webp": webp_lossless_header(10, 10).getvalue(),
    "avif": b"\0\0\0\x1cftypavif\0\0\0\0",
    "heic": b"\0\0\0\x18ftypheic\0\0\0\0",
    "heif": b"\0\0\0\x18ftypmif1\0\0\0\0mif1miaf",
    "heif-avif": b"\0\0\0\x1cftypmif1\0\0\0\0mif1avifmiaf",
    "heic-sequence": b"\0\0\0\x18ftyphevc\0\0\0\0hevcmsf1",
    "mp4": b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom",
    "mov": b"\0\0\0\x14ftypqt  \0\0\0\0",
    "webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81",
    "pdf": b"%PDF-1.7\n",
    "text": b"hello, world\n",
    "html": b"<!doctype html><p>hi",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    "zip": b"PK\x03\x04",
    "empty": b"",
}


@pytest.mark.parametrize("kind", HEADS)
def test_types_are_told_from_the_first_bytes_exactly_as_the_server_tells_them(kind):
    head = HEADS[kind][: filetypes.SNIFF_BYTES]
    assert files.sniff(head) == filetypes.sniff(head)


def test_the_cli_knows_every_type_the_server_accepts(settings):
    told = {files.sniff(head[:64]) for head in HEADS.values()} - {None}
    assert told == set(settings.MEDIA_TYPES)


def test_a_file_body_is_read_a_block_at_a_time_and_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 1000)
    path = tmp_path / "a.jpg"
    data = encoded(photo((200, 100)), "JPEG").getvalue()
    path.write_bytes(data)
    heard: list[int] = []
    reader = files.Reader([b"<head>", (path, 100, 5000), b"<tail>"], heard.append)
    assert len(reader) == 5012
    blocks = iter(lambda: reader.read(700), b"")
    assert b"".join(blocks) == b"<head>" + data[100:5100] + b"<tail>"
    assert max(heard) == 700 and sum(heard) == 5012
    assert max(len(chunk) for chunk in files.chunks(path)) == 1000  # never more than CHUNK in memory


def test_unreadable_empty_and_unaccepted_files_say_why(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "page.html").write_bytes(HEADS["html"])
    with pytest.raises(files.Unsendable, match="The file is empty"):
        files.inspect(tmp_path / "empty.jpg", None)
    with pytest.raises(files.Unsendable, match=r"Not a type mediahub accepts \(text/html\); it accepts JPEG, PNG"):
        files.inspect(tmp_path / "page.html", None)
    # A file whose reading fails whoever reads it (root reads a chmod 0 file): this process's memory at offset 0.
    with pytest.raises(files.Unsendable, match="Cannot read it: Input/output error"):
        files.inspect(files.Path("/proc/self/mem"), None)
