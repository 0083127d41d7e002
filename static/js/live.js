// Live status: the gallery, an item's page and the upload page follow the items that are not final yet (pending,
// uploaded) and swap in what they became (the picture, or the reason of a refusal or a failure) without a reload.
//
// Plain polling of one small endpoint for all of them (GET /api/media/status?ids=…: one DynamoDB BatchGet), so it
// works behind API Gateway on Lambda, where nothing may stay connected. The answer's ETag goes back as
// If-None-Match: an unchanged answer is a 304 without a body. Polls start a second apart and back off to ten
// seconds while nothing changes; any change starts again at a second. For two minutes after an item was first
// seen or last changed (its bytes arriving, processing: seconds, usually) they back off only to 1.5 s, so a
// thumbnail is shown within 2 s of its item turning ready; past that something is slow (a worker down, a retry
// waiting) and a few seconds more do not matter. Nothing is polled while the tab is hidden, or once nothing is left
// to follow.
(() => {
  const ENDPOINT = "/api/media/status";
  const FINAL = new Set(["ready", "rejected", "failed", "deleting", "trashed", "unknown"]);
  const FIRST = 1000;
  const GROWTH = 1.5;
  const SLOW = 10000;
  const BUSY = 1500;
  const BUSY_FOR = 120000;
  const MAX_IDS = 100; // the endpoint's limit; the rest wait for room

  const followed = new Map(); // id -> { status, since, onChange }
  let delay = FIRST;
  let timer = 0;
  let etag = "";
  let polling = false;

  function follow(id, status, onChange) {
    if (FINAL.has(status)) return;
    followed.set(id, { status, since: Date.now(), onChange });
    delay = FIRST;
    schedule();
  }

  function ceiling() {
    const now = Date.now();
    for (const entry of followed.values()) if (now - entry.since < BUSY_FOR) return BUSY;
    return SLOW;
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
    try {
      const ids = [...followed.keys()].slice(0, MAX_IDS);
      const response = await fetch(`${ENDPOINT}?ids=${ids.join(",")}`, {
        headers: etag ? { "If-None-Match": etag } : {},
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.status === 200) {
        etag = response.headers.get("ETag") || "";
        for (const item of (await response.json()).items) changed = update(item) || changed;
      }
    } catch {
      // Offline, or a blip: the next poll tries again.
    }
    polling = false;
    delay = changed ? FIRST : Math.min(ceiling(), delay * GROWTH);
    schedule();
  }

  function update(item) {
    const entry = followed.get(item.id);
    if (!entry || entry.status === item.status) return false;
    entry.status = item.status;
    entry.since = Date.now();
    if (FINAL.has(item.status)) followed.delete(item.id);
    entry.onChange(item);
    return true;
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      clearTimeout(timer);
      timer = 0;
    } else {
      delay = FIRST;
      poll(); // something may have changed while the tab was hidden
    }
  });

  // Said to screen readers, which do not see a picture appear: one polite status line in the page's main region.
  function announce(text) {
    const announcer = document.getElementById("announcer");  // templates/base.html
    if (announcer) announcer.textContent = text;
  }

  // The pages' own items: an element with data-live-id holds a preview slot, a status badge and room for a reason.
  function show(el, item) {
    el.dataset.liveStatus = item.status;
    const name = el.dataset.liveName || "An item";
    if (item.status === "ready") announce(`${name} is ready.`);
    else if (item.status === "rejected") announce(`${name} was refused: ${item.reason || ""}`);
    else if (item.status === "failed") announce(`${name} failed: ${item.reason || ""}`);
    const badge = el.querySelector("[data-testid=status]");
    if (item.status === "ready") {
      const picture = window.mediahubPictures?.picture(item, el.dataset.liveSlot, el.dataset.liveName || "");
      if (picture) el.querySelector("[data-live-preview]")?.replaceChildren(picture);
      badge?.remove();
    } else if (item.status === "rejected" || item.status === "failed") {
      if (badge) {
        badge.className = "badge bad";
        badge.textContent = item.status === "rejected" ? "Rejected" : "Failed";
      }
      let reason = el.querySelector("[data-testid=reason]");
      if (!reason) {
        reason = document.createElement("p");
        reason.className = "reason";
        reason.dataset.testid = "reason";
        const box = el.querySelector("[data-live-reason]") || el;
        box.dataset.liveReason === "start" ? box.prepend(reason) : box.append(reason);
      }
      reason.textContent = item.reason || "";
    }
  }

  window.mediahubLive = { follow };
  for (const el of document.querySelectorAll("[data-live-id]")) {
    follow(el.dataset.liveId, el.dataset.liveStatus, (item) => show(el, item));
  }
})();
