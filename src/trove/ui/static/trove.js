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
