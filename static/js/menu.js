// The user menu (a <details> in base.html) closes on Escape, as menus do, and gives the focus back to its
// summary when it was inside. A script file, not an inline handler: the Content-Security-Policy refuses those.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
    const focusInside = menu.contains(document.activeElement);
    menu.open = false;
    if (focusInside) menu.querySelector("summary").focus();
  });
});
