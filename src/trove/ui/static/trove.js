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

// --- Light, dark or the system's theme (the header's toggle), kept in this browser ---------
const TROVE_THEME_KEY = "trove-theme";

function troveTheme() {
  try {
    const stored = localStorage.getItem(TROVE_THEME_KEY);
    return stored === "dark" || stored === "light" ? stored : "auto";
  } catch (e) {
    return "auto"; // storage refused (a sandboxed frame): follow the system
  }
}

function troveSetTheme(theme) {
  try {
    if (theme === "auto") localStorage.removeItem(TROVE_THEME_KEY);
    else localStorage.setItem(TROVE_THEME_KEY, theme);
  } catch (e) {
    // not kept, but still shown
  }
  troveApplyTheme(theme);
}

function troveApplyTheme(theme) {
  document.documentElement.dataset.troveTheme = theme;
  // NiceGUI's setter for Quasar's dark mode: null follows prefers-color-scheme.
  if (typeof setDark === "function") setDark(theme === "auto" ? null : theme === "dark");
}

document.documentElement.dataset.troveTheme = troveTheme();
// After NiceGUI has started Vue with its default (the system's theme).
document.addEventListener("DOMContentLoaded", () => troveApplyTheme(troveTheme()));

// --- Keyboard shortcuts of every page (the list the `?` dialog shows: trove/ui/shortcuts.py) -
function troveTyping(target) {
  return (
    target instanceof Element &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.altKey || troveTyping(event.target)) return;
  const command = event.ctrlKey || event.metaKey;
  const dialogOpen = document.querySelector(".q-dialog") !== null;
  if (event.key === "/" && !command && !dialogOpen) {
    const box = [...document.querySelectorAll(".trove-search input")].find((el) => el.offsetParent);
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  } else if (event.key === "?" && !command && !document.querySelector(".trove-shortcuts")) {
    event.preventDefault();
    emitEvent("trove_shortcuts");
  } else if (command && event.key.toLowerCase() === "a" && !dialogOpen) {
    const ask = new CustomEvent("trove:select-all", { detail: { handled: false } });
    document.dispatchEvent(ask); // the grid on screen answers (components/grid.js)
    if (ask.detail.handled) event.preventDefault();
  }
});

// --- The asset picker (docs/picker.md) ------------------------------------------------------
// Its messages go to the page that framed it, or else to the window that opened it, and only
// to the origins the server allows: the browser drops a message posted for another origin.
function trovePickerTarget() {
  return window.parent !== window ? window.parent : window.opener || null;
}

function trovePost(message, origins) {
  const target = trovePickerTarget();
  if (!target) return false;
  for (const origin of origins) target.postMessage(message, origin);
  return true;
}
