// The queue on the upload page: one row per file (thumbnail, its own name and caption, status, progress, speed,
// time left, and its buttons) and an overall line. Rows are drawn from Uppy's state, never the other way round.
import { prettyETA } from "@uppy/core/utils";

const ICONS = {
  video: '<path d="M4 6h11v12H4zM15 10l5-3v10l-5-3z"/>',
  pdf: '<path d="M6 3h8l4 4v14H6zM14 3v4h4"/>',
  file: '<path d="M6 3h8l4 4v14H6z"/>',
};

export function humanSize(bytes) {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) {
    bytes /= 1024;
    i++;
  }
  return `${i ? bytes.toFixed(1) : bytes} ${units[i]}`;
}

function icon(type) {
  const kind = type.startsWith("video/") ? "video" : type === "application/pdf" ? "pdf" : "file";
  return `<svg class="file-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><g fill="none" stroke="currentColor" stroke-width="1.6">${ICONS[kind]}</g></svg>`;
}

function field(row, testid, label, value, multiline) {
  const id = `${row.dataset.fileId}-${testid}`.replace(/[^\w-]/g, "_");
  const wrap = document.createElement("div");
  wrap.className = "file-field";
  wrap.innerHTML = `<label for="${id}"></label>${multiline ? `<textarea rows="1" id="${id}"></textarea>` : `<input type="text" id="${id}">`}`;
  wrap.querySelector("label").textContent = label;
  const input = wrap.lastElementChild;
  input.dataset.testid = testid;
  input.value = value;
  return wrap;
}

// Speed over the last seconds, not since the start: after a pause or a resume the average would lie.
class Rate {
  constructor() {
    this.samples = [];
  }
  add(bytes) {
    const now = performance.now();
    this.samples.push([now, bytes]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
  }
  perSecond() {
    if (this.samples.length < 2) return 0;
    const [[t0, b0], [t1, b1]] = [this.samples[0], this.samples[this.samples.length - 1]];
    return t1 > t0 ? Math.max(0, ((b1 - b0) * 1000) / (t1 - t0)) : 0;
  }
  reset() {
    this.samples = [];
  }
}

function timeLeft(remaining, speed) {
  return speed > 0 ? `${prettyETA(remaining / speed)} left` : "";
}

export class QueueView {
  constructor({ list, overall, uppy, onEdit }) {
    this.list = list;
    this.overall = overall;
    this.uppy = uppy;
    this.onEdit = onEdit;
    this.rows = new Map();
    this.rates = new Map();
    this.total = new Rate();
  }

  add(file) {
    const li = document.createElement("li");
    li.className = "file-row";
    li.dataset.fileId = file.id;
    li.dataset.testid = "file-row";
    const preview = file.type.startsWith("image/") && file.data ? `<img alt="" src="${URL.createObjectURL(file.data)}">` : icon(file.type);
    li.innerHTML = `<div class="thumb">${preview}</div><div class="file-main"><div class="file-head"><span class="file-name"></span><span class="hint file-size"></span></div><div class="file-fields"></div><progress max="100" value="0" data-testid="progress"></progress><div class="status hint" data-testid="progress-text" role="status"></div><div class="live-status hint" data-testid="processing-status" role="status"></div></div><div class="file-actions"></div>`;
    li.querySelector(".file-name").textContent = file.name;
    li.querySelector(".file-size").textContent = humanSize(file.size);
    const fields = li.querySelector(".file-fields");
    fields.append(field(li, "file-title", "Name", file.meta.title ?? "", false), field(li, "file-caption", "Caption", file.meta.caption ?? "", true));
    fields.addEventListener("input", (event) => this.onEdit(file.id, event.target.dataset.testid === "file-title" ? "title" : "caption", event.target.value));
    this.list.appendChild(li);
    this.rows.set(file.id, li);
    this.rates.set(file.id, new Rate());
  }

  // A file refused before it was queued (its type or size): a row with the reason, and a way to dismiss it.
  refuse(file, reason) {
    const li = document.createElement("li");
    li.className = "file-row refused";
    li.dataset.testid = "file-row";
    li.innerHTML = `<div class="thumb">${icon(file.type || "")}</div><div class="file-main"><div class="file-head"><span class="file-name"></span></div><div class="status error" data-testid="progress-text" role="status"></div></div><div class="file-actions"><button type="button">Dismiss</button></div>`;
    li.querySelector(".file-name").textContent = file.name;
    li.querySelector(".status").textContent = reason;
    li.querySelector("button").addEventListener("click", () => li.remove());
    this.list.appendChild(li);
  }

  remove(fileId) {
    const li = this.rows.get(fileId);
    li?.querySelector(".thumb img") && URL.revokeObjectURL(li.querySelector(".thumb img").src);
    li?.remove();
    this.rows.delete(fileId);
    this.rates.delete(fileId);
  }

  // After the upload: what the server makes of the file (static/js/live.js follows it), then its thumbnail.
  processed(fileId, item) {
    const li = this.rows.get(fileId);
    const line = li?.querySelector(".live-status");
    if (!line) return;
    const refused = item.status === "rejected" || item.status === "failed";
    line.className = refused ? "live-status error" : "live-status hint";
    line.textContent = item.status === "ready" ? "Ready" : refused ? item.reason || "Failed." : "Processing…";
    const thumb = item.status === "ready" && item.renditions?.thumb;
    if (thumb) {
      const old = li.querySelector(".thumb img");
      if (old?.src.startsWith("blob:")) URL.revokeObjectURL(old.src);
      const img = document.createElement("img");
      img.alt = "";
      img.src = thumb.jpg;
      img.dataset.testid = "processed-thumb";
      li.querySelector(".thumb").replaceChildren(img);
    }
  }

  render() {
    const files = this.uppy.getFiles();
    for (const file of files) if (this.rows.has(file.id)) this.renderRow(file);
    this.renderOverall(files);
  }

  renderRow(file) {
    const li = this.rows.get(file.id);
    const { progress } = file;
    const rate = this.rates.get(file.id);
    const sent = progress.bytesUploaded || 0;
    const running = progress.uploadStarted && !progress.uploadComplete && !file.error && !file.isPaused && !file.isGhost;
    running ? rate.add(sent) : rate.reset();
    const pct = file.size ? Math.floor((sent / file.size) * 100) : 0;
    li.querySelector("progress").value = progress.uploadComplete ? 100 : pct;
    const status = li.querySelector(".status");
    status.className = file.error ? "status error" : "status hint";
    status.textContent = this.statusText(file, pct, sent, rate.perSecond());
    li.classList.toggle("done", Boolean(progress.uploadComplete));
    li.classList.toggle("failed", Boolean(file.error));
    for (const input of li.querySelectorAll(".file-fields input, .file-fields textarea")) input.readOnly = Boolean(progress.uploadComplete);
    this.renderActions(li, file);
  }

  statusText(file, pct, sent, speed) {
    const { progress } = file;
    if (file.error) return file.error;
    if (progress.uploadComplete) return "Done.";
    if (file.isGhost) return `Interrupted at ${pct}%: choose this file again to continue where it stopped.`;
    if (file.isPaused) return `Paused at ${pct}%.`;
    if (!progress.uploadStarted) return "Waiting…";
    if (sent >= file.size) return "Checking…";
    const parts = [`${pct}%`, `${humanSize(sent)} of ${humanSize(file.size)}`];
    if (speed) parts.push(`${humanSize(Math.round(speed))}/s`, timeLeft(file.size - sent, speed));
    return parts.filter(Boolean).join(" · ");
  }

  renderActions(li, file) {
    const { progress } = file;
    const wanted = [];
    if (progress.uploadComplete) {
      const id = file.response?.body?.id;
      if (id) wanted.push(["open", "Open", `/media/${id}/`]);
    } else {
      if (file.error) wanted.push(["retry", "Retry"]);
      else if (progress.uploadStarted && !file.isGhost) wanted.push(file.isPaused ? ["resume", "Resume"] : ["pause", "Pause"]);
      wanted.push(["cancel", progress.uploadStarted ? "Cancel" : "Remove"]);
    }
    const key = wanted.map((w) => w[0]).join(",");
    const box = li.querySelector(".file-actions");
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    box.replaceChildren(
      ...wanted.map(([action, label, href]) => {
        const el = document.createElement(href ? "a" : "button");
        if (href) {
          el.href = href;
          el.className = "button";
        } else el.type = "button";
        el.dataset.action = action;
        el.textContent = label;
        el.setAttribute("aria-label", `${label} ${file.name}`);
        return el;
      }),
    );
  }

  renderOverall(files) {
    if (!files.length) {
      this.overall.textContent = "";
      return;
    }
    const done = files.filter((f) => f.progress.uploadComplete).length;
    const failed = files.filter((f) => f.error).length;
    const total = files.reduce((sum, f) => sum + (f.size || 0), 0);
    const sent = files.reduce((sum, f) => sum + (f.progress.uploadComplete ? f.size : f.progress.bytesUploaded || 0), 0);
    const running = files.some((f) => f.progress.uploadStarted && !f.progress.uploadComplete && !f.error && !f.isPaused);
    running ? this.total.add(sent) : this.total.reset();
    const speed = this.total.perSecond();
    const parts = [`${done} of ${files.length} uploaded`, `${humanSize(sent)} of ${humanSize(total)}`];
    if (failed) parts.push(`${failed} failed`);
    if (running && speed) parts.push(`${humanSize(Math.round(speed))}/s`, timeLeft(total - sent, speed));
    this.overall.textContent = parts.filter(Boolean).join(" · ");
  }
}
