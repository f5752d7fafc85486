// The portal's improvements for browsers with JavaScript; every page
// works without them (WEB.md). Plain JavaScript, no build step.
//  - Conditions apply as the usager types: the form's fields are sent to
//    its `data-visibility` address, which answers the fields shown.
//  - Files are sent with a progress bar.
//  - An address's coordinates can come from the browser's position.
"use strict";

function focusErrors() {
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
}

function formFields(form, submitter) {
  var data = submitter ? new FormData(form, submitter) : new FormData(form);
  return data;
}

function watchConditions(form) {
  var address = form.getAttribute("data-visibility");
  if (!address || !window.fetch) { return; }
  var timer = null;
  var ask = function () {
    var data = formFields(form);
    form.querySelectorAll("input[type=file]").forEach(function (input) { data.delete(input.name); });
    fetch(address, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) { return; }
        form.querySelectorAll("[data-field]").forEach(function (block) {
          block.hidden = answer.shown.indexOf(block.getAttribute("data-field")) < 0;
        });
      })
      .catch(function () { /* the server decides again when the page is saved */ });
  };
  var later = function (event) {
    if (event.target && event.target.type === "file") { return; }
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
}

function sendWithProgress(form) {
  form.addEventListener("submit", function (event) {
    var chosen = Array.prototype.some.call(
      form.querySelectorAll("input[type=file]"),
      function (input) { return input.files && input.files.length > 0; });
    if (!chosen || !window.XMLHttpRequest) { return; }
    event.preventDefault();
    // `form.action` would be the buttons named "action": read the attribute.
    var target = new URL(form.getAttribute("action"), window.location.href).href;
    var box = form.querySelector(".upload-progress");
    var bar = box ? box.querySelector("progress") : null;
    if (box) { box.hidden = false; }
    var request = new XMLHttpRequest();
    request.open("POST", target);
    request.upload.addEventListener("progress", function (progress) {
      if (bar && progress.lengthComputable) {
        bar.value = Math.round(100 * progress.loaded / progress.total);
        bar.textContent = bar.value + " %";
      }
    });
    request.addEventListener("load", function () {
      if (request.responseURL && request.responseURL !== target) {
        window.location.assign(request.responseURL);
        return;
      }
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      document.title = page.title;
      document.body.replaceWith(document.adoptNode(page.body));
      start();
    });
    request.addEventListener("error", function () {
      if (box) { box.hidden = true; }
      form.submit();
    });
    request.send(formFields(form, event.submitter));
  });
}

function offerPosition(button) {
  if (!navigator.geolocation) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var prefix = button.getAttribute("data-for");
    var status = document.getElementById(prefix + "-position");
    status.textContent = "Recherche de votre position…";
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById(prefix + "-latitude").value = position.coords.latitude.toFixed(6);
      document.getElementById(prefix + "-longitude").value = position.coords.longitude.toFixed(6);
      status.textContent = "Position renseignée.";
    }, function () {
      status.textContent = "Votre position n'a pas pu être obtenue : saisissez l'adresse.";
    });
  });
}

function start() {
  document.querySelectorAll("form.demande-form").forEach(function (form) {
    watchConditions(form);
    sendWithProgress(form);
  });
  document.querySelectorAll("button.locate").forEach(offerPosition);
  focusErrors();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
