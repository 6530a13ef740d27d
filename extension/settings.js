// Settings and pairing live in storage.local. Everything read back is checked against the defaults,
// so a damaged or hand-edited value never reaches fetch().
import { webext } from "./webext.js";

export const DEFAULT_SERVER = "http://127.0.0.1:7412";
// The manifest grants host access to these names only; any other server would be unreachable.
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost"]);

const DEFAULTS = Object.freeze({
  server: DEFAULT_SERVER,
  pairing: null, // {token, name, paired_at, status: "paired" | "revoked"}
});

/** Returns a clean "http://host:port" origin, or throws an Error with a reader-facing message. */
export function normaliseServer(address) {
  const text = String(address ?? "").trim();
  if (!text) throw new Error("Enter the server address, for example " + DEFAULT_SERVER + ".");
  let url;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : "http://" + text);
  } catch {
    throw new Error("That is not an address. Try " + DEFAULT_SERVER + ".");
  }
  if (url.protocol !== "http:") throw new Error("Crosscurrent runs on http:// on this computer.");
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Error("Crosscurrent only talks to this computer (127.0.0.1 or localhost).");
  }
  if (url.username || url.password) throw new Error("The address must not contain a user name.");
  return url.origin;
}

function validPairing(value) {
  if (!value || typeof value !== "object") return null;
  if (typeof value.token !== "string" || value.token.length < 8) return null;
  const status = value.status === "revoked" ? "revoked" : "paired";
  return {
    token: value.token,
    name: typeof value.name === "string" ? value.name : "",
    paired_at: typeof value.paired_at === "string" ? value.paired_at : "",
    status,
  };
}

export async function loadSettings() {
  const stored = await webext.storage.local.get(Object.keys(DEFAULTS));
  let server = DEFAULTS.server;
  try {
    if (stored.server !== undefined) server = normaliseServer(stored.server);
  } catch {
    server = DEFAULTS.server;
  }
  return { server, pairing: validPairing(stored.pairing) };
}

export async function saveServer(address) {
  const server = normaliseServer(address);
  await webext.storage.local.set({ server });
  return server;
}

export async function savePairing(token, name) {
  const pairing = { token, name, paired_at: new Date().toISOString(), status: "paired" };
  await webext.storage.local.set({ pairing });
  return pairing;
}

export async function markRevoked() {
  const { pairing } = await loadSettings();
  if (pairing) await webext.storage.local.set({ pairing: { ...pairing, status: "revoked" } });
}

export async function forgetPairing() {
  await webext.storage.local.remove("pairing");
}

/** The news sites the reader chose for the history import, as typed hosts (checked on read). */
export async function loadHistorySites() {
  const { historySites } = await webext.storage.local.get("historySites");
  return Array.isArray(historySites) ? historySites.filter((site) => typeof site === "string" && site.length < 254) : [];
}

export async function saveHistorySites(sites) {
  await webext.storage.local.set({ historySites: sites });
}
