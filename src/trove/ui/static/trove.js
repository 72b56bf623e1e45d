// Small page helpers the Python side calls by name.
function troveCopy(text) {
  // The Clipboard API needs a secure context (https or localhost); a LAN address over http
  // falls back to the old copy command.
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = document.createElement("textarea");
  area.value = text;
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

// Sign-in, set-up and sign-out are JSON calls to /api/dam/auth/...: the session cookie they
// set or clear is HttpOnly, so only a real HTTP response (not the page's websocket) can do it.
async function troveAuthPost(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: body === null ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let detail = "";
  try {
    detail = (await response.json()).detail || "";
  } catch (e) {
    detail = "";
  }
  return { status: response.status, detail: detail };
}
