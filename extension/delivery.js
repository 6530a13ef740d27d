// Sending captures to the server, from the popup and from the outbox. Anything that fails for a reason
// that may go away (server down, 5xx, not paired yet) stays in the outbox; a refusal (4xx) is final.
import { webext } from "./webext.js";
import { callServer, CAPTURE_TIMEOUT_MS } from "./api.js";
import { loadSettings, markRevoked } from "./settings.js";
import {
  enqueue, failureCount, listOutbox, outboxCount, removeFromOutbox, setFailureCount, showCount,
} from "./outbox.js";

const logger = console;
export const RETRY_ALARM = "outbox-retry";
// Chromium fires alarms at most every 30 s for installed extensions; back off from there.
const BACKOFF_SECONDS = [30, 60, 120, 300, 600, 1800];

export async function sendPage(page) {
  const { server, pairing } = await loadSettings();
  if (!pairing || pairing.status !== "paired") {
    return { kind: pairing ? "revoked" : "unauthorized", status: 0, data: null, message: "" };
  }
  return callServer(server, "/api/pages", {
    method: "POST",
    body: page,
    token: pairing.token,
    timeoutMs: CAPTURE_TIMEOUT_MS,
  });
}

async function scheduleRetry() {
  const failures = (await failureCount()) + 1;
  await setFailureCount(failures);
  const delay = BACKOFF_SECONDS[Math.min(failures - 1, BACKOFF_SECONDS.length - 1)];
  await webext.alarms.create(RETRY_ALARM, { when: Date.now() + delay * 1000 });
  return delay;
}

/** Delivers one capture the reader just made; answers the popup with a state to show. */
export async function deliverCapture(page) {
  const outcome = await sendPage(page);
  switch (outcome.kind) {
    case "ok":
      flushOutbox(); // the server is back: send what waited, without holding up the popup
      return { state: outcome.status === 200 ? "duplicate" : "saved", data: outcome.data };
    case "unreachable": {
      const count = await enqueue(page, outcome.message);
      await scheduleRetry();
      return { state: "queued", count, message: outcome.message };
    }
    case "unauthorized":
      return { state: "not-paired", count: await enqueue(page, "not paired") };
    case "revoked":
      await markRevoked();
      return { state: "revoked", count: await enqueue(page, "token revoked") };
    default:
      if (outcome.code === "not_an_article") return { state: "not-article", message: outcome.message };
      return { state: "error", message: outcome.message, status: outcome.status };
  }
}

let flushing = null;
let flushAgain = false;

/** Sends the outbox oldest first. Concurrent calls share one run (plus one more round if asked). */
export function flushOutbox() {
  if (flushing) {
    flushAgain = true;
    return flushing;
  }
  flushing = (async () => {
    try {
      do {
        flushAgain = false;
        await flushOnce();
      } while (flushAgain);
    } finally {
      flushing = null;
    }
    return outboxCount();
  })();
  return flushing;
}

async function flushOnce() {
  const items = await listOutbox();
  for (const item of items) {
    const outcome = await sendPage(item.page);
    if (outcome.kind === "ok" || outcome.kind === "rejected") {
      if (outcome.kind === "rejected") {
        logger.warn("Crosscurrent refused a queued page for good:", item.page.url, outcome.status, outcome.message);
      }
      await removeFromOutbox(item.id);
      continue;
    }
    if (outcome.kind === "unreachable") {
      await scheduleRetry();
    } else if (outcome.kind === "revoked" && outcome.status === 401) {
      await markRevoked();
    }
    // Unreachable or not paired: the rest would fail the same way. Pairing again triggers a new flush.
    await showCount(await outboxCount());
    return;
  }
  await setFailureCount(0);
  await webext.alarms.clear(RETRY_ALARM);
  await showCount(await outboxCount());
}
