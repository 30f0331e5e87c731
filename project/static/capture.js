// The capture page (documents/templates/documents/capture.html): take pages with a document camera
// (高拍仪) or webcam, add chosen files, reorder or drop them, and send them all in one request, in order.
// Without this script the page is a plain multipart form and still works.
(function () {
  "use strict";

  var form = document.getElementById("capture-form");
  if (!form || !window.fetch || !window.FormData || !window.Blob) {
    return;
  }
  var text = JSON.parse(document.getElementById("capture-text").textContent);
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var stepSelect = document.getElementById("id_step");
  var fileInputs = [document.getElementById("id_files"), document.getElementById("id_photo")];
  var cameraSection = document.getElementById("camera");
  var deviceSelect = document.getElementById("camera-device");
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var takeButton = document.getElementById("camera-take");
  var video = document.getElementById("camera-video");
  var cameraError = document.getElementById("camera-error");
  var pagesSection = document.getElementById("pages-section");
  var list = document.getElementById("pages");
  var pageCount = document.getElementById("page-count");
  var submitButton = document.getElementById("capture-submit");
  var progress = document.getElementById("capture-progress");
  var errorList = document.getElementById("capture-errors");

  // Each item: {blob, name (sent as the file name), label (shown), url (preview or null), sha256}
  var items = [];
  var taken = 0;
  var stream = null;

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function showErrors(messages) {
    errorList.textContent = "";
    messages.forEach(function (message) {
      var li = document.createElement("li");
      li.className = "error";
      li.textContent = message;
      errorList.appendChild(li);
    });
    errorList.hidden = messages.length === 0;
  }

  function showCameraError(message) {
    cameraError.textContent = message || "";
    cameraError.hidden = !message;
  }

  // --- the list of pages ------------------------------------------------------------------

  function fingerprint(item) {
    // The same SHA-256 the server records on arrival, shown before sending (secure pages only).
    if (!window.crypto || !window.crypto.subtle || !item.blob.arrayBuffer) {
      return;
    }
    item.blob
      .arrayBuffer()
      .then(function (buffer) {
        return window.crypto.subtle.digest("SHA-256", buffer);
      })
      .then(function (digest) {
        item.sha256 = Array.prototype.map
          .call(new Uint8Array(digest), function (byte) {
            return byte.toString(16).padStart(2, "0");
          })
          .join("");
        render();
      })
      .catch(function () {});
  }

  function addItem(blob, name, label) {
    var previewable = blob.type === "image/jpeg" || blob.type === "image/png";
    var item = { blob: blob, name: name, label: label, url: previewable ? URL.createObjectURL(blob) : null, sha256: "" };
    items.push(item);
    showErrors([]);
    render();
    fingerprint(item);
  }

  function move(index, offset) {
    var target = index + offset;
    if (target < 0 || target >= items.length) {
      return;
    }
    var item = items.splice(index, 1)[0];
    items.splice(target, 0, item);
    render();
    var button = list.children[target].querySelector(offset < 0 ? ".page-up" : ".page-down");
    (button && !button.disabled ? button : list.children[target].querySelector(".page-remove")).focus();
  }

  function remove(index) {
    var item = items.splice(index, 1)[0];
    if (item.url) {
      URL.revokeObjectURL(item.url);
    }
    render();
  }

  function button(label, title, className, disabled, action) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = className;
    element.textContent = label;
    element.title = title;
    element.setAttribute("aria-label", title);
    element.disabled = disabled;
    element.addEventListener("click", action);
    return element;
  }

  function render() {
    list.textContent = "";
    items.forEach(function (item, index) {
      var li = document.createElement("li");
      li.dataset.name = item.name;
      if (item.sha256) {
        li.dataset.sha256 = item.sha256;
      }
      var preview;
      if (item.url) {
        preview = document.createElement("img");
        preview.src = item.url;
        preview.alt = item.label;
      } else {
        preview = document.createElement("div");
        preview.className = "filetype";
        preview.textContent = (item.name.split(".").pop() || "?").toUpperCase();
      }
      li.appendChild(preview);
      var name = document.createElement("div");
      name.className = "name";
      name.textContent = index + 1 + ". " + item.label;
      li.appendChild(name);
      if (item.sha256) {
        var sha = document.createElement("code");
        sha.className = "muted";
        sha.title = "SHA-256";
        sha.textContent = item.sha256.slice(0, 12) + "…";
        li.appendChild(sha);
      }
      var tools = document.createElement("div");
      tools.appendChild(button(text.up, text.moveUp, "page-up secondary", index === 0, function () { move(index, -1); }));
      tools.appendChild(
        button(text.down, text.moveDown, "page-down secondary", index === items.length - 1, function () { move(index, 1); })
      );
      tools.appendChild(button(text.remove, text.removePage, "page-remove danger", false, function () { remove(index); }));
      li.appendChild(tools);
      list.appendChild(li);
    });
    pageCount.textContent = String(items.length);
    pagesSection.hidden = items.length === 0;
  }

  fileInputs.forEach(function (input) {
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (file) {
        addItem(file, file.name, file.name);
      });
      // The chosen files now live in the list; the form no longer sends the input itself.
      input.value = "";
    });
  });

  // --- the camera -------------------------------------------------------------------------

  function cameraMessage(error) {
    switch (error && error.name) {
      case "NotAllowedError":
      case "PermissionDeniedError":
      case "SecurityError":
        return text.notAllowed;
      case "NotFoundError":
      case "DevicesNotFoundError":
      case "OverconstrainedError":
        return text.notFound;
      case "NotReadableError":
      case "TrackStartError":
      case "AbortError":
        return text.notReadable;
      default:
        return format(text.other, { error: (error && (error.message || error.name)) || "?" });
    }
  }

  function stopCamera() {
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
    }
    stream = null;
    video.srcObject = null;
    video.hidden = true;
    takeButton.disabled = true;
    stopButton.hidden = true;
  }

  function listCameras() {
    // Device names are known only after the first permission; a 高拍仪 often sits beside a built-in webcam.
    navigator.mediaDevices
      .enumerateDevices()
      .then(function (devices) {
        var chosen = deviceSelect.value;
        var cameras = devices.filter(function (device) {
          return device.kind === "videoinput";
        });
        while (deviceSelect.options.length > 1) {
          deviceSelect.remove(1);
        }
        cameras.forEach(function (camera, index) {
          var option = new Option(camera.label || format(text.camera, { number: index + 1 }), camera.deviceId);
          deviceSelect.add(option);
        });
        deviceSelect.value = chosen;
      })
      .catch(function () {});
  }

  function startCamera() {
    stopCamera();
    showCameraError("");
    var constraints = { width: { ideal: 2592 }, height: { ideal: 1944 } };
    if (deviceSelect.value) {
      constraints.deviceId = { exact: deviceSelect.value };
    } else {
      constraints.facingMode = { ideal: "environment" };
    }
    startButton.disabled = true;
    navigator.mediaDevices
      .getUserMedia({ video: constraints, audio: false })
      .then(function (mediaStream) {
        stream = mediaStream;
        video.srcObject = mediaStream;
        video.hidden = false;
        stopButton.hidden = false;
        return video.play();
      })
      .then(function () {
        takeButton.disabled = false;
        listCameras();
      })
      .catch(function (error) {
        stopCamera();
        showCameraError(cameraMessage(error));
      })
      .then(function () {
        startButton.disabled = false;
      });
  }

  function takePage() {
    if (!stream || !video.videoWidth) {
      showCameraError(text.notReady);
      return;
    }
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    takeButton.disabled = true;
    canvas.toBlob(
      function (blob) {
        takeButton.disabled = !stream;
        if (!blob) {
          showCameraError(text.notReady);
          return;
        }
        taken += 1;
        addItem(blob, "page-" + taken + ".jpg", format(text.page, { number: taken }));
      },
      "image/jpeg",
      0.9
    );
  }

  cameraSection.hidden = false;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    // Browsers hide the camera API on plain-http pages other than localhost.
    startButton.disabled = true;
    showCameraError(window.isSecureContext === false ? text.insecure : text.notFound);
  } else {
    startButton.addEventListener("click", startCamera);
    stopButton.addEventListener("click", stopCamera);
    takeButton.addEventListener("click", takePage);
    deviceSelect.addEventListener("change", function () {
      if (stream) {
        startCamera();
      }
    });
    window.addEventListener("pagehide", stopCamera);
  }

  // --- sending ------------------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (items.length === 0) {
      showErrors([text.noPages]);
      return;
    }
    var data = new FormData();
    data.append("csrfmiddlewaretoken", token);
    data.append("step", stepSelect.value);
    items.forEach(function (item) {
      data.append("files", item.blob, item.name);
    });
    submitButton.disabled = true;
    progress.textContent = format(text.sending, { count: items.length });
    showErrors([]);
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token },
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            if (response.ok && body.redirect) {
              stopCamera();
              window.location.assign(body.redirect);
              return;
            }
            showErrors(body.errors && body.errors.length ? body.errors : [text.failed]);
            submitButton.disabled = false;
            progress.textContent = "";
          });
      })
      .catch(function () {
        showErrors([text.failed]);
        submitButton.disabled = false;
        progress.textContent = "";
      });
  });
})();
