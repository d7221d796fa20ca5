// The labeling page's keyboard shortcuts and in-place updates.
//
// Without this script the page still works: every button is in a form that
// POSTs and the server answers with a redirect. With it, a key press or a
// click sends the same form with fetch and the server's answer (the next
// text, rendered and escaped on the server) replaces the item in place.
// window.allshTimings keeps, for each action, the milliseconds from the key
// press (or click) to the frame after the next text was put in the page.
"use strict";
(function () {
  const item = document.getElementById("item");
  if (!item) return;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const flash = document.getElementById("flash");
  const timings = (window.allshTimings = []);
  let busy = false;

  function showFlash(message, kind) {
    flash.textContent = message;
    flash.className = "flash " + (kind || "error");
  }

  function afterPaint(callback) {
    // The first animation frame runs before the new content is painted; a
    // task queued from it runs after that paint.
    requestAnimationFrame(() => setTimeout(callback, 0));
  }

  async function send(form, button, t0, trigger) {
    if (busy) return;
    busy = true;
    item.setAttribute("aria-busy", "true");
    const data = new URLSearchParams(new FormData(form));
    if (button && button.name) data.append(button.name, button.value);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRF-Token": token },
      });
      const body = await response.text();
      if (!response.ok) {
        showFlash(body || response.status + " " + response.statusText);
        return;
      }
      flash.className = "hidden";
      flash.textContent = "";
      item.innerHTML = body;
      const tDom = performance.now();
      const serverTiming = response.headers.get("Server-Timing") || "";
      afterPaint(() => {
        timings.push({
          trigger: trigger,
          action: form.dataset.action,
          toDom: tDom - t0,
          toPaint: performance.now() - t0,
          server: serverTiming,
          itemId: (item.querySelector("[data-item-id]") || {}).dataset?.itemId || null,
        });
      });
    } catch (error) {
      showFlash("The server did not answer (" + error + "). Is allsh-label serve still running?");
    } finally {
      busy = false;
      item.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.altKey || event.metaKey || event.repeat) return;
    let key = event.key;
    if (event.ctrlKey) {
      if (key.toLowerCase() !== "z") return;
      key = "u";
    }
    const button = item.querySelector('button[data-key="' + CSS.escape(key) + '"]');
    if (!button || button.disabled) return;
    event.preventDefault();
    send(button.form, button, event.timeStamp, "key");
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!item.contains(form) || !form.dataset.action) return;
    event.preventDefault();
    send(form, event.submitter, event.timeStamp, "click");
  });
})();
