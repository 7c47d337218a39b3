// The printable report's "Print" button (no inline handlers: the CSP blocks them).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
