// Pictures of items: a placeholder until the rendition has loaded, and the same markup for pictures that
// live.js swaps in as the server's templates make (uploads/partials/preview.html, uploads/templatetags/media.py).
//
// The placeholder is the picture's average colour at once, then its ThumbHash (https://evanw.github.io/thumbhash/,
// stored by the server with the renditions) drawn on a canvas under the <img>. The page's CSP admits no inline
// styles and no data: images: the colour is set through the CSSOM and the blurred picture is a canvas, both
// allowed. The <img> keeps its width and height (attributes, or the gallery's square), so nothing moves on load.
(() => {
  // The ThumbHash decoder, from the reference implementation (Evan Wallace, MIT), trimmed to what is drawn here.
  function thumbHashToRGBA(hash) {
    const { PI, min, max, cos, round } = Math;
    const header24 = hash[0] | (hash[1] << 8) | (hash[2] << 16);
    const header16 = hash[3] | (hash[4] << 8);
    const lDc = (header24 & 63) / 63;
    const pDc = ((header24 >> 6) & 63) / 31.5 - 1;
    const qDc = ((header24 >> 12) & 63) / 31.5 - 1;
    const lScale = ((header24 >> 18) & 31) / 31;
    const hasAlpha = header24 >> 23;
    const pScale = ((header16 >> 3) & 63) / 63;
    const qScale = ((header16 >> 9) & 63) / 63;
    const isLandscape = header16 >> 15;
    const lx = max(3, isLandscape ? (hasAlpha ? 5 : 7) : header16 & 7);
    const ly = max(3, isLandscape ? header16 & 7 : hasAlpha ? 5 : 7);
    const aDc = hasAlpha ? (hash[5] & 15) / 15 : 1;
    const aScale = (hash[5] >> 4) / 15;
    const acStart = hasAlpha ? 6 : 5;
    let acIndex = 0;
    const decodeChannel = (nx, ny, scale) => {
      const ac = [];
      for (let cy = 0; cy < ny; cy++)
        for (let cx = cy ? 0 : 1; cx * ny < nx * (ny - cy); cx++, acIndex++)
          ac.push((((hash[acStart + (acIndex >> 1)] >> ((acIndex & 1) << 2)) & 15) / 7.5 - 1) * scale);
      return ac;
    };
    const lAc = decodeChannel(lx, ly, lScale);
    const pAc = decodeChannel(3, 3, pScale * 1.25);
    const qAc = decodeChannel(3, 3, qScale * 1.25);
    const aAc = hasAlpha && decodeChannel(5, 5, aScale);
    const ratio = aspectRatio(hash);
    const w = round(ratio > 1 ? 32 : 32 * ratio);
    const h = round(ratio > 1 ? 32 / ratio : 32);
    const rgba = new Uint8ClampedArray(w * h * 4);
    const fx = [];
    const fy = [];
    for (let y = 0, i = 0; y < h; y++) {
      for (let x = 0; x < w; x++, i += 4) {
        let l = lDc, p = pDc, q = qDc, a = aDc;
        for (let cx = 0, n = max(lx, hasAlpha ? 5 : 3); cx < n; cx++) fx[cx] = cos((PI / w) * (x + 0.5) * cx);
        for (let cy = 0, n = max(ly, hasAlpha ? 5 : 3); cy < n; cy++) fy[cy] = cos((PI / h) * (y + 0.5) * cy);
        for (let cy = 0, j = 0; cy < ly; cy++)
          for (let cx = cy ? 0 : 1, fy2 = fy[cy] * 2; cx * ly < lx * (ly - cy); cx++, j++) l += lAc[j] * fx[cx] * fy2;
        for (let cy = 0, j = 0; cy < 3; cy++)
          for (let cx = cy ? 0 : 1, fy2 = fy[cy] * 2; cx < 3 - cy; cx++, j++) {
            const f = fx[cx] * fy2;
            p += pAc[j] * f;
            q += qAc[j] * f;
          }
        if (hasAlpha)
          for (let cy = 0, j = 0; cy < 5; cy++)
            for (let cx = cy ? 0 : 1, fy2 = fy[cy] * 2; cx < 5 - cy; cx++, j++) a += aAc[j] * fx[cx] * fy2;
        const b = l - (2 / 3) * p;
        const r = (3 * l - b + q) / 2;
        const g = r - q;
        rgba[i] = max(0, 255 * min(1, r));
        rgba[i + 1] = max(0, 255 * min(1, g));
        rgba[i + 2] = max(0, 255 * min(1, b));
        rgba[i + 3] = max(0, 255 * min(1, a));
      }
    }
    return { w, h, rgba };
  }

  function aspectRatio(hash) {
    const header = hash[3];
    const hasAlpha = hash[2] & 0x80;
    const isLandscape = hash[4] & 0x80;
    const lx = isLandscape ? (hasAlpha ? 5 : 7) : header & 7;
    const ly = isLandscape ? header & 7 : hasAlpha ? 5 : 7;
    return lx / ly;
  }

  function thumbHashCanvas(base64) {
    const hash = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const { w, h, rgba } = thumbHashToRGBA(hash);
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    canvas.getContext("2d").putImageData(new ImageData(rgba, w, h), 0, 0);
    return canvas;
  }

  // Colour and blurred picture under a frame's <img> until it has loaded (kept if it fails: better than nothing).
  function paint(frame) {
    const img = frame.querySelector("img");
    if (!img || (img.complete && img.naturalWidth) || frame.dataset.painted) return;
    frame.dataset.painted = "1";
    if (frame.dataset.color) frame.style.backgroundColor = frame.dataset.color;
    let canvas = null;
    if (frame.dataset.thumbhash) {
      try {
        canvas = thumbHashCanvas(frame.dataset.thumbhash);
        canvas.className = "placeholder";
        canvas.dataset.testid = "placeholder";
        canvas.setAttribute("aria-hidden", "true");
        frame.prepend(canvas);
      } catch {
        canvas = null; // a damaged hash: the colour alone
      }
    }
    img.addEventListener(
      "load",
      () => {
        canvas?.remove();
        frame.style.backgroundColor = "";
      },
      { once: true },
    );
  }

  // Mirrors uploads/templatetags/media.py: where a picture is shown -> its sizes and the renditions that may fill it.
  const SLOTS = {
    thumb: ["(max-width: 600px) 46vw, 270px", ["thumb", "medium", "large"]],
    medium: ["(max-width: 700px) 92vw, (max-width: 1200px) 62vw, 740px", ["medium", "large"]],
  };

  function srcset(renditions, slot, ext) {
    const out = [];
    let widest = 0;
    for (const name of SLOTS[slot][1]) {
      const r = renditions[name];
      if (!r || !r[ext]) continue;
      const width = slot === "thumb" ? Math.min(r.width, r.height) : r.width;
      if (width > widest) {
        out.push(`${r[ext]} ${width}w`);
        widest = width;
      }
    }
    return out.join(", ");
  }

  // <span class="frame"><picture><source webp><img jpg></picture></span> for one slot, or null without renditions.
  function picture(item, slot, alt) {
    const main = item.renditions?.[slot];
    if (!main) return null;
    const frame = document.createElement("span");
    frame.className = "frame";
    frame.dataset.color = item.color || "";
    frame.dataset.thumbhash = item.thumbhash || "";
    const pic = document.createElement("picture");
    const source = document.createElement("source");
    source.type = "image/webp";
    source.srcset = srcset(item.renditions, slot, "webp");
    source.sizes = SLOTS[slot][0];
    const img = document.createElement("img");
    img.srcset = srcset(item.renditions, slot, "jpg");
    img.sizes = SLOTS[slot][0];
    img.src = main.jpg;
    img.alt = alt;
    img.width = main.width;
    img.height = main.height;
    pic.append(source, img);
    frame.append(pic);
    paint(frame);
    return frame;
  }

  window.mediahubPictures = { picture, paint };
  for (const frame of document.querySelectorAll(".frame")) paint(frame);
})();
