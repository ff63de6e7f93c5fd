// Calls to the gateway the page is served by. Every path is relative to the page, so the
// playground works under a proxy's path prefix too. The API key lives in sessionStorage only:
// it goes when the tab closes and is never written into a snippet.

const KEY = "bedrock-image-gateway.api-key";

/** The API key typed in this tab, or "". */
export function apiKey() {
  return sessionStorage.getItem(KEY) || "";
}

/** Keep `key` for this tab (an empty one is forgotten). */
export function setApiKey(key) {
  if (key) {
    sessionStorage.setItem(KEY, key);
  } else {
    sessionStorage.removeItem(KEY);
  }
}

function authorised(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
}

/** The absolute URL of a gateway path, as a snippet run elsewhere needs it. */
export function urlOf(path) {
  return new URL(path, document.baseURI).href;
}

/** GET a JSON document: {status, body} (body is null when the answer is not JSON). */
export async function getJSON(path) {
  const response = await fetch(path, { headers: authorised({ Accept: "application/json" }) });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/**
 * Send one task request. `request` is {path, fields, files}: fields are the form's values, files
 * maps a field to a list of {blob, name}. With files the body is multipart, otherwise JSON: what
 * the snippets reproduce. Resolves to {status, body, headers}.
 */
export async function send(request) {
  let body;
  let headers = { Accept: "application/json" };
  if (Object.keys(request.files).length > 0) {
    body = new FormData();
    for (const [name, value] of Object.entries(request.fields)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        body.append(name, String(item));
      }
    }
    for (const [name, files] of Object.entries(request.files)) {
      for (const file of files) {
        body.append(name, file.blob, file.name);
      }
    }
  } else {
    body = JSON.stringify(request.fields);
    headers = { ...headers, "Content-Type": "application/json" };
  }
  const response = await fetch(request.path, {
    method: "POST",
    headers: authorised(headers),
    body,
  });
  const answer = await response.json().catch(() => null);
  return { status: response.status, body: answer, headers: response.headers };
}
