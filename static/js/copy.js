// Copy buttons: <button data-copy="ID" data-copy-status="ID" hidden> copies the text of the element ID and says
// "Copied" in the status element (role="status", aria-live), so screen readers hear it too. The buttons are hidden
// until this script runs: without it they could do nothing. A script file, not inline: the CSP forbids those.
(function () {
  function select(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Without the Clipboard API (an insecure origin, an old browser, a refused permission): select the text, and
  // try the old copy command on the selection; if that fails too, the person copies the selected text.
  function fallback(element) {
    select(element);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function say(status, text) {
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50); // a changed text is announced again
  }

  async function copy(button) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copyStatus);
    if (!source) return;
    const text = source.textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
      say(status, "Copied");
    } catch (error) {
      say(status, fallback(source) ? "Copied" : "Selected: press Ctrl+C (⌘C on a Mac) to copy");
    }
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (button) copy(button);
  });
})();
