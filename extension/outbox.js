// Captures that could not be delivered yet. They wait in storage.local with their original
// captured_at, and the toolbar badge shows how many are waiting. Only the background worker writes here.
import { webext } from "./webext.js";

const OUTBOX_KEY = "outbox";
const FAILURES_KEY = "outbox_failures";

function validItem(item) {
  return (
    item && typeof item === "object" && typeof item.id === "string" &&
    item.page && typeof item.page.url === "string" && typeof item.page.html === "string"
  );
}

export async function listOutbox() {
  const stored = await webext.storage.local.get(OUTBOX_KEY);
  return Array.isArray(stored[OUTBOX_KEY]) ? stored[OUTBOX_KEY].filter(validItem) : [];
}

async function writeOutbox(items) {
  await webext.storage.local.set({ [OUTBOX_KEY]: items });
  await showCount(items.length);
  return items.length;
}

/** Adds a capture to the outbox; returns how many are waiting. */
export async function enqueue(page, reason) {
  const items = await listOutbox();
  items.push({
    id: crypto.randomUUID(),
    page,
    queued_at: new Date().toISOString(),
    last_error: reason || "",
  });
  return writeOutbox(items);
}

export async function removeFromOutbox(id) {
  const items = await listOutbox();
  return writeOutbox(items.filter((item) => item.id !== id));
}

export async function outboxCount() {
  return (await listOutbox()).length;
}

export async function showCount(count) {
  await webext.action.setBadgeBackgroundColor({ color: "#b54708" });
  await webext.action.setBadgeText({ text: count > 0 ? String(count) : "" });
}

/** Consecutive failed delivery rounds; drives the back-off. */
export async function failureCount() {
  const stored = await webext.storage.local.get(FAILURES_KEY);
  const value = stored[FAILURES_KEY];
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

export async function setFailureCount(value) {
  await webext.storage.local.set({ [FAILURES_KEY]: value });
}
