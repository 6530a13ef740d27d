// The HTTP client for the local Crosscurrent server. Every answer is turned into one outcome object,
// {kind, status, data, message}, so callers switch over `kind` instead of parsing errors themselves.
//   kind: "ok" | "unreachable" (network error, timeout or 5xx: worth retrying) | "unauthorized" |
//         "revoked" | "rejected" (any other 4xx: final)

const DEFAULT_TIMEOUT_MS = 8000;
// The first capture after the server starts also loads the embedding model.
export const CAPTURE_TIMEOUT_MS = 90000;

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function outcomeFor(status, data) {
  const message = (data && typeof data.message === "string" && data.message) || "";
  const code = (data && typeof data.error === "string" && data.error) || "";
  if (status >= 200 && status < 300) return { kind: "ok", status, data, message };
  if (status === 401) {
    return { kind: code === "token_revoked" ? "revoked" : "unauthorized", status, data, message };
  }
  if (status >= 500) return { kind: "unreachable", status, data, message: message || `Server error ${status}` };
  return { kind: "rejected", status, code, data, message: message || `The server refused the request (${status}).` };
}

/**
 * Calls `server + path`. `token` adds the bearer header; `body` is sent as JSON.
 * Never throws: a network failure becomes {kind: "unreachable"}.
 */
export async function callServer(server, path, { method = "GET", body, token, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(server + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      credentials: "omit",
      cache: "no-store",
    });
    return outcomeFor(response.status, await readJson(response));
  } catch (error) {
    const timedOut = error && error.name === "AbortError";
    return {
      kind: "unreachable",
      status: 0,
      data: null,
      message: timedOut ? "The server did not answer in time." : "The server is not reachable.",
    };
  } finally {
    clearTimeout(timer);
  }
}
