"""A read-only, seekable file over one version of an original in S3, fetched by ranged GETs as it is read.

PyAV (FFmpeg) reads a video's index and then only the packets it decodes; pypdfium2 reads a PDF's cross-reference
table and then the objects of the page it renders. Through this file they fetch those parts, not the whole file:
a 1 GB 4K video costs a few MB (docs/benchmarks.md, "## Video").
"""

from __future__ import annotations

import io
import time

from uploads import storage

# Bytes fetched past what was asked, in one GET: FFmpeg and PDFium ask for a few kB at a time, mostly in order, and
# a round trip to S3 costs more than 256 kB of transfer.
READAHEAD = 256 * 1024


class OutOfTime(Exception):
    """The reader's deadline passed: whatever is reading has used up its time."""


class RangedOriginal(io.RawIOBase):
    """`size` bytes of `key` (the pinned `version_id`), read through a buffer of the last range fetched.

    Counts what it fetches (`bytes_fetched`, `requests`) and the time spent waiting for it (`fetch_seconds`).
    With a `deadline` (time.monotonic()), a read after it raises OutOfTime, so a decoder that keeps reading is
    stopped. A storage error in a read is kept in `failure`: libraries that call back into Python (pypdfium2) may
    swallow it and report a damaged file instead.
    """

    def __init__(
        self,
        key: str,
        size: int,
        *,
        version_id: str | None = None,
        readahead: int | None = None,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.key, self.size, self.version_id = key, size, version_id
        self.readahead = READAHEAD if readahead is None else readahead
        self.deadline = deadline
        self.bytes_fetched = self.requests = 0
        self.fetch_seconds = 0.0
        self.failure: Exception | None = None
        self._pos = 0
        self._buffer, self._buffer_start = b"", 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        stop = self.size if size is None or size < 0 else min(self.size, self._pos + size)
        if stop <= self._pos:
            return b""
        buffered_stop = self._buffer_start + len(self._buffer)
        if not self._buffer_start <= self._pos < buffered_stop:
            self._fetch(self._pos, stop)
        elif stop > buffered_stop:
            self._fetch(buffered_stop, stop, keep_from=self._pos)
        data = self._buffer[self._pos - self._buffer_start : stop - self._buffer_start]
        self._pos += len(data)
        return data

    def _fetch(self, start: int, stop: int, *, keep_from: int | None = None) -> None:
        """Fill the buffer from `start` to at least `stop` (plus read-ahead); keep_from: the buffered tail to keep."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfTime
        stop = min(self.size, max(stop, start + self.readahead))
        started = time.perf_counter()
        try:
            data = storage.read_original_range(self.key, start, stop, self.version_id)
        except Exception as exc:
            self.failure = exc
            raise
        finally:
            self.fetch_seconds += time.perf_counter() - started
        self.bytes_fetched += len(data)
        self.requests += 1
        if keep_from is None:
            self._buffer, self._buffer_start = data, start
        else:
            kept = self._buffer[keep_from - self._buffer_start :]
            self._buffer, self._buffer_start = kept + data, keep_from
