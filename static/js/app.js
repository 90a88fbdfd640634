/* Progressive enhancement only: every page works without this file.
   - budget tables add up as you type;
   - countdowns to a deadline tick every 30 s;
   - htmx swaps the body of 4xx answers too (they carry the messages the user must see). */
(function () {
  "use strict";

  function parseAmount(value) {
    var n = parseFloat(String(value || "").replace(/\s/g, "").replace(",", "."));
    return isFinite(n) && n >= 0 ? n : 0;
  }

  // As the server's formatter writes money (iea/formats.py): "12 000,00 €" in French, "€12,000.00" in English.
  var money = new Intl.NumberFormat((document.documentElement.lang || "fr").indexOf("en") === 0 ? "en-GB" : "fr-FR",
                                    { style: "currency", currency: "EUR" });
  function formatAmount(n) {
    return money.format(n);
  }

  function updateBudget(table) {
    var rows = table.querySelectorAll("tbody tr");
    var columns = [];
    var grand = 0;
    rows.forEach(function (row) {
      var rowTotal = 0;
      row.querySelectorAll("input").forEach(function (input, index) {
        var value = parseAmount(input.value);
        rowTotal += value;
        columns[index] = (columns[index] || 0) + value;
      });
      grand += rowTotal;
      var cell = row.querySelector("[data-row-total]");
      if (cell) { cell.textContent = formatAmount(rowTotal); }
    });
    table.querySelectorAll("[data-col-total]").forEach(function (cell) {
      cell.textContent = formatAmount(columns[Number(cell.getAttribute("data-col-total"))] || 0);
    });
    var total = table.querySelector("[data-grand-total]");
    if (total) {
      total.textContent = formatAmount(grand);
      var min = parseFloat(table.getAttribute("data-min"));
      var max = parseFloat(table.getAttribute("data-max"));
      total.classList.toggle("is-out-of-bounds", grand < min || grand > max);
    }
  }

  // Translations come from Django's JavaScript catalogue (/jsi18n/), loaded before this file; the
  // English fallbacks keep the countdown working if it failed to load.
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var gettext = window.gettext || function (text) { return text; };
  function fill(text, n) { return text.replace("%s", n); }

  function updateCountdown(el) {
    var deadline = Date.parse(el.getAttribute("data-deadline"));
    if (isNaN(deadline)) { return; }
    var seconds = Math.floor((deadline - Date.now()) / 1000);
    if (seconds <= 0) { el.textContent = gettext("closed"); return; }
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.max(1, Math.floor((seconds % 3600) / 60));
    var dayText = fill(ngettext("%s day", "%s days", days), days);
    var hourText = fill(ngettext("%s hour", "%s hours", hours), hours);
    var minuteText = fill(ngettext("%s minute", "%s minutes", minutes), minutes);
    if (days) { el.textContent = dayText + ", " + hourText; }
    else if (hours) { el.textContent = hourText + ", " + minuteText; }
    else { el.textContent = minuteText; }
  }

  function init(root) {
    root.querySelectorAll("[data-budget]").forEach(function (table) {
      updateBudget(table);
      table.addEventListener("input", function () { updateBudget(table); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    var countdowns = document.querySelectorAll("[data-deadline]");
    countdowns.forEach(updateCountdown);
    if (countdowns.length) {
      window.setInterval(function () { document.querySelectorAll("[data-deadline]").forEach(updateCountdown); }, 30000);
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
}());
