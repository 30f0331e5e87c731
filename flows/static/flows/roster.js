/* The attendance roster of a meeting: search by name, select all / none (per household or for everyone),
   a count of who is ticked, and a proxy's holder and scan shown only for those attending by proxy. */
(function () {
  "use strict";
  var roster = document.getElementById("roster");
  if (!roster) { return; }
  var search = document.getElementById("roster-search");
  var count = document.getElementById("roster-count");
  var empty = document.getElementById("roster-empty");
  var members = Array.prototype.slice.call(roster.querySelectorAll(".roster-member"));

  function box(member) { return member.querySelector("input[name=attendees]"); }

  function showProxy(member) {
    var way = member.querySelector("select[name^=way_]");
    var proxy = member.querySelector(".proxy-fields");
    if (way && proxy) { proxy.hidden = !(box(member).checked && way.value === "proxy"); }
  }

  function recount() {
    var ticked = members.filter(function (member) { return box(member).checked; }).length;
    count.textContent = count.dataset.template.replace("{n}", ticked).replace("{total}", members.length);
  }

  function tick(scope, checked) {
    scope.querySelectorAll(".roster-member").forEach(function (member) {
      if (member.hidden) { return; }
      box(member).checked = checked;
      showProxy(member);
    });
    recount();
  }

  function filter() {
    var query = search.value.trim().toLowerCase();
    var shown = 0;
    roster.querySelectorAll("fieldset.household").forEach(function (household) {
      var visible = 0;
      household.querySelectorAll(".roster-member").forEach(function (member) {
        var match = !query || member.dataset.name.toLowerCase().indexOf(query) !== -1;
        member.hidden = !match;
        if (match) { visible += 1; }
      });
      household.hidden = visible === 0;
      shown += visible;
    });
    empty.hidden = shown !== 0;
  }

  roster.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    if (button.dataset.householdSelect) {
      tick(button.closest("fieldset.household"), button.dataset.householdSelect === "all");
    } else if (button.dataset.roster) {
      tick(roster, button.dataset.roster === "all");
    }
  });
  roster.addEventListener("change", function (event) {
    var member = event.target.closest(".roster-member");
    if (member) { showProxy(member); }
    recount();
  });
  search.addEventListener("input", filter);
  // Enter in the search box filters; it must not submit the meeting.
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); filter(); }
  });
  members.forEach(showProxy);
  recount();
}());
