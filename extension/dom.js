// Builds DOM nodes. Text always goes through textContent: server and page data are never parsed as HTML.

/**
 * el("p", {className: "meta", text: "..."}, child, ...). `attrs` sets attributes, `on` adds listeners.
 * Children may be nodes, strings (become text nodes), or null/false (skipped).
 */
export function el(tag, { className, text, attrs, on } = {}, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
  }
  for (const [event, handler] of Object.entries(on ?? {})) node.addEventListener(event, handler);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

const DATE_FORMAT = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });

/** "2024-10-09" or a full ISO timestamp -> "Oct 9, 2024"; anything else -> "". */
export function formatDate(value) {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(value)) return "";
  const date = new Date(value.slice(0, 10) + "T00:00:00Z");
  return Number.isNaN(date.getTime()) ? "" : DATE_FORMAT.format(date);
}

/** Only http(s) links from the server's answers become clickable. */
export function safeHttpUrl(value) {
  try {
    const url = new URL(String(value));
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}
