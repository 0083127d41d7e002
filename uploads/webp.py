"""Lossy WebP encoding straight from a Pillow picture's pixels, through the libwebp Pillow itself loads.

Pillow's WebP save copies an RGB(A) picture into a 4-byte ARGB picture, which libwebp then turns into YUV, and
muxes the result again: for the large rendition of a 12 MP photo (2048 x 1536) that copy is 12.6 MB, the largest
transient of the whole rendition set, and a fifth of render()'s peak. Here libwebp imports the picture's own rows
into YUV (1.5 bytes a pixel), as libvips does: the same conversion (libwebp's ImportYUVAFromRGBA, the same
encoder settings), so the bytes are the same as Pillow's; docs/benchmarks.md ("## Renditions") has the memory and
time this saves.

The pixels are reached through the Arrow C data interface Pillow exports (`Image.__arrow_c_array__`, a stable ABI),
which it offers only when the rows lie in one block (pictures up to 16 MiB, every rendition). libwebp's structs and
its version check are its public, ABI-versioned API (webp/encode.h). Where anything of this is missing (another
Pillow build, a larger picture), `encode()` answers None and the caller saves with Pillow.
"""

import ctypes
import ctypes.util
import glob
import os
from functools import cache

import PIL
from PIL import Image

# libwebp refuses structs from another major ABI version; any 2.x header has these layouts (webp/encode.h).
_ABI = 0x0200
_PRESET_DEFAULT = 0
# Room after each struct in case a later minor version grows it: libwebp writes the whole of its own size.
_SPARE = 256


class _Config(ctypes.Structure):
    _fields_ = [
        ("lossless", ctypes.c_int),
        ("quality", ctypes.c_float),
        ("method", ctypes.c_int),
        ("settings", ctypes.c_int * 26),  # image_hint ... qmax: left as WebPConfigInit() sets them
        ("spare", ctypes.c_char * _SPARE),
    ]


class _Picture(ctypes.Structure):
    _fields_ = [
        ("use_argb", ctypes.c_int),
        ("colorspace", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("yuv", ctypes.c_void_p * 3),
        ("y_stride", ctypes.c_int),
        ("uv_stride", ctypes.c_int),
        ("a", ctypes.c_void_p),
        ("a_stride", ctypes.c_int),
        ("pad1", ctypes.c_uint32 * 2),
        ("argb", ctypes.c_void_p),
        ("argb_stride", ctypes.c_int),
        ("pad2", ctypes.c_uint32 * 3),
        ("writer", ctypes.c_void_p),
        ("custom_ptr", ctypes.c_void_p),
        ("extra_info_type", ctypes.c_int),
        ("extra_info", ctypes.c_void_p),
        ("stats", ctypes.c_void_p),
        ("error_code", ctypes.c_int),
        ("progress_hook", ctypes.c_void_p),
        ("user_data", ctypes.c_void_p),
        ("pad3", ctypes.c_uint32 * 3),
        ("pad4", ctypes.c_void_p * 2),
        ("pad6", ctypes.c_uint32 * 8),
        ("private", ctypes.c_void_p * 4),
        ("spare", ctypes.c_char * _SPARE),
    ]


class _MemoryWriter(ctypes.Structure):
    _fields_ = [
        ("mem", ctypes.c_void_p),
        ("size", ctypes.c_size_t),
        ("max_size", ctypes.c_size_t),
        ("pad", ctypes.c_uint32),
        ("spare", ctypes.c_char * _SPARE),
    ]


class _ArrowArray(ctypes.Structure):
    pass


_ArrowArray._fields_ = [
    ("length", ctypes.c_int64),
    ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(_ArrowArray))),
    ("dictionary", ctypes.c_void_p),
    ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]

_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def encode(picture: Image.Image, *, quality: float, method: int) -> bytes | None:
    """`picture` (RGB or RGBA) as a lossy WebP, or None where this path is not available and Pillow must save it."""
    library = _library()
    importer = {"RGB": "WebPPictureImportRGBX", "RGBA": "WebPPictureImportRGBA"}.get(picture.mode)
    if library is None or importer is None:
        return None
    try:
        _, array = picture.__arrow_c_array__()
    except ValueError:  # Rows in several blocks (pictures over 16 MiB).
        return None
    return _encoded(library, getattr(library, importer), _pixels(array), picture.size, quality, method)


def _pixels(array: object) -> int:
    """The address of the picture's first row: a fixed-size list (one per pixel) of four bytes, the child's data."""
    exported = ctypes.cast(_capsule_pointer(array, b"arrow_array"), ctypes.POINTER(_ArrowArray)).contents
    return exported.children[0].contents.buffers[1]


def _encoded(
    library: ctypes.CDLL, importer, pixels: int, size: tuple[int, int], quality: float, method: int
) -> bytes | None:
    config, picture, writer = _Config(), _Picture(), _MemoryWriter()
    if not library.WebPConfigInitInternal(ctypes.byref(config), _PRESET_DEFAULT, ctypes.c_float(75), _ABI):
        return None
    config.quality, config.method = quality, method
    if not library.WebPPictureInitInternal(ctypes.byref(picture), _ABI):
        return None
    picture.width, picture.height = size
    library.WebPMemoryWriterInit(ctypes.byref(writer))
    picture.writer = ctypes.cast(library.WebPMemoryWrite, ctypes.c_void_p)
    picture.custom_ptr = ctypes.addressof(writer)
    try:
        if not importer(ctypes.byref(picture), ctypes.c_void_p(pixels), size[0] * 4):
            raise MemoryError("libwebp could not convert the picture to YUV")
        if not library.WebPEncode(ctypes.byref(config), ctypes.byref(picture)):
            raise _failure(picture.error_code)
        return ctypes.string_at(writer.mem, writer.size)
    finally:
        library.WebPPictureFree(ctypes.byref(picture))
        library.WebPMemoryWriterClear(ctypes.byref(writer))


def _failure(code: int) -> Exception:
    if code in (1, 2):  # VP8_ENC_ERROR_OUT_OF_MEMORY, VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY
        return MemoryError("libwebp ran out of memory")
    return OSError(f"libwebp could not encode the picture (error {code})")


@cache
def _library() -> ctypes.CDLL | None:
    """The libwebp Pillow's own WebP plugin uses (the wheel's copy in pillow.libs, else the system's), or None."""
    vendored = os.path.join(os.path.dirname(os.path.dirname(PIL.__file__)), "pillow.libs", "libwebp-*.so*")
    path = next(iter(sorted(glob.glob(vendored))), None) or ctypes.util.find_library("webp")
    if path is None:
        return None
    try:
        library = ctypes.CDLL(path)
    except OSError:
        return None
    library.WebPMemoryWrite.restype = ctypes.c_int
    for name in ("WebPPictureImportRGBX", "WebPPictureImportRGBA"):
        getattr(library, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    return library if library.WebPGetEncoderVersion() >> 16 >= 1 else None
