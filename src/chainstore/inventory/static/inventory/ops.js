// Stock operation screens: wedge-scanner friendly focus, auto-submitting site pickers and
// one submit per posting form (the idempotency key makes a resend harmless anyway).
(function () {
  "use strict";

  function scanTarget() {
    return document.querySelector("[data-scan-focus]");
  }

  function focusScan() {
    var el = scanTarget();
    if (el && document.activeElement !== el) {
      el.focus();
      if (el.select) el.select();
    }
  }

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // A tap outside any control sends the focus back to the scan field, so the next scan
  // from a keyboard-wedge scanner always lands there.
  document.addEventListener("click", function (event) {
    if (!event.target.closest("input, select, textarea, button, a, label, summary, .dropdown-menu")) {
      focusScan();
    }
  });

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });

  // Coming back through the browser history: allow the form to be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  });

  focusScan();
})();
