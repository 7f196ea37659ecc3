// Homeroom console: progressive enhancement only; every form works without it.
// A form with data-confirm asks before it submits; a submitted form's button
// is disabled so a double click sends once.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // After the browser has read the form (a disabled button is not sent).
  setTimeout(() => {
    for (const button of form.querySelectorAll("button")) button.disabled = true;
  }, 0);
});

// A form with data-upload sends its file with a progress bar, then goes
// where the server sent it (the upload's page), or shows the page it answered
// (the form again, saying what was wrong).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !("upload" in form.dataset)) return;
  const bar = form.querySelector("progress");
  if (!bar) return;
  event.preventDefault();
  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  bar.hidden = false;
  request.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
  });
  request.addEventListener("load", () => {
    if (request.status < 400 && request.responseURL && request.responseURL !== form.action) {
      window.location.assign(request.responseURL);
      return;
    }
    document.open();
    document.write(request.responseText);
    document.close();
  });
  // Offline or cut off: the plain form (its idempotency key makes a second
  // arrival of the same file one upload).
  request.addEventListener("error", () => form.submit());
  request.send(new FormData(form));
}, true);

// A page that is still working (a run, an upload, a message being sent)
// names how often to look again in <meta name="homeroom-poll">. With this
// script the page's main part is fetched and replaced in place, without a
// reload, until the answer no longer asks to be polled; without it, the
// <noscript> refresh beside that meta reloads the page.
(() => {
  const poll = document.querySelector('meta[name="homeroom-poll"]');
  if (!poll) return;
  const seconds = Math.max(1, Number(poll.content) || 2);
  const again = async () => {
    let next;
    try {
      const answer = await fetch(window.location.href, { credentials: "same-origin" });
      if (!answer.ok) throw new Error(String(answer.status));
      next = new DOMParser().parseFromString(await answer.text(), "text/html");
    } catch {
      window.location.reload();
      return;
    }
    const main = document.getElementById("main");
    const fresh = next.getElementById("main");
    if (!main || !fresh) {
      window.location.reload();
      return;
    }
    const nodes = Array.from(fresh.childNodes);
    main.replaceChildren(...nodes.map((n) => document.importNode(n, true)));
    document.title = next.title;
    if (next.querySelector('meta[name="homeroom-poll"]')) {
      setTimeout(again, seconds * 1000);
    }
  };
  setTimeout(again, seconds * 1000);
})();
