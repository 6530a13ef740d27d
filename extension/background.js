// Background worker: delivers captures for the popup and retries the outbox. Listeners are registered at
// the top level so that the browser can wake the worker for them.
import { webext } from "./webext.js";
import { deliverCapture, flushOutbox, RETRY_ALARM } from "./delivery.js";
import { outboxCount, showCount } from "./outbox.js";

async function handleMessage(message) {
  switch (message?.type) {
    case "popup-bg-capture":
      return deliverCapture(message.page);
    case "popup-bg-retry":
      return { count: await flushOutbox() };
    case "popup-bg-outbox-count":
    case "options-bg-outbox-count":
      return { count: await outboxCount() };
    case "options-bg-pairing-changed":
      return { count: await flushOutbox() };
    default:
      return { state: "error", message: `Unknown message ${String(message?.type)}` };
  }
}

webext.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== webext.runtime.id) return false;
  handleMessage(message).then(sendResponse, (error) => {
    console.error("Crosscurrent background error", error);
    sendResponse({ state: "error", message: String(error?.message ?? error) });
  });
  return true; // answered asynchronously
});

webext.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === RETRY_ALARM) flushOutbox();
});

async function resume() {
  await showCount(await outboxCount());
  await flushOutbox();
}

webext.runtime.onStartup.addListener(resume);
webext.runtime.onInstalled.addListener(resume);
