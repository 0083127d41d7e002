// The avatar widget: pick or drop a picture, preview it, send it straight to S3 with progress, then complete.
(function () {
  "use strict";
  const widget = document.getElementById("avatar-widget");
  if (!widget || !window.fetch) return;
  const input = document.getElementById("avatar-file");
  const drop = document.getElementById("avatar-drop");
  const progress = document.getElementById("avatar-progress");
  const status = document.getElementById("avatar-status");
  const accept = widget.dataset.accept.split(",");
  const maxSize = Number(widget.dataset.maxSize);
  const csrf = document.cookie.split("; ").map(function (c) { return c.split("="); })
    .filter(function (c) { return c[0] === "csrftoken"; }).map(function (c) { return c[1]; })[0] || "";

  function say(text, bad) { status.textContent = text; status.className = bad ? "reason" : "hint"; }

  function firstError(body) {
    const errors = (body && body.errors) || {};
    return Object.keys(errors).map(function (k) { return errors[k].join(" "); }).join(" ") || "Something went wrong.";
  }

  async function post(url, payload) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(payload),
    });
    const body = await response.json().catch(function () { return {}; });
    if (!response.ok) throw new Error(firstError(body));
    return body;
  }

  function send(upload, file) {
    return new Promise(function (resolve, reject) {
      const data = new FormData();
      Object.keys(upload.fields).forEach(function (k) { data.append(k, upload.fields[k]); });
      data.append("file", file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", upload.url);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) progress.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = function () { xhr.status < 300 ? resolve() : reject(new Error("The storage refused the picture.")); };
      xhr.onerror = function () { reject(new Error("The upload was interrupted. Please try again.")); };
      xhr.send(data);
    });
  }

  function show(urls) {
    document.querySelectorAll("[data-testid=nav-avatar], [data-testid=profile-avatar]").forEach(function (slot) {
      const big = slot.dataset.testid === "profile-avatar";
      const set = big ? urls["256"] : urls["64"];
      slot.innerHTML = '<picture><source type="image/webp"><img alt=""></picture>';
      slot.querySelector("source").srcset = set.webp;
      slot.querySelector("img").src = set.jpg;
    });
  }

  async function upload(file) {
    if (!accept.includes(file.type)) return say("Files of type " + (file.type || "unknown") + " cannot be avatars.", true);
    if (file.size > maxSize) return say("The picture is larger than 10 MB.", true);
    const preview = widget.querySelector("[data-testid=profile-avatar]");
    preview.innerHTML = "";
    const img = document.createElement("img");
    img.src = URL.createObjectURL(file);
    preview.appendChild(img);
    progress.hidden = false; progress.value = 0;
    say("Uploading…");
    try {
      const ticket = await post(widget.dataset.api, { fileName: file.name, contentType: file.type });
      await send(ticket, file);
      say("Processing…");
      const done = await post(widget.dataset.api + "/complete", { key: ticket.key });
      show(done.avatar);
      say("Done.");
    } catch (err) {
      say(err.message, true);
    }
  }

  input.addEventListener("change", function () { if (input.files[0]) upload(input.files[0]); });
  ["dragenter", "dragover"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); }); });
  ["dragleave", "drop"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); }); });
  drop.addEventListener("drop", function (e) { if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]); });
})();
