// ZIP downloads: each ZIP on the page that is not final yet (queued, building) follows its job at
// GET /api/exports/<id> and shows its progress, then the link or the reason, without a reload.
//
// Polls start a second apart and back off to ten seconds while nothing changes (any change starts again at a
// second), as static/js/live.js does for media; nothing is polled while the tab is hidden or once every ZIP on
// the page is final.
(() => {
  const FINAL = new Set(["ready", "failed", "expired"]);
  const FIRST = 1000;
  const GROWTH = 1.5;
  const SLOW = 10000;

  const followed = new Map(); // id -> { el, signature }
  let delay = FIRST;
  let timer = 0;
  let polling = false;

  function size(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit ? `${value.toFixed(1)} ${units[unit]}` : `${value} bytes`;
  }

  // Said to screen readers, which do not see a bar move: one polite status line.
  function announce(text) {
    const announcer = document.getElementById("announcer");  // templates/base.html
    if (announcer) announcer.textContent = text;
  }

  function show(el, job) {
    el.dataset.exportState = job.state;
    const status = el.querySelector("[data-export-status]");
    const bar = el.querySelector("[data-export-progress]");
    const link = el.querySelector("[data-export-link]");
    if (job.state === "queued") {
      status.textContent = `Queued: ${job.itemsTotal} items, ${size(job.bytesTotal)}.`;
    } else if (job.state === "building") {
      status.textContent = `Building: ${size(job.bytesDone)} of ${size(job.bytesTotal)}.`;
    } else if (job.state === "ready") {
      status.textContent = `Ready: ${job.itemsDone} items, ${size(job.zipSize)}.`;
      const button = document.createElement("a");
      button.className = "button primary";
      button.dataset.testid = "export-download";
      button.href = `${job.page}file/`;
      button.textContent = "Download ZIP";
      link.replaceChildren(button);
      announce(`${job.fileName} is ready to download.`);
    } else if (job.state === "failed") {
      status.textContent = `Failed: ${job.reason || ""}`;
      announce(`${job.fileName} failed: ${job.reason || ""}`);
    } else {
      status.textContent = "Expired: this ZIP is deleted. Select the items again to make a new one.";
    }
    bar.value = job.percent;
    bar.hidden = FINAL.has(job.state);
  }

  function schedule() {
    clearTimeout(timer);
    timer = 0;
    if (polling || !followed.size || document.visibilityState === "hidden") return;
    timer = setTimeout(poll, delay);
  }

  async function poll() {
    timer = 0;
    if (polling || !followed.size || document.visibilityState === "hidden") return;
    polling = true;
    let changed = false;
    await Promise.all(
      [...followed].map(async ([id, entry]) => {
        try {
          const response = await fetch(`/api/exports/${id}`, { credentials: "same-origin", cache: "no-store" });
          if (response.status === 404) followed.delete(id);
          if (response.status !== 200) return;
          const job = await response.json();
          const signature = `${job.state} ${job.bytesDone}`;
          if (signature === entry.signature) return;
          entry.signature = signature;
          changed = true;
          show(entry.el, job);
          if (FINAL.has(job.state)) followed.delete(id);
        } catch {
          // Offline, or a blip: the next poll tries again.
        }
      }),
    );
    polling = false;
    delay = changed ? FIRST : Math.min(SLOW, delay * GROWTH);
    schedule();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      clearTimeout(timer);
      timer = 0;
    } else {
      delay = FIRST;
      poll();
    }
  });

  for (const el of document.querySelectorAll("[data-export-id]")) {
    if (!FINAL.has(el.dataset.exportState)) followed.set(el.dataset.exportId, { el, signature: "" });
  }
  schedule();
})();
