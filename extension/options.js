// Options: the server address and pairing. The token lives in storage.local and nowhere else.
import { webext } from "./webext.js";
import { callServer } from "./api.js";
import { DEFAULT_SERVER, forgetPairing, loadSettings, normaliseServer, savePairing, saveServer } from "./settings.js";
import { formatDate, plural } from "./dom.js";

const POLL_INTERVAL_MS = 2000;
const POLL_GIVE_UP_MS = 5 * 60 * 1000;
const LOCAL_ORIGINS = ["http://127.0.0.1/*", "http://localhost/*"];
// The name the reader sees in the approval request; read from the user agent as data, not to branch on.
const BROWSER_NAMES = [[/Firefox\//, "Firefox"], [/Edg\//, "Edge"], [/Chrome\//, "Chromium"]];

const $ = (id) => document.getElementById(id);
let polling = null; // {timer, cancelled}

function browserName() {
  const found = BROWSER_NAMES.find(([pattern]) => pattern.test(navigator.userAgent));
  return `${found ? found[1] : "Browser"} on this computer`;
}

function say(id, text, tone = "") {
  const node = $(id);
  node.textContent = text;
  node.dataset.tone = tone;
}

/**
 * Firefox treats Manifest V3 host permissions as optional until the reader grants them; asking needs a
 * user gesture, so every button that talks to the server asks first (Chromium answers at once).
 */
function askForServerAccess() {
  return webext.permissions.request({ origins: LOCAL_ORIGINS }).catch(() => false);
}

async function currentServer() {
  try {
    return normaliseServer($("server-address").value);
  } catch (error) {
    say("server-status", error.message, "bad");
    return null;
  }
}

async function showPairing() {
  const { pairing } = await loadSettings();
  const state = $("pairing-state");
  if (!pairing) {
    state.dataset.state = "unpaired";
    state.textContent = "Not paired. Captures wait in this browser until you pair.";
  } else if (pairing.status === "revoked") {
    state.dataset.state = "revoked";
    state.textContent = "The pairing was revoked in Crosscurrent. Pair again to send pages.";
  } else {
    state.dataset.state = "paired";
    const since = formatDate(pairing.paired_at);
    state.textContent = `Paired${since ? ` since ${since}` : ""}.`;
  }
  const paired = pairing?.status === "paired";
  $("unpaired-controls").hidden = paired;
  $("paired-controls").hidden = !paired;
  const { count } = await webext.runtime.sendMessage({ type: "options-bg-outbox-count" });
  $("outbox-status").textContent = count ? `${plural(count, "page is", "pages are")} waiting to be sent.` : "Nothing is waiting.";
}

async function paired(token, server) {
  // The token belongs to the server that issued it: keep that address with it.
  $("server-address").value = await saveServer(server);
  await savePairing(token, browserName());
  say("pairing-status", "Paired. Pages you save now go straight to Crosscurrent.", "good");
  await webext.runtime.sendMessage({ type: "options-bg-pairing-changed" });
  await showPairing();
}

async function saveAddress(event) {
  event.preventDefault();
  try {
    const server = await saveServer($("server-address").value);
    $("server-address").value = server;
    say("server-status", "Saved.", "good");
  } catch (error) {
    say("server-status", error.message, "bad");
  }
}

async function findServer() {
  const granted = askForServerAccess();
  const server = await currentServer();
  if (!server || !(await granted)) return;
  say("server-status", "Looking…", "wait");
  const outcome = await callServer(server, "/api/health");
  if (outcome.kind === "ok" && outcome.data?.name === "crosscurrent") {
    const counts = outcome.data.counts ?? {};
    say("server-status", `Found Crosscurrent ${outcome.data.version ?? ""} at ${server} (${plural(counts.articles ?? 0, "article", "articles")}).`, "good");
  } else if (outcome.kind === "ok") {
    say("server-status", `Something answers at ${server}, but it is not Crosscurrent.`, "bad");
  } else {
    say("server-status", `Crosscurrent is not answering at ${server}. Is it running?`, "bad");
  }
}

function stopPolling(message, tone) {
  if (polling) {
    clearTimeout(polling.timer);
    polling.cancelled = true;
    polling = null;
  }
  $("cancel-pairing").hidden = true;
  $("ask-to-pair").disabled = false;
  if (message) say("pairing-status", message, tone);
}

async function askToPair() {
  const granted = askForServerAccess();
  const server = await currentServer();
  if (!server || !(await granted)) return;
  stopPolling();
  const outcome = await callServer(server, "/api/pair", { method: "POST", body: { name: browserName() } });
  if (outcome.kind !== "ok" || !outcome.data?.request_id) {
    say("pairing-status", outcome.message || "Crosscurrent is not answering. Is it running?", "bad");
    return;
  }
  const { request_id, poll } = outcome.data;
  const started = Date.now();
  polling = { timer: null, cancelled: false };
  const mine = polling;
  $("ask-to-pair").disabled = true;
  $("cancel-pairing").hidden = false;
  say("pairing-status", "Waiting: approve it on Crosscurrent's Pairing page, or run `crosscurrent pair approve ID` (`crosscurrent pair` lists the ID).", "wait");

  const check = async () => {
    if (mine.cancelled) return;
    const answer = await callServer(server, "/api/pair", { method: "POST", body: { request_id, poll } });
    if (mine.cancelled) return;
    if (answer.kind === "ok" && answer.data?.status === "approved" && answer.data.token) {
      stopPolling();
      await paired(answer.data.token, server);
    } else if (answer.kind === "rejected") {
      stopPolling(answer.code === "pair_refused" ? "The request was refused in Crosscurrent." : answer.message, "bad");
    } else if (Date.now() - started > POLL_GIVE_UP_MS) {
      stopPolling("No answer for five minutes. Ask again when Crosscurrent is open.", "bad");
    } else {
      mine.timer = setTimeout(check, POLL_INTERVAL_MS);
    }
  };
  mine.timer = setTimeout(check, POLL_INTERVAL_MS);
}

async function pairWithCode(event) {
  event.preventDefault();
  const granted = askForServerAccess();
  const server = await currentServer();
  const code = $("pair-code").value.trim();
  if (!server || !(await granted)) return;
  if (!/^\d{6}$/.test(code)) {
    say("pairing-status", "The code has six digits.", "bad");
    return;
  }
  const outcome = await callServer(server, "/api/pair", { method: "POST", body: { code, name: browserName() } });
  if (outcome.kind === "ok" && outcome.data?.token) {
    $("pair-code").value = "";
    await paired(outcome.data.token, server);
  } else if (outcome.kind === "rejected") {
    say("pairing-status", outcome.code === "bad_code" ? "That code is wrong or already used." : outcome.message, "bad");
  } else {
    say("pairing-status", "Crosscurrent is not answering. Is it running?", "bad");
  }
}

async function forget() {
  await forgetPairing();
  say("pairing-status", "Pairing forgotten. Revoke it in Crosscurrent too if this browser is not yours.", "");
  await showPairing();
}

async function init() {
  const { server } = await loadSettings();
  $("server-address").value = server;
  $("server-address").placeholder = DEFAULT_SERVER;
  $("server-form").addEventListener("submit", saveAddress);
  $("find-server").addEventListener("click", findServer);
  $("ask-to-pair").addEventListener("click", askToPair);
  $("cancel-pairing").addEventListener("click", () => stopPolling("Cancelled.", ""));
  $("code-form").addEventListener("submit", pairWithCode);
  $("forget-pairing").addEventListener("click", forget);
  window.addEventListener("pagehide", () => stopPolling());
  await showPairing();
}

init();
