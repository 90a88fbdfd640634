/* A search-as-you-type picker for a text field the server checks anyway (the ARIA combobox pattern, with a
   listbox popup). Progressive enhancement only: without this file the field is a plain text input.

   Markup (templates/proposals/_unit_field.html):
     [data-combobox]                                 the field
       input[data-combobox-input][data-combobox-url] what the person types, and what the form posts
       [role=listbox]                                filled by htmx from the URL (?q=): [role=option][data-value]
       [data-combobox-status]                        a live region, filled out of band: how many were found
       [data-combobox-hint][hidden]                  help that holds only when the list works

   Typing asks the server 250 ms after the last key. Down and Up move through the options, Enter or a click
   chooses, Escape closes the list. Choosing writes the option's value into the field and fires "change" (the
   editor's autosave listens to it); the keys typed before do not reach the form, so a half-typed name is not
   autosaved. Leaving the field without choosing fires the browser's own "change": the server then checks what
   was typed, as it checks any code. */
(function () {
  "use strict";

  var DELAY_MS = 250;

  function setup(field) {
    var input = field.querySelector("[data-combobox-input]");
    var listbox = field.querySelector("[role=listbox]");
    if (!input || !listbox || !window.htmx) { return; }
    var hint = field.querySelector("[data-combobox-hint]");
    var timer = null;
    var active = -1;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    if (hint) {
      hint.hidden = false;
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      described.push(hint.id);
      input.setAttribute("aria-describedby", described.join(" "));
    }

    function options() {
      return Array.prototype.slice.call(listbox.querySelectorAll("[role=option]"));
    }

    function highlight(index) {
      var all = options();
      active = index;
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("is-active", i === index);
      });
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      if (!options().length) { return; }
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      highlight(-1);
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function choose(option) {
      input.value = option.getAttribute("data-value");
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function search() {
      window.htmx.ajax("GET", input.getAttribute("data-combobox-url"), {
        source: listbox, target: listbox, swap: "innerHTML", values: { q: input.value.trim() }
      });
    }

    input.addEventListener("input", function (event) {
      event.stopPropagation();
      window.clearTimeout(timer);
      timer = window.setTimeout(search, DELAY_MS);
    });

    listbox.addEventListener("htmx:afterSwap", function () {
      active = -1;
      if (document.activeElement === input && options().length) { open(); } else { close(); }
    });

    input.addEventListener("keydown", function (event) {
      var all = options();
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!all.length) { return; }
        event.preventDefault();
        if (listbox.hidden) { open(); }
        if (event.key === "ArrowDown") { highlight(active + 1 < all.length ? active + 1 : 0); }
        else { highlight(active > 0 ? active - 1 : all.length - 1); }
      } else if (event.key === "Enter") {
        if (!listbox.hidden && active >= 0) {
          event.preventDefault();
          choose(all[active]);
        }
      } else if (event.key === "Escape") {
        if (!listbox.hidden) {
          event.preventDefault();
          close();
        }
      }
    });

    input.addEventListener("blur", close);
    // A press on an option would take the focus from the field (and close the list) before the click.
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) { choose(option); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-combobox]").forEach(setup);
  });
}());
