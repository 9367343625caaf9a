/* Label picker: clicking a preset ticks its nations at once, and ticking a nation by hand switches back to
   "Custom". Without this file the server expands the chosen preset when the form is saved, so the page works
   without JavaScript. The preview is fetched by htmx (hx-get on the picker), not here. */
(function () {
  "use strict";

  function setup(picker) {
    var name = picker.getAttribute("data-label-picker");
    var presetName = name + "_preset";
    var releasableName = name + "_releasable_to";

    function boxes() {
      return picker.querySelectorAll('input[type="checkbox"][name="' + releasableName + '"]');
    }

    // Capture phase: fill the fields before htmx (listening on the picker) reads them for the preview.
    picker.addEventListener("change", function (event) {
      var target = event.target;
      if (!(target instanceof HTMLInputElement)) { return; }
      if (target.name === presetName && target.checked && target.value !== "custom") {
        var wanted = (target.getAttribute("data-releasable") || "").split(" ");
        boxes().forEach(function (box) { box.checked = wanted.indexOf(box.value) !== -1; });
      } else if (target.name === releasableName) {
        var custom = picker.querySelector('input[name="' + presetName + '"][value="custom"]');
        if (custom) { custom.checked = true; }
      }
    }, true);
  }

  function init() {
    document.querySelectorAll("[data-label-picker]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
