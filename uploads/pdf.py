"""A PDF's page count and its first page as the preview, rendered with pypdfium2 (PDFium, Chromium's renderer).

Plain Python: no storage here (processing hands `preview()` a uploads.ranged.RangedOriginal, which PDFium reads in
ranges: the cross-reference table and the first page's objects, not the whole file). Raises imaging.BadMedia, with
a message for the person who sent it, for a PDF that is encrypted, damaged, too large or too slow to render.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import BinaryIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.conf import settings

from uploads import imaging
from uploads.imaging import BadMedia, Rendition
from uploads.ranged import OutOfTime

# A PDF of more pages than this is refused: books run to a few thousand.
MAX_PAGES = 10_000
# PDF's own limit on a page side (ISO 32000, 14,400 units of 1/72 inch: 200 inches). PDFium opens larger ones.
MAX_PAGE_POINTS = 14_400
_LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_PASSWORD: "This PDF is protected by a password; mediahub cannot show encrypted PDFs.",
    pdfium_c.FPDF_ERR_SECURITY: "This PDF is encrypted in a way mediahub cannot read.",
}
_DAMAGED = "This file is not a valid PDF (it is damaged or truncated)."
_PAUSE_CALLBACK = dict(pdfium_c.IFSDK_PAUSE._fields_)["NeedToPauseNow"]


@dataclass
class DocumentResult:
    pages: int
    width: float  # the first page, in points (1/72 inch)
    height: float
    preview: list[Rendition] = field(default_factory=list)
    timings: dict[str, int] = field(default_factory=dict)  # milliseconds: open, render, resize, encode


def preview(fp: BinaryIO, *, renditions: dict | None = None, seconds: float | None = None) -> DocumentResult:
    """The page count and the first page's renditions. The page is rendered with its longest side at the largest
    rendition's size, whatever its size in points, so the bitmap never exceeds that square (2048 px: 16 MB).
    Defaults come from MEDIA_RENDITIONS and MEDIA_PREVIEW_SECONDS (the time to open and render, all told)."""
    specs = settings.MEDIA_RENDITIONS if renditions is None else renditions
    budget = settings.MEDIA_PREVIEW_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + budget
    started = time.perf_counter()
    document = _open(fp, budget)
    try:
        opened = time.perf_counter()
        pages = len(document)
        if pages > MAX_PAGES:
            raise BadMedia(f"This PDF has {pages:,} pages; the limit is {MAX_PAGES:,}.")
        page = _first_page(document)
        width, height = page.get_size()
        _check_size(width, height)
        side = max((spec["size"] for spec in specs.values()), default=1)
        picture = _render(page, side / max(width, height), deadline, budget)
        result = DocumentResult(pages, round(width, 2), round(height, 2))
        result.timings = {"open": _ms(opened - started), "render": _ms(time.perf_counter() - opened)}
        result.preview, made = imaging.render_still(picture, renditions=specs)
        result.timings.update(made)
        return result
    finally:
        document.close()


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _open(fp: BinaryIO, seconds: float) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(fp)
    except pdfium.PdfiumError as exc:
        failure = getattr(fp, "failure", None)
        if isinstance(failure, OutOfTime):
            raise BadMedia(f"This PDF took too long to read (more than {seconds:g} seconds).") from exc
        if failure is not None:
            raise failure from exc  # storage failed, not the file: the caller decides whether to retry
        raise BadMedia(_LOAD_ERRORS.get(exc.err_code, _DAMAGED)) from exc


def _first_page(document: pdfium.PdfDocument) -> pdfium.PdfPage:
    try:
        return document[0]
    except pdfium.PdfiumError as exc:
        raise BadMedia(_DAMAGED) from exc


def _check_size(width: float, height: float) -> None:
    if min(width, height) < 1:
        raise BadMedia("The first page of this PDF has no area.")
    if max(width, height) > MAX_PAGE_POINTS:
        inches = f"{width / 72:,.0f}×{height / 72:,.0f}"
        raise BadMedia(f"The first page of this PDF is {inches} inches; PDF pages are at most 200 inches a side.")


def _render(page: pdfium.PdfPage, scale: float, deadline: float, seconds: float):
    """Render progressively, PDFium asking between page objects whether to pause: past the deadline it pauses
    and the render is abandoned, so a page of millions of paths cannot hold the worker."""
    width, height = max(1, round(page.get_width() * scale)), max(1, round(page.get_height() * scale))
    bitmap = pdfium.PdfBitmap.new_native(width, height, pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
    pause = pdfium_c.IFSDK_PAUSE(version=1)
    pause.NeedToPauseNow = _PAUSE_CALLBACK(lambda _: time.monotonic() > deadline)
    flags = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_LCD_TEXT
    try:
        status = pdfium_c.FPDF_RenderPageBitmap_Start(bitmap, page, 0, 0, width, height, 0, flags, pause)
        while status == pdfium_c.FPDF_RENDER_TOBECONTINUED and time.monotonic() <= deadline:
            status = pdfium_c.FPDF_RenderPage_Continue(page, pause)
    finally:
        pdfium_c.FPDF_RenderPage_Close(page)
    if status == pdfium_c.FPDF_RENDER_TOBECONTINUED:
        raise BadMedia(f"The first page of this PDF took too long to render (more than {seconds:g} seconds).")
    if status != pdfium_c.FPDF_RENDER_DONE:
        raise BadMedia(_DAMAGED)
    return bitmap.to_pil()
