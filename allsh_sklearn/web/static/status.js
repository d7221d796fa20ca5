// The status page: start a retraining with fetch and show its progress.
"use strict";
(function () {
  const form = document.getElementById("retrain-form");
  const box = document.getElementById("retrain-progress");
  if (!form || !box) return;
  const bar = box.querySelector("progress");
  const text = box.querySelector(".stage");
  const token = document.querySelector('meta[name="csrf-token"]').content;

  function show(state) {
    box.classList.remove("hidden");
    text.textContent = state.message;
    if (state.total) {
      bar.max = state.total;
      bar.value = state.done;
    } else {
      bar.removeAttribute("value");
    }
  }

  async function poll() {
    const response = await fetch(form.dataset.progressUrl, { credentials: "same-origin" });
    const state = await response.json();
    show(state);
    if (state.running) {
      setTimeout(poll, 250);
    } else if (state.error) {
      form.querySelector("button").disabled = false;
    } else {
      window.location.reload();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelector("button").disabled = true;
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRF-Token": token },
    });
    if (!response.ok) {
      show({ message: await response.text(), total: 0 });
      form.querySelector("button").disabled = false;
      return;
    }
    poll();
  });

  if (box.dataset.running === "true") poll();
})();
