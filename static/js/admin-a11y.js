// Names for the controls that Django's admin scripts build in the browser without one (loaded by
// templates/admin/base_site.html; the CSP allows no inline script):
// - select2 (autocomplete_fields): the box that opens the list is named by the field's <label>, the search box of
//   a multiple select too, and its "remove all" cross leaves the list of choices (only items in a list);
// - filter_horizontal: the magnifier's aria-label is allowed once it is an image (role="img").
// select2 and SelectFilter build their markup after this file runs and rebuild it on every change: a
// MutationObserver names what appears.
"use strict";
(function () {
  const labelFor = (select) => select.id && document.querySelector(`label[for="${CSS.escape(select.id)}"]`);

  const labelId = (label) => {
    if (!label.id) label.id = `${label.htmlFor}_label`;
    return label.id;
  };

  const nameSelect2 = (container) => {
    const select = container.previousElementSibling;
    if (!select || select.tagName !== "SELECT") return;
    const label = labelFor(select);
    if (!label) return;
    const id = labelId(label);
    const selection = container.querySelector(".select2-selection");
    if (selection) {
      const rendered = selection.querySelector(".select2-selection__rendered");
      // The box's name: the field's label, then what is chosen (a single select's text).
      const wanted = rendered && rendered.id && rendered.tagName === "SPAN" ? `${id} ${rendered.id}` : id;
      if (selection.getAttribute("aria-labelledby") !== wanted) selection.setAttribute("aria-labelledby", wanted);
      if (rendered && rendered.getAttribute("role") === "textbox") {
        // A read-only "textbox" that is only the chosen text, already read as part of the box's name.
        rendered.removeAttribute("role");
        rendered.removeAttribute("aria-readonly");
      }
      const clear = selection.querySelector("ul.select2-selection__rendered > .select2-selection__clear");
      if (clear) clear.parentElement.before(clear);
    }
    const search = container.querySelector(".select2-search__field");
    if (search && search.getAttribute("aria-label") !== label.textContent.trim()) {
      search.setAttribute("aria-label", label.textContent.trim());
    }
  };

  const fix = () => {
    document.querySelectorAll(".select2-container").forEach(nameSelect2);
    document.querySelectorAll(".help-tooltip.search-label-icon[aria-label]:not([role])").forEach((icon) => {
      icon.setAttribute("role", "img");
    });
  };

  // The observer's callback runs right after the script that changed the page, before anything else
  // (a screen reader, a test, an audit) reads it: named at once, not at the next frame. It watches the
  // tree only, so naming (attributes) does not call it again; moving the cross does, once, and finds
  // nothing left to move.
  document.addEventListener("DOMContentLoaded", () => {
    fix();
    new MutationObserver(fix).observe(document.body, {childList: true, subtree: true});
  });
  window.addEventListener("load", fix);
})();
