/* The meeting form's attendee picker: typing in the search box hides the people who do not match (name, username,
   nation or organisation), and ticking a nation or an organisation under "Invite everyone of ..." ticks its people at
   once and is then unticked, so each person can still be removed by hand. Without this file the whole list shows
   and a ticked group is expanded by the server when the form is sent. The check of who could not read the meeting
   is fetched by htmx (hx-get on #attendee-check) on every change of the form. */
(function () {
  "use strict";

  function setup(picker) {
    var search = picker.querySelector("[data-attendee-search]");
    var count = picker.querySelector("[data-attendee-count]");
    var people = Array.prototype.slice.call(picker.querySelectorAll('input[name="attendees"]'));

    function row(box) { return box.closest("label") || box.parentElement; }

    function showCount() {
      if (!count) { return; }
      var chosen = people.filter(function (box) { return box.checked; }).length;
      count.textContent = (count.getAttribute("data-template") || "{n} chosen").replace("{n}", String(chosen));
    }

    if (search) {
      search.addEventListener("input", function () {
        var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
        people.forEach(function (box) {
          var text = (row(box).textContent + " " + box.getAttribute("data-nation") + " " +
                      box.getAttribute("data-org")).toLowerCase();
          var match = words.every(function (word) { return text.indexOf(word) !== -1; });
          row(box).hidden = !match;
        });
      });
      // Enter in the search box must not send the form.
      search.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); } });
    }

    picker.addEventListener("change", function (event) {
      var target = event.target;
      if (!(target instanceof HTMLInputElement)) { return; }
      if (target.name === "attendee_groups" && target.checked) {
        var kind = target.value.split(":")[0];
        var code = target.value.slice(kind.length + 1);
        var attribute = kind === "nation" ? "data-nation" : "data-org";
        people.forEach(function (box) { if (box.getAttribute(attribute) === code) { box.checked = true; } });
        target.checked = false;
      }
      showCount();
    }, true);
    showCount();
  }

  function init() {
    document.querySelectorAll("[data-attendee-picker]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
