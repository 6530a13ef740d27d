// Crosscurrent UI. Loaded from 'self' (the CSP forbids inline script). Native actions go
// through the companion's js_api, which only exists once pywebview says it is ready.
"use strict";

const companion = { ready: false };

function status(target, message) {
  const el = document.querySelector(target);
  if (el) el.textContent = message;
}

function exportSelection(form) {
  const data = new FormData(form);
  return [data.get("format") || "csv", data.get("from") || "", data.get("to") || ""];
}

async function onClick(event) {
  if (!companion.ready) return;
  const api = window.pywebview.api;
  const original = event.target.closest("a.open-original");
  if (original) {
    event.preventDefault();
    const result = await api.open_external(original.href);
    if (!result.ok) status(".footer-status", result.error || "Could not open the browser.");
    return;
  }
  const action = event.target.closest("[data-action]");
  if (!action) return;
  if (action.dataset.action === "reveal-data-folder") {
    const result = await api.reveal_data_folder();
    status(".footer-status", result.ok ? "" : result.error || "Could not open the data folder.");
  } else if (action.dataset.action === "save-export") {
    status(".save-status", "Saving…");
    const result = await api.save_export(...exportSelection(action.form));
    status(".save-status", result.ok ? `Saved ${result.articles} article(s) to ${result.filename}.`
      : result.cancelled ? "" : result.error || "Could not save the export.");
  }
}

window.addEventListener("pywebviewready", () => {
  companion.ready = true;
  document.documentElement.classList.add("in-companion");
});
document.addEventListener("click", onClick);

// The import page follows a running import: counts every second, the final report once it ends.
const IMPORT_POLL_MS = 1000;

async function followImport(panel) {
  try {
    const response = await fetch(panel.dataset.statusUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const job = await response.json();
    if (job.state !== "running") {
      window.location.reload();
      return;
    }
    for (const key of ["done", "total", "created", "duplicates"]) status(`.import-progress [data-count=${key}]`, job[key]);
    status(".import-progress [data-count=skipped]", job.skipped.length);
    const bar = panel.querySelector("progress");
    if (bar) {
      bar.max = Math.max(1, job.total);
      bar.value = job.done;
    }
  } catch (error) {
    return; // the server stopped: the page stays as it is
  }
  setTimeout(() => followImport(panel), IMPORT_POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector(".import-progress[data-import-state=running]");
  if (panel) setTimeout(() => followImport(panel), IMPORT_POLL_MS);
});
