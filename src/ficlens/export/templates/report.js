/* ficlens report: theme toggle and evidence highlighting. The report reads fine without it. */
(function () {
  "use strict";
  var root = document.documentElement;
  var KEY = "ficlens-theme";
  try {
    var saved = window.localStorage.getItem(KEY);
    if (saved === "light" || saved === "dark") root.setAttribute("data-theme", saved);
  } catch (e) { /* storage may be off for file:// pages */ }

  function isDark() {
    var t = root.getAttribute("data-theme");
    if (t) return t === "dark";
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  function syncButtons() {
    var buttons = document.querySelectorAll("[data-theme-toggle]");
    for (var i = 0; i < buttons.length; i++) buttons[i].setAttribute("aria-pressed", isDark() ? "true" : "false");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-theme-toggle]");
    if (!button) return;
    var next = isDark() ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try { window.localStorage.setItem(KEY, next); } catch (e) { /* ignore */ }
    syncButtons();
  });

  // Evidence passages may be cut into several <mark>s; light them all when a tag link is followed,
  // and open the <details> (folded notes) that hold the passage.
  function highlight() {
    var lit = document.querySelectorAll("mark.ev.hit");
    for (var i = 0; i < lit.length; i++) lit[i].classList.remove("hit");
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!/^ev-\d+$/.test(id)) return;
    var marks = document.querySelectorAll('mark.ev[data-ev~="' + id + '"]');
    for (var j = 0; j < marks.length; j++) marks[j].classList.add("hit");
    var anchor = document.getElementById(id);
    if (!anchor) return;
    for (var el = anchor.parentElement; el; el = el.parentElement) {
      if (el.tagName === "DETAILS" && !el.open) el.open = true;
    }
    anchor.scrollIntoView({block: "center"});
  }

  function ready() { syncButtons(); highlight(); }
  window.addEventListener("hashchange", highlight);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
