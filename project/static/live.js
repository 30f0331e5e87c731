// The signed-in user's live stream: a websocket to /ws/live/, or, while it cannot connect, HTTP polling
// of /notifications/poll/. Each event updates the bell, shows a toast, is announced to the page as a
// "live:event" DOM event, and redraws the page's [data-live-region] parts that it concerns.
(function () {
  "use strict";
  var body = document.body;
  var config = body.dataset;
  if (!config.liveSocket) { return; }

  var POLL_MS = 3000;
  var MAX_RETRY_MS = 30000;
  var after = parseInt(config.liveAfter || "0", 10) || 0;
  var socket = null;
  var retries = 0;
  var pollTimer = null;
  var signedOut = false;

  // --- what an event does on any page -------------------------------------------------------------

  function setBell(unread) {
    var count = document.getElementById("live-unread");
    var bell = document.getElementById("live-bell");
    if (!count || typeof unread !== "number") { return; }
    count.textContent = String(unread);
    count.setAttribute("data-unread", String(unread));
    if (bell) { bell.classList.toggle("none", unread === 0); }
  }

  function toast(event) {
    var box = document.getElementById("live-toasts");
    if (!box) { return; }
    var item = document.createElement("div");
    item.className = "live-toast";
    item.setAttribute("data-kind", event.kind);
    var title = document.createElement(event.url ? "a" : "span");
    if (event.url) { title.href = event.url; }
    title.textContent = event.title;
    // Most titles already begin with their kind ("新的待办：…"): the label would only repeat it.
    if (event.kind_label && event.title.indexOf(event.kind_label) !== 0) {
      var label = document.createElement("div");
      label.className = "muted";
      label.textContent = event.kind_label;
      item.appendChild(label);
    }
    item.appendChild(title);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
  }

  function deliver(event) {
    if (event.id <= after) { return; }  // the socket and the poll may both bring a row
    after = event.id;
    setBell(event.unread);
    // Progress rows only move a bar: no toast for each percent.
    if (event.kind !== "job_progress") { toast(event); }
    document.dispatchEvent(new CustomEvent("live:event", {detail: event}));
  }

  // --- the socket, and polling while it is down ---------------------------------------------------

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    try {
      socket = new WebSocket(scheme + "//" + window.location.host + config.liveSocket + "?after=" + after);
    } catch (error) {
      socket = null;
      lost();
      return;
    }
    socket.onopen = function () {
      retries = 0;
      stopPolling();
      body.setAttribute("data-live-mode", "socket");
    };
    socket.onmessage = function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (error) { return; }
      if (data.type === "notification") { deliver(data); }
    };
    // An error is always followed by close: handle the loss once, there.
    socket.onclose = lost;
  }

  function lost() {
    socket = null;
    if (signedOut) { return; }
    startPolling();
    retries += 1;
    setTimeout(connect, Math.min(MAX_RETRY_MS, 1000 * Math.pow(2, retries)));
  }

  function poll() {
    fetch(config.livePoll + "?after=" + after, {credentials: "same-origin", redirect: "error", headers: {"Accept": "application/json"}})
      .then(function (response) {
        // Signed out (here or in another tab): nothing more will come until the user signs in again.
        if (response.status === 401) { signedOut = true; stopPolling(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) { return; }
        data.events.forEach(function (event) { event.unread = data.unread; deliver(event); });
        setBell(data.unread);
      })
      .catch(function () { /* offline or signed out: try again next round */ });
  }

  function startPolling() {
    if (pollTimer !== null || signedOut) { return; }
    body.setAttribute("data-live-mode", "poll");
    poll();
    pollTimer = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer !== null) { clearInterval(pollTimer); pollTimer = null; }
  }

  // --- live regions: parts of the page redrawn when an event concerns them -------------------------

  function concerns(region, event) {
    var kinds = (region.getAttribute("data-live-kinds") || "").split(/\s+/).filter(Boolean);
    if (kinds.length && kinds.indexOf(event.kind) === -1) { return false; }
    var matter = region.getAttribute("data-live-matter");
    return !matter || String(event.matter) === matter;
  }

  // A region holding a form the user is filling in is not swapped: they would lose what they typed.
  function inUse(region) {
    if (region.contains(document.activeElement) && document.activeElement !== document.body) {
      var tag = document.activeElement.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return true; }
    }
    var fields = region.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (field.type === "hidden" || field.type === "submit") { continue; }
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== field.defaultChecked) { return true; }
      } else if (field.tagName === "SELECT") {
        for (var j = 0; j < field.options.length; j += 1) {
          if (field.options[j].selected !== field.options[j].defaultSelected) { return true; }
        }
      } else if (field.type === "file" ? field.files.length : field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function markStale(region) {
    if (region.querySelector("[data-live-stale]")) { return; }
    var bar = document.createElement("div");
    bar.className = "live-stale";
    bar.setAttribute("data-live-stale", "");
    bar.textContent = config.liveStaleText || "";
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = config.liveRefreshText || "↻";
    button.addEventListener("click", function () { window.location.reload(); });
    bar.appendChild(button);
    region.insertBefore(bar, region.firstChild);
  }

  // Inline scripts (e.g. a PDF's progress) do not run when inserted as HTML: run them again.
  function runScripts(region) {
    region.querySelectorAll("script").forEach(function (old) {
      var script = document.createElement("script");
      script.textContent = old.textContent;
      old.replaceWith(script);
    });
  }

  function swap(regions) {
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var scrollX = window.scrollX;
        var scrollY = window.scrollY;
        regions.forEach(function (region) {
          var replacement = fresh.getElementById(region.id);
          if (!replacement || replacement.innerHTML === region.innerHTML) { return; }
          if (inUse(region)) { markStale(region); return; }
          var focusedId = region.contains(document.activeElement) ? document.activeElement.id : "";
          region.innerHTML = replacement.innerHTML;
          runScripts(region);
          if (focusedId && document.getElementById(focusedId)) { document.getElementById(focusedId).focus(); }
          region.setAttribute("data-live-updated", String(Date.now()));
        });
        window.scrollTo(scrollX, scrollY);
      })
      .catch(function () { /* the next event tries again */ });
  }

  // Events come in bursts (a step done, the next task created): one redraw for the burst.
  var pending = [];
  var swapTimer = null;
  document.addEventListener("live:event", function (e) {
    document.querySelectorAll("[data-live-region][id]").forEach(function (region) {
      if (concerns(region, e.detail) && pending.indexOf(region) === -1) { pending.push(region); }
    });
    if (!pending.length || swapTimer !== null) { return; }
    swapTimer = setTimeout(function () {
      var regions = pending;
      pending = [];
      swapTimer = null;
      swap(regions);
    }, 300);
  });

  connect();
})();
