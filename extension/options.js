// Options: the server address, pairing and the history import. The token lives in storage.local and nowhere else.
import { webext } from "./webext.js";
import { callServer } from "./api.js";
import {
  DEFAULT_SERVER, forgetPairing, loadHistorySites, loadSettings, normaliseServer, savePairing, saveHistorySites, saveServer,
} from "./settings.js";
import { el, formatDate, plural } from "./dom.js";
import { askForHistory, clampDays, itemsToImport, parseSites, readVisits, topSites } from "./history.js";

const POLL_INTERVAL_MS = 2000;
const POLL_GIVE_UP_MS = 5 * 60 * 1000;
const IMPORT_POLL_MS = 1000;
const SKIPPED_SHOWN = 10;
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

// --- the history import ------------------------------------------------------------------------------

const NO_PERMISSION = "Crosscurrent needs your permission to read this browser's history for this. Nothing was read.";
let following = null; // the timer of the import being followed

function chosenSites() {
  return parseSites($("history-sites").value);
}

function setSites(sites) {
  $("history-sites").value = sites.join("\n");
}

function showSiteChoices(choices) {
  const chosen = new Set(chosenSites());
  const list = $("history-site-choices");
  list.replaceChildren(...choices.map(({ site, count }) => el("li", {},
    el("label", {},
      el("input", { attrs: { type: "checkbox", value: site, checked: chosen.has(site) }, on: { change: (event) => {
        const now = chosenSites().filter((s) => s !== site);
        setSites(event.target.checked ? [...now, site] : now);
      } } }),
      site,
      el("span", { className: "count", text: plural(count, "visit", "visits") })))));
  list.hidden = choices.length === 0;
}

function showTopSites() {
  const granted = askForHistory(LOCAL_ORIGINS); // in the click itself: browsers ask only during a gesture
  (async () => {
    if (!(await granted)) {
      say("history-status", NO_PERMISSION, "bad");
      return;
    }
    const days = clampDays($("history-days").value);
    const { server } = await loadSettings();
    const choices = topSites(await readVisits(days), 12, server);
    showSiteChoices(choices);
    say("history-status", choices.length ? "Tick the news sites to import." : `No visits in the last ${plural(days, "day", "days")}.`, "");
  })();
}

function showProgress(job) {
  const running = job.state === "running";
  $("history-progress").hidden = false;
  $("history-bar").max = Math.max(1, job.total ?? 0);
  $("history-bar").value = job.done ?? 0;
  const skipped = job.skipped ?? [];
  $("history-counts").textContent = `${job.done ?? 0} of ${plural(job.total ?? 0, "page", "pages")}: ${job.created ?? 0} new, `
    + `${job.duplicates ?? 0} already stored, ${skipped.length} skipped.`;
  $("history-import").disabled = running;
  const old = $("history-progress").querySelector(".skipped");
  if (old) old.remove();
  if (!running && skipped.length) {
    $("history-progress").append(el("ul", { className: "skipped" },
      skipped.slice(0, SKIPPED_SHOWN).map(([label, reason]) => el("li", { text: `${label}: ${reason}` })),
      skipped.length > SKIPPED_SHOWN ? el("li", { text: `and ${skipped.length - SKIPPED_SHOWN} more` }) : null));
  }
  if (job.error) say("history-status", job.error, "bad");
  else if (running) say("history-status", `Importing ${job.file}…`, "wait");
  else say("history-status", `Imported ${job.file}. The pages are in Crosscurrent, each under the day you last read it.`, "good");
}

function follow(server, token) {
  clearTimeout(following);
  const check = async () => {
    const outcome = await callServer(server, "/api/imports/current", { token });
    if (outcome.kind !== "ok") {
      say("history-status", outcome.message || "Crosscurrent stopped answering; the import goes on if it is running.", "bad");
      $("history-import").disabled = false;
      return;
    }
    if (outcome.data.state !== "idle") showProgress(outcome.data);
    if (outcome.data.state === "running") following = setTimeout(check, IMPORT_POLL_MS);
  };
  following = setTimeout(check, IMPORT_POLL_MS);
}

async function importHistory(event) {
  event.preventDefault();
  const sites = chosenSites();
  if (!sites.length) {
    say("history-status", "Type or tick at least one news site: only its pages are imported.", "bad");
    return;
  }
  const granted = askForHistory(LOCAL_ORIGINS); // before any await, as in every click handler here
  const { server, pairing } = await loadSettings();
  if (!(await granted)) {
    say("history-status", NO_PERMISSION, "bad");
    return;
  }
  if (pairing?.status !== "paired") {
    say("history-status", "Pair this browser with Crosscurrent first (above).", "bad");
    return;
  }
  const days = clampDays($("history-days").value);
  $("history-days").value = days;
  setSites(sites);
  await saveHistorySites(sites);
  const items = itemsToImport(await readVisits(days), sites, server);
  if (!items.length) {
    say("history-status", `This browser has no article pages of ${sites.join(", ")} from the last ${plural(days, "day", "days")}.`, "bad");
    return;
  }
  say("history-status", `Sending ${plural(items.length, "address", "addresses")} to Crosscurrent…`, "wait");
  const outcome = await callServer(server, "/api/imports/history", {
    method: "POST", token: pairing.token, timeoutMs: 30000,
    body: { items, name: `${browserName().replace(/ on this computer$/, "")} history, last ${plural(days, "day", "days")}` },
  });
  if (outcome.kind === "ok") {
    showProgress(outcome.data);
    follow(server, pairing.token);
  } else if (outcome.code === "import_running") {
    say("history-status", outcome.message, "wait");
    follow(server, pairing.token);
  } else {
    say("history-status", outcome.message || "Crosscurrent is not answering. Is it running?", "bad");
  }
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
  setSites(await loadHistorySites());
  $("history-top-sites").addEventListener("click", showTopSites);
  $("history-form").addEventListener("submit", importHistory);
  await showPairing();
}

init();
