// The API docs: Swagger UI draws a <select> for each parameter with a list of values but gives it no
// name; name each after its parameter so that screen readers say what it chooses.
(() => {
  const name = () => {
    document.querySelectorAll("tr[data-param-name] select:not([aria-label])").forEach((select) => {
      const row = select.closest("tr[data-param-name]");
      select.setAttribute("aria-label", `${row.dataset.paramName} (${row.dataset.paramIn || "parameter"})`);
    });
  };
  new MutationObserver(name).observe(document.documentElement, { childList: true, subtree: true });
})();
