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
