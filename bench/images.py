"""Photo-like test JPEGs made with Pillow alone (no numpy): smooth light, soft shapes, texture and sensor grain.

Flat or purely random pictures would flatter or punish the JPEG decoder; these mix large smooth areas, hard edges
and fine detail the way a photograph does, so decoding and encoding cost roughly what a camera file costs.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter

# Camera-like sizes between 12 and 16 megapixels, one portrait among them.
PHOTO_SIZES = [(4000, 3000), (4032, 3024), (4240, 2832), (4608, 3456), (4896, 3264), (3456, 4608)]
# Camera files from 12 to 42 megapixels, as phones and cameras write them: stored landscape, with the EXIF
# orientation that turns some upright (6 and 8: held upright), and the camera's EXIF. (size, orientation, model)
CAMERA_PHOTOS = [
    ((4032, 3024), 6, "iPhone 13"),  # 12 MP, held upright: under twice the large size, no DCT scaling helps
    ((4000, 3000), 1, "Pixel 7"),
    ((6000, 4000), 1, "ILCE-7M3"),  # 24 MP
    ((6720, 4480), 8, "EOS R"),  # 30 MP, held upright the other way
    ((7952, 5304), 1, "ILCE-7RM3"),  # 42 MP
]


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A textured RGB picture of `size`. The seed decides the composition; the noise is Pillow's own, unseeded."""
    rng = random.Random(seed)
    # Composition is drawn small and enlarged: it is smooth anyway, and drawing at full size would be slow.
    small = (max(1, size[0] // 8), max(1, size[1] // 8))
    scene = _light(small, rng)
    scene = Image.blend(scene, _shapes(small, rng), 0.55)
    scene = ImageChops.multiply(scene, _clouds(small, rng).convert("RGB"))
    picture = scene.resize(size, Image.Resampling.BICUBIC)
    _edges(picture, rng)
    return _grain(picture, rng)


def write_photo(path: Path, size: tuple[int, int], seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    photo(size, seed).save(path, "JPEG", quality=92)
    return path


def write_camera_jpeg(path: Path, size: tuple[int, int], orientation: int, model: str, seed: int) -> Path:
    """A photo as a camera writes it: quality 92, 4:2:0, EXIF with the make, model, time and orientation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Camera"
    exif[ExifTags.Base.Model] = model
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2024:05:01 12:34:56"
    path.parent.mkdir(parents=True, exist_ok=True)
    photo(size, seed).save(path, "JPEG", quality=92, subsampling="4:2:0", exif=exif.tobytes())
    return path


def _light(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Three gradients at different angles, one per channel, like sky and ground under coloured light."""
    # Rotating a 256-pixel gradient leaves empty corners; its centre half never has any.
    bands = [Image.linear_gradient("L").rotate(rng.uniform(0, 360), Image.Resampling.BILINEAR) for _ in range(3)]
    return Image.merge("RGB", [band.crop((64, 64, 192, 192)).resize(size, Image.Resampling.BILINEAR) for band in bands])


def _shapes(size: tuple[int, int], rng: random.Random) -> Image.Image:
    canvas = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.randrange(25, 60)):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        radius = rng.randrange(size[0] // 40, size[0] // 5)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.6 else draw.rectangle
        shape((x - radius, y - radius // 2, x + radius, y + radius), fill=colour)
    return canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3)))


def _clouds(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Brightness texture at two scales (clouds, foliage): noise, blurred and enlarged, kept bright."""
    layers = []
    for step, blur in ((24, 1.5), (3, 0.8)):
        coarse = Image.effect_noise((max(1, size[0] // step), max(1, size[1] // step)), rng.uniform(50, 90))
        layers.append(coarse.filter(ImageFilter.GaussianBlur(blur)).resize(size, Image.Resampling.BICUBIC))
    return ImageChops.multiply(*layers).point(lambda v: 110 + v * 145 // 255)


def _edges(picture: Image.Image, rng: random.Random) -> None:
    """Hard, thin detail at full resolution: branches, wires, window frames."""
    draw = ImageDraw.Draw(picture)
    width, height = picture.size
    for _ in range(rng.randrange(40, 120)):
        start = (rng.randrange(width), rng.randrange(height))
        end = (start[0] + rng.randrange(-600, 600), start[1] + rng.randrange(-600, 600))
        draw.line([start, end], fill=tuple(rng.randrange(256) for _ in range(3)), width=rng.randrange(1, 6))


def _grain(picture: Image.Image, rng: random.Random) -> Image.Image:
    """Sensor noise and fine texture, which is what makes photographs expensive to compress and decode."""
    noise = Image.effect_noise(picture.size, rng.uniform(30, 60)).convert("RGB")
    return Image.blend(picture, noise, rng.uniform(0.08, 0.16))


if __name__ == "__main__":
    # python bench/images.py OUT.jpg WIDTH HEIGHT SEED: one photo, made in a process of its own.
    out, width, height, seed = sys.argv[1:]
    write_photo(Path(out), (int(width), int(height)), int(seed))
