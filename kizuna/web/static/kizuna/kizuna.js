/* Kizuna UI behaviour. The Content-Security-Policy forbids inline scripts, so every page's behaviour lives here
   (and in htmx attributes). Everything works without JavaScript; this only makes it smoother. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry the CSRF token as a header, read from the page, so the cookie can stay HttpOnly.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // A <select data-autosubmit> (the language switcher) submits its form when changed.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      if (typeof target.form.requestSubmit === "function") {
        target.form.requestSubmit();
      } else {
        target.form.submit();
      }
    }
  });

  // A refused form comes back with its error summary (role="alert"): move focus there, so a keyboard or screen
  // reader user is not left on <body> and hears what to correct (WCAG 3.3.1, 4.1.3). The script is deferred: the
  // document is parsed when it runs.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }

  // A link of the summary takes the keyboard to its field, not only the view.
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("[data-error-summary] a[href^='#']") : null;
    var field = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
    if (field) {
      event.preventDefault();
      field.focus();
      field.scrollIntoView({block: "center"});
    }
  });

  // <button data-copy="ID"> copies the text of element ID (the new API token).
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (!button || !navigator.clipboard) {
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (source) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.classList.add("is-done");
      });
    }
  });
})();
