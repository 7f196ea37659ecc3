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
