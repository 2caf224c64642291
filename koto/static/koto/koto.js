// A form that writes (method post) is sent once: a second click or Enter while the first
// post is on its way is ignored, so a double click does not record a meeting, a consent or
// a goal twice. Buttons are not disabled (that would drop a named button's value from the
// post). The form may be sent again after ten seconds (a post that failed or was stopped)
// or when the page is shown again (the browser's back button). A form that only reads
// (a search posted to keep an identity code out of the address) is marked data-repeatable.
var RESEND_AFTER_MS = 10000;

document.addEventListener("submit", function (event) {
  var form = event.target;
  var method = (event.submitter && event.submitter.getAttribute("formmethod")) ||
    form.getAttribute("method") || "get";
  if (method.toLowerCase() !== "post" || form.hasAttribute("data-repeatable")) return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  setTimeout(function () { delete form.dataset.sent; }, RESEND_AFTER_MS);
});
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-sent]").forEach(function (form) {
    delete form.dataset.sent;
  });
});

// A page given again with errors: the keyboard and the screen reader start at the summary,
// whose links lead to each field.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary[tabindex]");
  if (summary) summary.focus();
});

// A link in the error summary moves the focus to its field, not only the view: a browser
// following "#id_name" scrolls but leaves the focus where it was, so typing would not reach
// the field. The field's label (or its group's legend) is scrolled into view with it.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
  if (!link) return;
  var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
  if (!field) return;
  event.preventDefault();
  var group = field.closest("fieldset.field");
  var label = (group && group.querySelector("legend")) ||
    document.querySelector("label[for='" + CSS.escape(field.id) + "']") || field;
  label.scrollIntoView();
  field.focus({ preventScroll: true });
});

// An htmx request the server refused (a form's security token that changed when the user
// signed in again elsewhere, a server error): htmx swaps nothing, so the form's data-failed
// message is said in the page's status region and shown as an alert.
document.addEventListener("htmx:responseError", function (event) {
  var form = event.detail.elt.closest && event.detail.elt.closest("form[data-failed]");
  if (!form) return;
  var status = document.getElementById("search-status");
  if (status) status.textContent = form.dataset.failed;
  var alert = form.querySelector(".htmx-failed");
  if (!alert) {
    alert = document.createElement("p");
    alert.className = "error htmx-failed";
    alert.setAttribute("role", "alert");
    form.appendChild(alert);
  }
  alert.textContent = form.dataset.failed;
});
document.addEventListener("htmx:afterRequest", function (event) {
  var form = event.detail.elt.closest && event.detail.elt.closest("form[data-failed]");
  var alert = form && event.detail.successful && form.querySelector(".htmx-failed");
  if (alert) alert.remove();
});
