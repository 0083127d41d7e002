// Upload straight to S3: ask our API for a presigned POST, send the bytes with real progress, then complete.
// Without JavaScript the form posts to Django instead, which streams the file to S3 itself.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.fetch) return;
  const input = document.getElementById("id_file");
  const list = document.getElementById("upload-list");
  const dropzone = document.getElementById("dropzone");
  const accept = form.dataset.accept.split(",");
  const maxSize = Number(form.dataset.maxSize);
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;

  function humanSize(bytes) {
    const units = ["bytes", "KB", "MB", "GB"];
    let i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return (i ? bytes.toFixed(1) : bytes) + " " + units[i];
  }

  function row(file) {
    const li = document.createElement("li");
    li.innerHTML = '<div class="label"></div><progress max="100" value="0" data-testid="progress"></progress>' +
      '<div class="status hint" data-testid="progress-text">Waiting…</div>';
    li.querySelector(".label").textContent = file.name;
    list.appendChild(li);
    return {
      progress: li.querySelector("progress"),
      status: li.querySelector(".status"),
      fail(message) { li.querySelector(".status").textContent = message; li.querySelector(".status").className = "status error"; },
    };
  }

  function clientError(file) {
    if (!accept.includes(file.type)) return "Files of type " + (file.type || "unknown") + " are not accepted.";
    if (file.size === 0) return "The file is empty.";
    if (file.size > maxSize) return "The file is " + humanSize(file.size) + "; the limit is " + humanSize(maxSize) + ".";
    return null;
  }

  function firstError(body) {
    const errors = (body && body.errors) || {};
    const messages = Object.keys(errors).map(function (field) { return errors[field].join(" "); });
    return messages.join(" ") || "Something went wrong; please try again.";
  }

  // okStatuses: answers that count as success besides 2xx (409 on complete: processing got there first).
  async function api(url, payload, okStatuses) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload),
    });
    const body = await response.json().catch(function () { return {}; });
    if (!response.ok && !(okStatuses || []).includes(response.status)) throw new Error(firstError(body));
    return body;
  }

  function sendToS3(upload, file, ui) {
    return new Promise(function (resolve, reject) {
      const data = new FormData();
      Object.keys(upload.fields).forEach(function (k) { data.append(k, upload.fields[k]); });
      data.append("file", file);  // S3 requires the file to be the last field
      const xhr = new XMLHttpRequest();
      xhr.open("POST", upload.url);
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        const pct = Math.round((e.loaded / e.total) * 100);
        ui.progress.value = pct;
        ui.status.textContent = pct + "% (" + humanSize(Math.min(e.loaded, file.size)) + " of " + humanSize(file.size) + ")";
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(new Error("The storage refused the file (HTTP " + xhr.status + "). Please try again."));
      };
      xhr.onerror = function () { reject(new Error("The upload was interrupted. Please try again.")); };
      xhr.send(data);
    });
  }

  async function uploadOne(file, fields) {
    const ui = row(file);
    const problem = clientError(file);
    if (problem) { ui.fail(problem); return null; }
    try {
      const created = await api(form.dataset.api, {
        fileName: file.name, contentType: file.type, size: file.size, name: fields.name || file.name, caption: fields.caption,
        deleteAfterDays: fields.days,
      });
      await sendToS3(created.upload, file, ui);
      ui.status.textContent += " · checking…";
      await api(form.dataset.api + created.id + "/complete", {}, [409]);
      ui.status.textContent = "Done.";
      return created.id;
    } catch (err) {
      ui.fail(err.message);
      return null;
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const files = Array.from(input.files);
    if (!files.length) { row({ name: "No file" }).fail("Choose a file to upload."); return; }
    const button = document.getElementById("upload-button");
    button.disabled = true;
    list.innerHTML = "";
    const days = form.elements.delete_after_days.value.trim();
    const fields = { name: form.elements.name.value.trim(), caption: form.elements.caption.value, days: days ? Number(days) : null };
    const ids = [];
    for (const file of files) ids.push(await uploadOne(file, fields));
    button.disabled = false;
    const done = ids.filter(Boolean);
    if (files.length === 1 && done.length === 1) window.location.assign("/media/" + done[0] + "/uploaded/");
  });

  ["dragenter", "dragover"].forEach(function (type) {
    dropzone.addEventListener(type, function (e) { e.preventDefault(); dropzone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    dropzone.addEventListener(type, function (e) { e.preventDefault(); dropzone.classList.remove("over"); });
  });
  dropzone.addEventListener("drop", function (e) { input.files = e.dataTransfer.files; });
})();
