"""Make pywebview's JS bridge work under the UI's Content-Security-Policy.

pywebview builds each `window.pywebview.api.<name>` with `new Function(...)`, which a policy
without 'unsafe-eval' refuses, so the page would never get the js_api. Rather than weaken the policy
for every page that shows web text, the bridge script is rewritten to build the same functions
from a closure. pywebview also hands results back, and runs `window.evaluate_js`, through `eval`;
:func:`make_eval_free` gives a window an evaluate_js that runs the script as a function expression
through the web engine (which the page's policy does not govern) and waits for promises.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

log = logging.getLogger(__name__)

NEW_FUNCTION = re.compile(r"new Function\(\s*sanitize_params\(params\),\s*funcBody\s*\)")

# Same behaviour as pywebview's generated function body, without evaluating a string.
CLOSURE = (
    "(function (name) { return function () {"
    " var __id = (Math.random() + '').substring(2);"
    " var promise = new Promise(function (resolve, reject) {"
    " window.pywebview._checkValue(name, resolve, reject, __id); });"
    " window.pywebview._jsApiCallback(name, Array.prototype.slice.call(arguments), __id);"
    " return promise; }; })(funcName)"
)


def rewrite_bridge(js_code: str) -> str:
    rewritten, count = NEW_FUNCTION.subn(CLOSURE, js_code)
    if count != 1:
        log.warning("pywebview's bridge script changed shape: the window's buttons may not work")
    return rewritten


def install() -> None:
    """Patch pywebview's script loader once, before the first window loads."""
    from webview import util

    if getattr(util.load_js_files, "_crosscurrent_csp_safe", False):
        return
    original = util.load_js_files

    def load_js_files(window, platform):
        js_code, finish_script = original(window, platform)
        return rewrite_bridge(js_code), finish_script

    load_js_files._crosscurrent_csp_safe = True
    util.load_js_files = load_js_files


# The expression's value, or its resolved value when it is a promise, lands in a per-call slot.
EVALUATE = """(function () {
  var slots = window.__crosscurrentResults = window.__crosscurrentResults || {};
  function keep(kind, value) {
    try { slots[%(slot)s] = JSON.stringify({kind: kind, value: value === undefined ? null : value}); }
    catch (e) { slots[%(slot)s] = JSON.stringify({kind: "error", value: String(e)}); }
  }
  try {
    var value = (function () { return (%(script)s); })();
    if (value && typeof value.then === "function") {
      value.then(function (r) { keep("value", r); }, function (e) { keep("error", String(e)); });
    } else { keep("value", value); }
  } catch (e) { keep("error", String(e)); }
})();"""
TAKE = """(function () { var s = window.__crosscurrentResults || {}; var v = s[%(slot)s];
  delete s[%(slot)s]; return v === undefined ? null : v; })()"""


def make_eval_free(window, timeout: float = 30.0) -> None:
    """Replace ``window.evaluate_js`` by an eval-free one (expressions only, promises awaited)."""
    from webview.errors import JavascriptException

    def evaluate_js(script: str, callback=None):
        slot = json.dumps(uuid.uuid4().hex)
        window.run_js(EVALUATE % {"slot": slot, "script": script.strip().rstrip(";")})
        deadline = time.monotonic() + timeout
        while True:
            raw = window.run_js(TAKE % {"slot": slot})
            if raw:
                break
            if time.monotonic() > deadline:
                raise JavascriptException({"name": "TimeoutError", "message": f"no result from {script[:80]!r}"})
            time.sleep(0.02)
        outcome = json.loads(raw)
        if outcome["kind"] == "error":
            raise JavascriptException({"name": "Error", "message": outcome["value"]})
        if callback is not None:
            callback(outcome["value"])
        return outcome["value"]

    window.evaluate_js = evaluate_js
