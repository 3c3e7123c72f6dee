// Every page: confirmations for actions that change what is live, and wide tables that scroll on a
// narrow screen reachable by keyboard. No inline script anywhere: pages mark elements with data-*.
(function () {
  "use strict";

  // <form data-confirm="Make v3 the active generator?"> or <button data-confirm="..."> asks first.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const button = event.submitter;
    const message = (button && button.dataset.confirm) || form.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // A table wider than its column scrolls sideways (app.css); make it a focusable, named region so
  // keyboard users can scroll it too.
  function markScrollingTables() {
    document.querySelectorAll("main table").forEach((table, index) => {
      const scrolls = table.scrollWidth > table.clientWidth + 1;
      if (scrolls && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
        table.setAttribute("role", table.getAttribute("role") || "region");
        if (!table.hasAttribute("aria-label") && !table.hasAttribute("aria-labelledby")) {
          const caption = table.querySelector("caption");
          const heading = table.closest("section, .card") && table.closest("section, .card").querySelector("h1, h2, h3");
          table.setAttribute("aria-label", (caption || heading || {}).textContent || "table " + (index + 1));
        }
      }
    });
  }
  markScrollingTables();
  window.addEventListener("resize", markScrollingTables);
})();
