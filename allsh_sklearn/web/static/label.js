// The labeling page's keyboard shortcuts and in-place updates.
//
// Without this script the page still works: every button is in a form that
// POSTs and the server answers with a redirect. With it, a key press or a
// click sends the same form with fetch and the server's answer (the next
// text, rendered and escaped on the server) replaces the item in place.
// window.allshTimings keeps, for each action, the milliseconds from the key
// press (or click) to the frame after the next text was put in the page.
// "Retrain and query the next batch" shows the retraining's progress in the
// page and then the next batch's first text.
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
    if (!item.contains(form)) return;
    if (form.id === "next-batch-form") {
      event.preventDefault();
      retrain(form);
      return;
    }
    if (!form.dataset.action) return;
    event.preventDefault();
    send(form, event.submitter, event.timeStamp, "click");
  });

  // "Retrain and query the next batch": show the retraining's progress here,
  // then load this page again, which shows the next batch's first text.
  function showRetraining(state) {
    const box = document.getElementById("next-batch-progress");
    if (!box) return;
    box.classList.remove("hidden");
    box.querySelector(".stage").textContent = state.message;
    const bar = box.querySelector("progress");
    if (state.total) {
      bar.max = state.total;
      bar.value = state.done;
    } else {
      bar.removeAttribute("value");
    }
  }

  async function pollRetraining(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      const state = await response.json();
      showRetraining(state);
      if (state.running) {
        setTimeout(() => pollRetraining(url), 250);
      } else if (state.error) {
        const button = document.getElementById("next-batch");
        if (button) button.disabled = false;
      } else {
        window.location.assign(window.location.pathname);
      }
    } catch (error) {
      showFlash("The server did not answer (" + error + "). Is allsh-label serve still running?");
    }
  }

  async function retrain(form) {
    const button = document.getElementById("next-batch");
    if (button) button.disabled = true;
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRF-Token": token },
    });
    if (!response.ok && response.status !== 409) {
      showFlash(await response.text());
      if (button) button.disabled = false;
      return;
    }
    // 409: another browser started a retraining; wait for that one.
    pollRetraining(form.dataset.progressUrl);
  }

  const running = document.getElementById("next-batch-progress");
  if (running && running.dataset.running === "true") {
    pollRetraining(document.getElementById("next-batch-form").dataset.progressUrl);
  }
})();
