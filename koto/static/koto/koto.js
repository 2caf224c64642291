// A form that writes (method post) is sent once: a second click or Enter while the first
// post is on its way is ignored, so a double click does not record a meeting, a consent or
// a goal twice. Buttons are not disabled (that would drop a named button's value from the
// post). Coming back to the page (the browser's back button) lets it be sent again.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
});
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-sent]").forEach(function (form) {
    delete form.dataset.sent;
  });
});
