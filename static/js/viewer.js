// The detail page's full-window view of the large rendition: opened by its button (or by #view in the address,
// which previous and next use), Escape or Close shut it and give focus back to the button; the arrow keys go to
// the previous (newer) and next (older) picture of the owner's library, in the gallery's order.
(() => {
  const dialog = document.querySelector("dialog.viewer");
  const opener = document.querySelector("[data-viewer-open]");
  if (!dialog || !opener || !dialog.showModal) return;
  const closer = dialog.querySelector("[data-viewer-close]");

  function open() {
    dialog.showModal();
    closer.focus();
  }

  opener.addEventListener("click", open);
  closer.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => event.target === dialog && dialog.close()); // the dark surround
  dialog.addEventListener("close", () => {
    if (location.hash === "#view") history.replaceState(null, "", location.pathname + location.search);
    opener.focus();
  });
  dialog.addEventListener("keydown", (event) => {
    const link = { ArrowLeft: "[data-viewer-prev]", ArrowRight: "[data-viewer-next]" }[event.key];
    if (!link || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    dialog.querySelector(link)?.click();
  });
  if (location.hash === "#view") open();
})();
