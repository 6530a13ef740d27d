// The only module that touches the browser's extension namespace. Firefox exposes `browser`,
// Chromium `chrome`; in Manifest V3 both return promises, so the rest of the code is the same.
export const webext = globalThis.browser ?? globalThis.chrome;
