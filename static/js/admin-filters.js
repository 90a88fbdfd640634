// The filters of a list as a bar above it (static/css/admin.css, below 1600 px): each filter is a menu, closed
// when the page opens, one open at a time, closed again by Escape (focus back on its title) or a click elsewhere.
// Beside the list, on a wide window, Django's own behaviour stays (admin/js/filters.js remembers which are open).
// Loaded by templates/admin/base_site.html; runs after Django's filters.js (both deferred), at DOMContentLoaded.
"use strict";
(function () {
  const bar = window.matchMedia("(max-width: 1599.98px)");

  document.addEventListener("DOMContentLoaded", () => {
    const nav = document.getElementById("changelist-filter");
    if (!nav) return;
    const filters = [...nav.querySelectorAll("details[data-filter-title]")];
    const closeAll = (except) => filters.forEach((detail) => {
      if (detail !== except && detail.open) detail.open = false;
    });
    const arrange = () => {
      nav.classList.toggle("filter-bar", bar.matches);
      if (bar.matches) closeAll(null);
    };
    arrange();
    bar.addEventListener("change", arrange);

    filters.forEach((detail) => detail.addEventListener("toggle", () => {
      if (bar.matches && detail.open) closeAll(detail);
    }));
    document.addEventListener("click", (event) => {
      if (bar.matches && !nav.contains(event.target)) closeAll(null);
    });
    nav.addEventListener("keydown", (event) => {
      if (!bar.matches || event.key !== "Escape") return;
      const open = filters.find((detail) => detail.open);
      if (open) {
        open.open = false;
        open.querySelector("summary").focus();
      }
    });
  });
})();
