// Importing this browser's history of news reading. The "history" permission is optional: it is asked for
// on the reader's click (askForHistory) and nothing is read before it is granted. Reading goes through
// readVisits; everything else here is plain functions over history.search results, so the choice of
// addresses can be checked without a browser.
import { webext } from "./webext.js";

export const DEFAULT_DAYS = 7;
export const MAX_DAYS = 90;
export const MAX_ITEMS = 5000; // the server's limit for one import
const DAY_MS = 24 * 60 * 60 * 1000;
const SEARCH_LIMIT = 100000;

/**
 * Asks for the history permission (and the local server's origins, which Firefox treats as optional).
 * Must be called directly in a click handler, before any await: browsers only ask during a user gesture.
 */
export function askForHistory(origins) {
  return webext.permissions.request({ permissions: ["history"], origins }).catch(() => false);
}

/** Whether the reader granted it earlier (the options page then says so). */
export function hasHistory() {
  return webext.permissions.contains({ permissions: ["history"] }).catch(() => false);
}

/** history.search results of the last `days` days; call only once the permission is granted. */
export async function readVisits(days, now = Date.now()) {
  return webext.history.search({ text: "", startTime: now - clampDays(days) * DAY_MS, maxResults: SEARCH_LIMIT });
}

export function clampDays(value) {
  const days = Math.round(Number(value));
  return Number.isFinite(days) ? Math.min(MAX_DAYS, Math.max(1, days)) : DEFAULT_DAYS;
}

/** A site the reader typed ("https://www.example.com/news", "example.com") as a host name, or null. */
export function siteHost(text) {
  const value = String(text ?? "").trim().toLowerCase();
  if (!value) return null;
  try {
    const host = new URL(/^[a-z]+:\/\//.test(value) ? value : `http://${value}`).hostname;
    return host.replace(/^www\./, "").replace(/\.$/, "") || null;
  } catch {
    return null;
  }
}

/** The sites of a comma- or line-separated list, each once. */
export function parseSites(text) {
  return [...new Set(String(text ?? "").split(/[\s,;]+/).map(siteHost).filter(Boolean))];
}

function webUrl(value) {
  try {
    const url = new URL(String(value));
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

function hostOf(url) {
  return url.hostname.toLowerCase().replace(/^www\./, "");
}

/** A host belongs to a site when it is the site or one of its subdomains (news.example.com of example.com). */
export function onSite(host, sites) {
  return sites.some((site) => host === site || host.endsWith(`.${site}`));
}

/**
 * The addresses to import: visits to the chosen sites, front pages left out (they are not articles),
 * each address once with its last visit as the day it was read, the most recent MAX_ITEMS of them.
 * `own` is Crosscurrent's own origin: its pages are the reader's log, not reading.
 */
export function itemsToImport(visits, sites, own = "") {
  const latest = new Map();
  for (const visit of visits ?? []) {
    const url = webUrl(visit?.url);
    const visitedAt = Number(visit?.lastVisitTime);
    if (!url || url.origin === own || !Number.isFinite(visitedAt) || url.pathname === "/" || !onSite(hostOf(url), sites)) continue;
    url.hash = "";
    const known = latest.get(url.href);
    if (!known || known.visited_at < visitedAt) {
      latest.set(url.href, { url: url.href, visited_at: Math.round(visitedAt), title: String(visit.title ?? "").slice(0, 1000) });
    }
  }
  return [...latest.values()].sort((a, b) => b.visited_at - a.visited_at).slice(0, MAX_ITEMS);
}

/** The most visited sites in these visits: [{site, count}], most visits first, front pages included. */
export function topSites(visits, limit = 12, own = "") {
  const counts = new Map();
  for (const visit of visits ?? []) {
    const url = webUrl(visit?.url);
    if (!url || url.origin === own) continue;
    const site = hostOf(url);
    counts.set(site, (counts.get(site) ?? 0) + Math.max(1, Number(visit.visitCount) || 1));
  }
  return [...counts.entries()]
    .map(([site, count]) => ({ site, count }))
    .sort((a, b) => b.count - a.count || a.site.localeCompare(b.site))
    .slice(0, limit);
}
