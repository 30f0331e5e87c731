/* The navigation bar: a group opens its panel on click (one at a time; Escape or a click elsewhere closes
   it), and on a phone the menu button shows the whole bar. */
(function () {
  "use strict";
  var nav = document.getElementById("site-nav");
  if (!nav) { return; }
  var toggle = document.querySelector(".nav-toggle");
  function closeGroups(except) {
    nav.querySelectorAll(".nav-group.open").forEach(function (group) {
      if (group !== except) {
        group.classList.remove("open");
        group.querySelector(".nav-heading").setAttribute("aria-expanded", "false");
      }
    });
  }
  nav.querySelectorAll(".nav-heading").forEach(function (heading) {
    heading.addEventListener("click", function () {
      var group = heading.parentElement;
      var opening = !group.classList.contains("open");
      closeGroups(group);
      group.classList.toggle("open", opening);
      heading.setAttribute("aria-expanded", opening ? "true" : "false");
    });
  });
  if (toggle) {
    toggle.addEventListener("click", function () {
      var opening = !nav.classList.contains("open");
      nav.classList.toggle("open", opening);
      toggle.setAttribute("aria-expanded", opening ? "true" : "false");
    });
  }
  document.addEventListener("click", function (event) {
    if (!nav.contains(event.target) && event.target !== toggle) { closeGroups(null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeGroups(null); }
  });
})();
