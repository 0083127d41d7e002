// Requests that survive what networks do: every call here retries network errors, 5xx and 429 with exponential
// backoff (429's Retry-After wins), waits for the browser to come back online without counting that as a
// failure, and gives up with a sentence a person can act on. Uppy's fetcher sends them (XHR: upload progress).
import { fetcher } from "@uppy/core/utils";

const ATTEMPTS = 6; // 0.5 + 1 + 2 + 4 + 8 s of backoff: about a quarter of a minute of a flaky line
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const STALL_MS = 60_000; // no upload progress for a minute: the connection is dead even if the socket is not

// An answer the server meant: a refusal to show, not to retry (4xx other than 429).
export class Refused extends Error {
  constructor(message, status, body) {
    super(message);
    this.name = "Refused";
    this.status = status;
    this.body = body;
  }
}

export function isOnline() {
  return navigator.onLine !== false;
}

function untilOnline(signal) {
  if (isOnline()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      window.removeEventListener("online", done);
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    const stop = () => {
      window.removeEventListener("online", done);
      reject(new DOMException("Aborted", "AbortError"));
    };
    window.addEventListener("online", done);
    signal?.addEventListener("abort", stop, { once: true });
  });
}

// A signal aborted before its listener was added never fires it: every wait and request checks first (a pause
// during a part's hashing must not let that part go out afterwards).
function aborted(signal) {
  if (signal?.aborted) throw new DOMException("Aborted", "AbortError");
}

function sleep(ms, signal) {
  aborted(signal);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); reject(new DOMException("Aborted", "AbortError")); }, { once: true });
  });
}

function backoff(attempt, xhr) {
  const retryAfter = Number(xhr?.getResponseHeader?.("Retry-After"));
  if (retryAfter > 0) return Math.min(retryAfter * 1000, MAX_DELAY_MS);
  const base = Math.min(FIRST_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return base / 2 + Math.random() * (base / 2); // jitter: twenty files that failed together do not retry together
}

function transient(xhr) {
  return !xhr || xhr.status === 0 || xhr.status === 429 || xhr.status >= 500;
}

function messageOf(xhr, body) {
  const errors = (body && body.errors) || {};
  const messages = Object.values(errors).flat();
  if (messages.length) return messages.join(" ");
  if (xhr.status === 413) return "The file is too large for this upload.";
  if (xhr.status === 403) return "The storage refused the upload (HTTP 403): the link may have expired. Retry it.";
  return `The request failed (HTTP ${xhr.status}). Please try again.`;
}

function parse(xhr) {
  try {
    return xhr.responseText ? JSON.parse(xhr.responseText) : {};
  } catch {
    return {};
  }
}

// One request, retried as above. `ok` lists statuses besides 2xx that count as an answer (409 on complete).
export async function send(url, { method = "GET", body = null, headers = {}, onProgress, signal, ok = [] } = {}) {
  for (let attempt = 0; ; attempt++) {
    await untilOnline(signal);
    aborted(signal);
    const outcome = await once(url, { method, body, headers, onProgress, signal });
    const { xhr } = outcome;
    if (outcome.answered && (xhr.status < 300 || ok.includes(xhr.status))) return { status: xhr.status, body: parse(xhr), xhr };
    if (outcome.answered && !transient(xhr)) throw new Refused(messageOf(xhr, parse(xhr)), xhr.status, parse(xhr));
    if (!isOnline()) continue; // went offline mid-request: wait, and do not count it
    if (attempt + 1 >= ATTEMPTS) {
      throw new Error(outcome.answered ? messageOf(xhr, parse(xhr)) : "The connection keeps failing. Check your network, then retry.");
    }
    await sleep(backoff(attempt, xhr), signal);
  }
}

// One attempt: {answered, xhr}. A stalled upload (no progress for STALL_MS) is aborted and counts as a network
// error; the caller's abort is rethrown.
async function once(url, { method, body, headers, onProgress, signal }) {
  const attempt = new AbortController();
  const forward = () => attempt.abort();
  signal?.addEventListener("abort", forward, { once: true });
  try {
    const xhr = await fetcher(url, {
      method,
      body,
      headers,
      signal: attempt.signal,
      retries: 0,
      timeout: STALL_MS,
      onTimeout: () => attempt.abort(),
      onUploadProgress: (event) => event.lengthComputable && onProgress?.(event.loaded, event.total),
    });
    return { answered: true, xhr };
  } catch (err) {
    if (signal?.aborted) throw new DOMException("Aborted", "AbortError");
    const xhr = err.request;
    return { answered: Boolean(xhr && xhr.status), xhr };
  } finally {
    signal?.removeEventListener("abort", forward);
  }
}

// Our own JSON API (same origin: the session cookie and the CSRF token).
export function api(csrf) {
  return (url, { method = "POST", json, signal, ok } = {}) =>
    send(url, {
      method,
      body: json === undefined ? null : JSON.stringify(json),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      signal,
      ok,
    });
}
