// Reads the rendered page of a tab with scripting.executeScript (granted by activeTab on the click).
// Answers {ok: true, page} or {ok: false, reason, message}; never throws.
import { webext } from "./webext.js";

const CAPTURE_TIMEOUT_MS = 10000;
const MAX_HTML_CHARS = 15 * 1024 * 1024; // the server refuses more
// Pages no extension may script: browser pages, extension stores, viewers.
const FORBIDDEN_URLS = [
  /^(chrome|edge|brave|about|moz-extension|chrome-extension|view-source|devtools|resource|file):/i,
  /^https:\/\/(chrome\.google\.com\/webstore|chromewebstore\.google\.com|addons\.mozilla\.org|microsoftedge\.microsoft\.com\/addons)/i,
];
const FORBIDDEN_MESSAGE =
  "Browsers don't let extensions read this kind of page (browser pages, extension stores, PDFs). Open a news article and try again.";

// Runs inside the page: must be self-contained.
function readRenderedPage() {
  const type = document.doctype;
  let doctype = "<!DOCTYPE html>";
  if (type) {
    doctype = "<!DOCTYPE " + type.name +
      (type.publicId ? ` PUBLIC "${type.publicId}"` : "") +
      (!type.publicId && type.systemId ? " SYSTEM" : "") +
      (type.systemId ? ` "${type.systemId}"` : "") + ">";
  }
  return {
    contentType: document.contentType,
    url: location.href,
    title: document.title,
    html: doctype + "\n" + document.documentElement.outerHTML,
    selection: String(globalThis.getSelection?.() ?? "").trim().slice(0, 10000),
  };
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function isForbiddenUrl(url) {
  return typeof url === "string" && FORBIDDEN_URLS.some((pattern) => pattern.test(url));
}

export async function captureTab(tabId, capturedAt) {
  let tab = null;
  try {
    tab = await webext.tabs.get(tabId);
  } catch {
    return { ok: false, reason: "error", message: "That tab is gone." };
  }
  if (isForbiddenUrl(tab.url)) return { ok: false, reason: "forbidden", message: FORBIDDEN_MESSAGE };
  let results;
  try {
    results = await withTimeout(
      webext.scripting.executeScript({ target: { tabId }, func: readRenderedPage }),
      CAPTURE_TIMEOUT_MS,
    );
  } catch (error) {
    if (error.message === "timeout") {
      return { ok: false, reason: "timeout", message: "The page took too long to answer. Reload it and try again." };
    }
    return { ok: false, reason: "forbidden", message: FORBIDDEN_MESSAGE };
  }
  const found = results?.[0]?.result;
  if (!found || typeof found.html !== "string") {
    return { ok: false, reason: "forbidden", message: FORBIDDEN_MESSAGE };
  }
  if (found.contentType && !/html/i.test(found.contentType)) {
    return { ok: false, reason: "forbidden", message: FORBIDDEN_MESSAGE };
  }
  if (isForbiddenUrl(found.url)) return { ok: false, reason: "forbidden", message: FORBIDDEN_MESSAGE };
  if (found.html.length > MAX_HTML_CHARS) {
    return { ok: false, reason: "too-large", message: "This page is too large to save (over 15 MB)." };
  }
  return {
    ok: true,
    page: {
      url: found.url,
      html: found.html,
      title: found.title || "",
      captured_at: capturedAt,
      selection: found.selection || "",
    },
  };
}
