// Buttons that ask before they act: <button data-confirm="Delete this?">. A script file, not an inline onclick,
// so the Content-Security-Policy can refuse every inline script.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
