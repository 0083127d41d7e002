// The upload page: files are added by picking, dropping (folders too) or pasting, each gets a row with its own
// name and caption, and "Upload" sends them straight to S3, several at once, resumably. Without JavaScript the
// form posts to Django instead, which streams a small file to S3 itself.
import Uppy from "@uppy/core";
import GoldenRetriever from "@uppy/golden-retriever";
import { getDroppedFiles } from "@uppy/core/utils";
import MediahubUploader from "./uploader.js";
import { QueueView, humanSize } from "./view.js";

const form = document.getElementById("upload-form");
if (form && window.fetch && window.Blob) start(form);

function start(form) {
  const input = document.getElementById("id_file");
  const button = document.getElementById("upload-button");
  const accept = form.dataset.accept.split(",");
  const maxSize = Number(form.dataset.maxSize);
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  form.classList.add("scripted"); // the page's CSS hides what only the no-JavaScript form needs

  // One store per user: someone else signing in on this browser does not get your interrupted uploads.
  const uppy = new Uppy({ id: `upload-${form.dataset.user}`, autoProceed: false, allowMultipleUploadBatches: true });
  // How many files, parts of a file and storage requests at once: the uploader's own unless the form says
  // (bench/uploads.py tries other settings this way).
  const setting = (value) => (value ? Number(value) : undefined);
  const { filesAtOnce, partsPerFile, connections } = form.dataset;
  uppy.use(MediahubUploader, {
    csrf,
    endpoint: form.dataset.api,
    filesAtOnce: setting(filesAtOnce),
    partsPerFile: setting(partsPerFile),
    connections: setting(connections),
  });
  uppy.use(GoldenRetriever, { expires: 24 * 60 * 60 * 1000 });
  const uploader = uppy.getPlugin("MediahubUploader");

  const view = new QueueView({
    list: document.getElementById("upload-list"),
    overall: document.getElementById("upload-overall"),
    uppy,
    onEdit: (id, key, value) => {
      uppy.setFileMeta(id, { [key]: value, [`${key}Edited`]: true });
    },
  });

  let frame = 0;
  uppy.on("state-update", () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      view.render();
      button.disabled = !uppy.getFiles().some((f) => !f.progress.uploadStarted && !f.isGhost);
    });
  });
  uppy.on("file-added", ({ id }) => {
    const file = uppy.getFile(id);
    if (!view.rows.has(id)) view.add(file);
    if (file.mediahub && file.progress.uploadStarted && !file.isPaused) uploader.upload([id]); // chosen again after a reload
  });
  document.getElementById("upload-list").addEventListener("click", (event) => {
    const action = event.target.closest("button[data-action]");
    const id = action?.closest(".file-row")?.dataset.fileId;
    if (!id) return;
    if (action.dataset.action === "retry") uppy.retryUpload(id).catch(() => {});
    if (action.dataset.action === "pause" || action.dataset.action === "resume") uppy.pauseResume(id);
    if (action.dataset.action === "cancel") uppy.removeFile(id);
  });
  uppy.on("file-removed", (file) => view.remove(file.id));
  uppy.on("restored", () => restore(uppy, view, uploader));
  uppy.on("upload-success", (file, response) => {
    follow(view, file.id, response.body);
    redirectIfOne(uppy);
  });

  function add(files) {
    for (const file of files) {
      const type = declaredType(file);
      const problem = refusal(file, type, accept, maxSize);
      if (problem) {
        view.refuse(file, problem);
        continue;
      }
      try {
        uppy.addFile({ name: file.name, type, data: file, source: "page", meta: { title: file.name, caption: "" } });
      } catch (err) {
        if (!/duplicate/i.test(err.message)) view.refuse(file, err.message); // the same file twice is added once
      }
    }
  }

  input.addEventListener("change", () => {
    add(Array.from(input.files));
    input.value = ""; // so that choosing the same file again (to resume it) fires change
  });
  setUpDropzone(document.getElementById("dropzone"), add);
  document.addEventListener("paste", (event) => {
    const files = Array.from(event.clipboardData?.files ?? []);
    if (files.length) {
      event.preventDefault();
      add(files);
    }
  });

  document.getElementById("apply-to-all").addEventListener("click", () => applyBatchFields(uppy, form, view, true));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!uppy.getFiles().length) {
      view.refuse({ name: "No file", type: "" }, "Choose a file to upload.");
      return;
    }
    applyBatchFields(uppy, form, view, false);
    uppy.upload().catch(() => {}); // errors are shown in each file's row
  });
  window.addEventListener("beforeunload", (event) => {
    if (uppy.getFiles().some((f) => f.progress.uploadStarted && !f.progress.uploadComplete && !f.error)) {
      event.preventDefault();
      event.returnValue = ""; // the browser asks "Leave site? Uploads in progress will stop."
    }
  });
}

// Browsers that cannot show HEIF (Chrome and Firefox on Windows and Linux) give .heic files no type. The server
// sniffs every file's content once it is stored, so the extension is a fair first guess to ask with.
const TYPES_BY_EXTENSION = { heic: "image/heic", heif: "image/heif" };

function declaredType(file) {
  return file.type || TYPES_BY_EXTENSION[file.name.split(".").pop().toLowerCase()] || "";
}

function refusal(file, type, accept, maxSize) {
  if (!accept.includes(type)) return `Files of type ${type || "unknown"} are not accepted.`;
  if (file.size === 0) return "The file is empty.";
  if (file.size > maxSize) return `The file is ${humanSize(file.size)}; the limit is ${humanSize(maxSize)}.`;
  return null;
}

// The name and caption above the queue go to every file whose own was not edited; "Apply to all" sends them to
// every file not yet uploaded, edited or not. The deletion delay always applies to the whole batch.
function applyBatchFields(uppy, form, view, overwrite) {
  const name = form.elements.name.value.trim();
  const caption = form.elements.caption.value;
  const days = form.elements.delete_after_days.value.trim();
  for (const file of uppy.getFiles()) {
    if (file.progress.uploadStarted) continue;
    const meta = { deleteAfterDays: days ? Number(days) : null };
    if (name && (overwrite || !file.meta.titleEdited)) meta.title = name;
    if (caption && (overwrite || !file.meta.captionEdited)) meta.caption = caption;
    uppy.setFileMeta(file.id, meta);
    const row = view.rows.get(file.id);
    if (meta.title) row.querySelector("[data-testid=file-title]").value = meta.title;
    if (meta.caption) row.querySelector("[data-testid=file-caption]").value = meta.caption;
  }
}

// After a reload: every file that was uploading comes back with its row. Small files come back whole (Golden
// Retriever kept them) and continue at once; a big one is a "ghost" until it is chosen again, then continues
// from the parts S3 holds.
function restore(uppy, view, uploader) {
  uppy.setState({ currentUploads: {} }); // the old batches are over; each file is resumed on its own
  const resume = [];
  for (const file of uppy.getFiles()) {
    if (!view.rows.has(file.id)) view.add(file);
    if (file.progress.uploadStarted && !file.progress.uploadComplete && !file.isGhost && !file.isPaused && !file.error) resume.push(file.id);
  }
  if (resume.length) uploader.upload(resume);
  view.render();
}

// "Processing…" until the server is done with the file, then "Ready" with its thumbnail, or the reason it was refused.
function follow(view, fileId, item) {
  if (!item?.id) return;
  view.processed(fileId, item);
  window.mediahubLive?.follow(item.id, item.status, (now) => view.processed(fileId, now));
}

function redirectIfOne(uppy) {
  const files = uppy.getFiles();
  if (files.length === 1 && files[0].progress.uploadComplete && files[0].response?.body?.id) {
    window.location.assign(`/media/${files[0].response.body.id}/uploaded/`);
  }
}

function setUpDropzone(zone, add) {
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    add(await getDroppedFiles(event.dataTransfer)); // folders are walked; files are added to the queue
  });
}
