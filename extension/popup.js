// Opening the popup is the reader's click: capture the tab, hand it to the background worker (which
// sends it, or keeps it in the outbox), and show what the server found.
import { webext } from "./webext.js";
import { captureTab } from "./capture.js";
import { callServer } from "./api.js";
import { loadSettings } from "./settings.js";
import { plural } from "./dom.js";
import { answerView, button, statusView } from "./popup-view.js";

const clickedAt = new Date().toISOString(); // captured_at is the moment of the click, not of delivery
const view = document.getElementById("view");

function show(node) {
  view.replaceChildren(node);
}

function openSettings() {
  webext.runtime.openOptionsPage();
  window.close();
}

/**
 * The tab to capture. A toolbar click means the active tab; `popup.html?tab=ID` names one explicitly
 * (used when the popup is opened in a tab of its own, where it would otherwise be its own active tab).
 */
async function targetTabId() {
  const named = Number.parseInt(new URLSearchParams(location.search).get("tab") ?? "", 10);
  if (Number.isInteger(named)) return named;
  const [tab] = await webext.tabs.query({ active: true, currentWindow: true });
  return tab?.id;
}

async function openInCrosscurrent(articleId, note) {
  const { server, pairing } = await loadSettings();
  const outcome = await callServer(server, "/api/ui-link", {
    method: "POST",
    body: { path: `/articles/${articleId}` },
    token: pairing?.token,
  });
  if (outcome.kind !== "ok") {
    note.textContent = outcome.message || "Crosscurrent could not open this article.";
    return;
  }
  if (outcome.data?.companion) {
    note.textContent = "Opened in the Crosscurrent window.";
    return;
  }
  const url = String(outcome.data?.url ?? "");
  if (!url.startsWith(server + "/")) {
    note.textContent = "Crosscurrent answered with an unexpected link.";
    return;
  }
  await webext.tabs.create({ url });
}

function waitingText(count) {
  return plural(count, "page is", "pages are") + " waiting to be sent.";
}

function renderReply(reply) {
  switch (reply?.state) {
    case "saved":
    case "duplicate": {
      const note = document.createElement("p");
      note.className = "note";
      const node = answerView(reply, { onOpen: () => openInCrosscurrent(reply.data?.article?.id, note) });
      node.append(note);
      return show(node);
    }
    case "not-article":
      return show(statusView({
        tone: "not-article",
        title: "This page isn't an article",
        body: reply.message || "Crosscurrent found no article text on this page.",
      }));
    case "queued":
      return show(statusView({
        tone: "queued",
        title: "Crosscurrent isn't running",
        body: `Saved for later: ${waitingText(reply.count)} They go out on their own once Crosscurrent runs.`,
        actions: [button("Try again now", retryNow, { primary: true }), button("Settings", openSettings)],
      }));
    case "not-paired":
      return show(statusView({
        tone: "not-paired",
        title: "Not paired with Crosscurrent",
        body: `Pair this browser in the settings. This page is kept: ${waitingText(reply.count)}`,
        actions: [button("Pair in settings", openSettings, { primary: true })],
      }));
    case "revoked":
      return show(statusView({
        tone: "revoked",
        title: "This browser's pairing was revoked",
        body: `Pair again in the settings. This page is kept: ${waitingText(reply.count)}`,
        actions: [button("Pair again", openSettings, { primary: true })],
      }));
    case "forbidden":
      return show(statusView({ tone: "forbidden", title: "Can't read this page", body: reply.message }));
    default:
      return show(statusView({
        tone: "error",
        title: "Something went wrong",
        body: reply?.message || "Crosscurrent could not save this page.",
      }));
  }
}

async function retryNow() {
  show(statusView({ tone: "working", title: "Sending…", busy: true }));
  const { count } = await webext.runtime.sendMessage({ type: "popup-bg-retry" });
  if (count === 0) {
    show(statusView({ tone: "delivered", title: "All sent", body: "Everything that waited is now in Crosscurrent." }));
  } else {
    renderReply({ state: "queued", count });
  }
}

async function main() {
  show(statusView({ tone: "working", title: "Reading this page…", busy: true }));
  const tabId = await targetTabId();
  if (tabId === undefined) return renderReply({ state: "error", message: "No tab to read." });
  const captured = await captureTab(tabId, clickedAt);
  if (!captured.ok) {
    return renderReply({ state: captured.reason === "forbidden" ? "forbidden" : "error", message: captured.message });
  }
  show(statusView({ tone: "working", title: "Finding earlier coverage…", body: captured.page.title, busy: true }));
  renderReply(await webext.runtime.sendMessage({ type: "popup-bg-capture", page: captured.page }));
}

main().catch((error) => renderReply({ state: "error", message: String(error?.message ?? error) }));
