// The Uppy uploader for mediahub's API. Uppy's core keeps the queue, the per-file state, pause/resume/retry and,
// with Golden Retriever, the files across a reload; this plugin moves the bytes the way our server signs them.
//
// Why not @uppy/aws-s3: in Uppy 6 it creates, lists and completes multipart uploads against S3 itself, under a
// key the client proposes, and its signRequest never sees a part's bytes. Our server chooses the key, starts and
// completes the upload itself (so quota, sizes and the sniffed type are checked before anything counts) and
// signs each part's length and SHA-256 (so S3 refuses bytes that are not the ones signed). aws-s3 also sends
// one part at a time per file; here several parts of a big file are in flight.
//
// Per file: create the item (POST /api/media/), then either the one presigned POST (small files) or the parts
// (sign each with its SHA-256, PUT it), then complete (arrival). The item id and upload id live in the file's
// state (`mediahub`), which Golden Retriever keeps: after a reload, the parts S3 already holds are listed and
// only the others are sent.
import { BasePlugin } from "@uppy/core";
import { TaskQueue } from "@uppy/core/utils";
import { sha256 } from "@noble/hashes/sha2.js";
import { Refused, api, send } from "./transport.js";

const FILES_AT_ONCE = 4;
const PARTS_PER_FILE = 4;
const STORAGE_CONNECTIONS = 6; // a browser opens 6 HTTP/1.1 connections per host: more would only queue there

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// S3's x-amz-checksum-sha256: base64 of the digest. WebCrypto where the page is a secure context, else noble.
async function sha256Base64(blob) {
  const buffer = await blob.arrayBuffer();
  if (globalThis.crypto?.subtle) return base64(new Uint8Array(await crypto.subtle.digest("SHA-256", buffer)));
  return base64(sha256(new Uint8Array(buffer)));
}

function partRange(state, number, size) {
  const start = (number - 1) * state.partSize;
  return [start, Math.min(start + state.partSize, size)];
}

export default class MediahubUploader extends BasePlugin {
  constructor(uppy, opts) {
    super(uppy, opts);
    this.id = "MediahubUploader";
    this.type = "uploader";
    this.call = api(opts.csrf);
    this.endpoint = opts.endpoint; // /api/media/
    this.files = new TaskQueue({ concurrency: opts.filesAtOnce ?? FILES_AT_ONCE });
    this.storage = new TaskQueue({ concurrency: opts.connections ?? STORAGE_CONNECTIONS });
    this.partsPerFile = opts.partsPerFile ?? PARTS_PER_FILE;
    this.runs = new Map(); // file id -> AbortController of its run
  }

  install() {
    const { capabilities } = this.uppy.getState();
    this.uppy.setState({ capabilities: { ...capabilities, resumableUploads: true } });
    this.uppy.addUploader(this.upload);
    this.uppy.on("file-removed", this.onRemoved);
    this.uppy.on("upload-pause", this.onPause);
    this.uppy.on("pause-all", this.onPauseAll);
    this.uppy.on("resume-all", this.onResumeAll);
  }

  uninstall() {
    this.uppy.removeUploader(this.upload);
    this.uppy.off("file-removed", this.onRemoved);
    this.uppy.off("upload-pause", this.onPause);
    this.uppy.off("pause-all", this.onPauseAll);
    this.uppy.off("resume-all", this.onResumeAll);
  }

  upload = async (fileIDs) => {
    const files = this.uppy.getFilesByIds(fileIDs).filter((file) => !file.progress.uploadComplete && !file.isGhost);
    this.uppy.emit("upload-start", files);
    await Promise.allSettled(files.map((file) => this.enqueue(file.id)));
  };

  enqueue(id) {
    return this.files.add(() => this.run(id));
  }

  // A run ends when the file is uploaded, refused, paused or removed; a pause's resume enqueues it again.
  async run(id) {
    const file = this.uppy.getFile(id);
    if (!file || file.isPaused || this.runs.has(id)) return;
    const controller = new AbortController();
    this.runs.set(id, controller);
    try {
      const item = await this.transfer(id, controller.signal);
      this.uppy.emit("upload-success", this.uppy.getFile(id), { status: 200, body: item, uploadURL: `/media/${item.id}/` });
    } catch (err) {
      if (err.name === "AbortError") return;
      if (this.uppy.getFile(id)) this.uppy.emit("upload-error", this.uppy.getFile(id), err);
    } finally {
      this.runs.delete(id);
    }
  }

  async transfer(id, signal) {
    let state = this.uppy.getFile(id).mediahub;
    if (state && !state.uploadId && !state.upload) {
      await this.discard(state); // a single POST interrupted by a reload: its item is dropped, the file sent again
      state = null;
    }
    if (!state) state = await this.create(id, signal);
    try {
      if (state.uploadId) await this.sendParts(id, state, signal);
      else await this.post(id, state, signal);
      return await this.complete(id, state, signal);
    } catch (err) {
      if (err instanceof Refused && err.status === 404) {
        this.uppy.setFileState(id, { mediahub: undefined }); // the item is gone (swept or deleted): start over
        return this.transfer(id, signal);
      }
      throw err;
    }
  }

  async create(id, signal) {
    const file = this.uppy.getFile(id);
    const { title: name, caption, deleteAfterDays } = file.meta;
    const json = { fileName: file.name, contentType: file.type, size: file.size, name, caption, deleteAfterDays };
    const { body } = await this.call(this.endpoint, { json, signal });
    const state = { id: body.id, sent: { name, caption }, ...(body.multipart ?? {}) };
    if (!this.uppy.getFile(id)) {
      await this.discard(state); // cancelled while the item was being created
      throw new DOMException("Aborted", "AbortError");
    }
    // The POST's policy is kept in memory only; after a reload an interrupted POST starts over.
    this.uppy.setFileState(id, { mediahub: { ...state, upload: undefined } });
    return { ...state, upload: body.upload, fresh: true };
  }

  async discard(state) {
    try {
      await this.call(`${this.endpoint}${state.id}`, { method: "DELETE" });
    } catch {
      // best effort: an abandoned pending item is swept within hours and never counted
    }
  }

  post(id, state, signal) {
    const file = this.uppy.getFile(id);
    const form = new FormData();
    for (const [key, value] of Object.entries(state.upload.fields)) form.append(key, value);
    form.append("file", file.data); // S3 requires the file to be the last field
    return this.storage
      .add((slot) => send(state.upload.url, { method: "POST", body: form, signal: slot, onProgress: (loaded, total) => this.progress(id, Math.round((loaded / total) * file.size)) }))
      .abortOn(signal);
  }

  async sendParts(id, state, signal) {
    const file = this.uppy.getFile(id);
    const done = new Map(); // part number -> bytes sent
    const stored = await this.storedParts(state, file.size, signal);
    if (stored === null) return; // completed already (the answer to an earlier complete was lost): complete says so
    for (const part of stored) done.set(part.partNumber, part.size);
    const todo = [];
    for (let n = 1; n <= state.partCount; n++) if (!done.has(n)) todo.push(n);
    const report = () => this.progress(id, [...done.values()].reduce((a, b) => a + b, 0));
    report();
    const child = new AbortController();
    const stop = () => child.abort();
    signal.addEventListener("abort", stop, { once: true });
    try {
      const worker = async () => {
        while (todo.length) {
          const n = todo.shift();
          await this.sendPart(file, state, n, (sent) => { done.set(n, sent); report(); }, child.signal);
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.partsPerFile, todo.length) }, worker));
    } catch (err) {
      child.abort();
      throw err;
    } finally {
      signal.removeEventListener("abort", stop);
    }
  }

  // The parts S3 already holds, of the right size: after a reload, a pause or a lost answer, those are not sent
  // again. A fresh upload has none, so it is not asked.
  async storedParts(state, size, signal) {
    if (state.fresh) {
      state.fresh = false;
      return [];
    }
    const { status, body } = await this.call(`${this.endpoint}${state.id}/parts`, { method: "GET", signal, ok: [409] });
    if (status === 409) return null;
    return body.parts.filter((part) => {
      const [start, end] = partRange(state, part.partNumber, size);
      return part.size === end - start;
    });
  }

  async sendPart(file, state, number, onSent, signal) {
    const [start, end] = partRange(state, number, file.size);
    const blob = file.data.slice(start, end);
    const task = async (slot) => {
      const checksum = await sha256Base64(blob);
      for (let attempt = 0; ; attempt++) {
        const { body } = await this.call(`${this.endpoint}${state.id}/parts`, { json: { partNumbers: [number], checksums: [checksum] }, signal: slot });
        const [signed] = body.parts;
        try {
          return await send(signed.url, { method: "PUT", body: blob, headers: signed.headers, signal: slot, onProgress: (loaded) => onSent(Math.min(loaded, blob.size)) });
        } catch (err) {
          // A URL that expired while the tab slept (403) is signed again, once.
          if (!(err instanceof Refused && err.status === 403 && attempt === 0)) throw partError(err);
        }
      }
    };
    await this.storage.add(task).abortOn(signal);
    onSent(blob.size);
  }

  async complete(id, state, signal) {
    for (let attempt = 0; ; attempt++) {
      const { status, body } = await this.call(`${this.endpoint}${state.id}/complete`, { signal, ok: [409, 422] });
      if (status === 422) throw new Refused(body.errors.file.join(" "), 422, body);
      if (status !== 409) return this.saveEdits(id, state, body, signal);
      // 409: parts missing (a part's answer was lost after S3 had it, or the other way): list and send them.
      if (!state.uploadId || attempt > 1) throw new Refused(Object.values(body.errors ?? {}).flat().join(" "), 409, body);
      await this.sendParts(id, state, signal);
    }
  }

  // Name and caption edited in the row after the item was created are saved once it has its file.
  async saveEdits(id, state, item, signal) {
    const { title: name, caption } = this.uppy.getFile(id).meta;
    if (name === state.sent.name && caption === state.sent.caption) return item;
    const { body } = await this.call(`${this.endpoint}${state.id}`, { method: "PATCH", json: { name, caption }, signal });
    return body;
  }

  progress(id, bytesUploaded) {
    const file = this.uppy.getFile(id);
    if (!file) return;
    this.uppy.emit("upload-progress", file, { uploadStarted: file.progress.uploadStarted ?? Date.now(), bytesUploaded, bytesTotal: file.size });
  }

  onPause = (file, isPaused) => {
    if (isPaused) this.runs.get(file.id)?.abort();
    else this.enqueue(file.id);
  };

  onPauseAll = () => {
    for (const controller of this.runs.values()) controller.abort();
  };

  onResumeAll = () => {
    for (const file of this.uppy.getFiles()) if (file.progress.uploadStarted && !file.progress.uploadComplete && !file.error) this.enqueue(file.id);
  };

  // Cancel: stop the bytes, then drop what the server holds (the upload in parts and its item, or the pending
  // item of a POST). An item whose file already arrived stays: removing its row is not deleting it.
  onRemoved = (file) => {
    this.runs.get(file.id)?.abort();
    const state = file.mediahub;
    if (!state || file.progress.uploadComplete) return;
    const url = state.uploadId ? `${this.endpoint}${state.id}/upload` : `${this.endpoint}${state.id}`;
    this.call(url, { method: "DELETE" }).catch(() => {});
  };
}

function partError(err) {
  if (err instanceof Refused && err.status === 400) {
    return new Refused("The storage refused a part of this file: it changed while uploading, or was corrupted on the way. Retry it.", 400);
  }
  return err;
}
