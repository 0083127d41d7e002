// The bulk selection of form#selection (templates/uploads/partials/selection.html). Without this script the cards
// are plain checkboxes and the toolbar plain submit buttons; with it:
// - click toggles a card's checkbox; shift-click selects the range from the last one clicked;
// - once something is selected (selection mode), a click anywhere on a card toggles it instead of opening it;
// - keyboard, on a card's checkbox: Space toggles, Shift+Space selects the range from the last one, Shift+arrows
//   move to the next card and select it too (extending the selection), Escape clears;
// - touch: a long press on a card starts selection mode with that card; taps then toggle;
// - the toolbar shows "n selected", offers Select all on page and Clear, and disables its actions with nothing
//   selected;
// - the favourite buttons (button[data-favourite]) toggle with fetch, so the page does not reload.
(function () {
  "use strict";
  const LONG_PRESS_MS = 500;

  function setUp(form) {
    const boxes = () => Array.from(form.querySelectorAll('input[type="checkbox"][name="ids"]'));
    const count = form.querySelector("[data-selection-count]");
    const all = form.querySelector("[data-select-all]");
    const clear = form.querySelector("[data-select-clear]");
    let anchor = null; // the checkbox a range starts from
    let suppressClick = false; // a long press ends in a click that must not toggle again

    function refresh() {
      const list = boxes();
      const chosen = list.filter((box) => box.checked).length;
      for (const box of list) box.closest(".media-card").classList.toggle("selected", box.checked);
      form.classList.toggle("selecting", chosen > 0);
      count.textContent = chosen + " selected";
      for (const button of form.querySelectorAll("[data-needs-selection]")) button.disabled = chosen === 0;
      clear.disabled = chosen === 0;
      all.disabled = chosen === list.length;
    }

    function selectRange(from, to, checked) {
      const list = boxes();
      const [a, b] = [list.indexOf(from), list.indexOf(to)].sort((x, y) => x - y);
      if (a < 0) return;
      for (const box of list.slice(a, b + 1)) box.checked = checked;
    }

    function clearAll() {
      for (const box of boxes()) box.checked = false;
      anchor = null;
      refresh();
    }

    // The card below, above, left or right of `box`'s card, in the grid as laid out now.
    function neighbour(box, key) {
      const list = boxes();
      const index = list.indexOf(box);
      if (key === "ArrowLeft") return list[index - 1];
      if (key === "ArrowRight") return list[index + 1];
      const top = box.closest(".media-card").offsetTop;
      const columns = list.filter((b) => b.closest(".media-card").offsetTop === top).length || 1;
      return list[index + (key === "ArrowDown" ? columns : -columns)];
    }

    all.hidden = clear.hidden = false;
    all.addEventListener("click", () => {
      for (const box of boxes()) box.checked = true;
      refresh();
    });
    clear.addEventListener("click", clearAll);

    form.addEventListener("click", (event) => {
      if (suppressClick) {
        suppressClick = false;
        event.preventDefault();
        return;
      }
      const box = event.target.closest('input[name="ids"]');
      if (box) {
        if (event.shiftKey && anchor && anchor !== box) selectRange(anchor, box, box.checked);
        anchor = box;
        refresh();
        return;
      }
      // In selection mode a click on a card (not on its buttons) toggles it rather than opening the item.
      const card = event.target.closest(".media-card");
      if (!card || event.target.closest("button") || !form.classList.contains("selecting")) return;
      event.preventDefault();
      const own = card.querySelector('input[name="ids"]');
      own.checked = !own.checked;
      if (event.shiftKey && anchor && anchor !== own) selectRange(anchor, own, own.checked);
      anchor = own;
      refresh();
    });

    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        if (boxes().some((box) => box.checked)) {
          clearAll();
          event.preventDefault();
        }
        return;
      }
      const box = event.target.closest('input[name="ids"]');
      if (!box || !event.shiftKey) return;
      if (event.key === " ") {
        event.preventDefault(); // the browser would toggle it; a range is meant
        if (anchor && anchor !== box) selectRange(anchor, box, true);
        else box.checked = true;
        refresh();
      } else if (event.key.startsWith("Arrow")) {
        const next = neighbour(box, event.key);
        event.preventDefault();
        if (!next) return;
        if (!anchor) anchor = box;
        box.checked = true;
        selectRange(anchor, next, true);
        next.focus();
        refresh();
      }
    });
    form.addEventListener("change", (event) => {
      if (event.target.matches('input[name="ids"]')) {
        anchor = event.target;
        refresh();
      }
    });

    // Touch: press and hold a card to start selecting; the click that ends the press is not a second toggle.
    let timer = null;
    form.addEventListener(
      "touchstart",
      (event) => {
        const card = event.target.closest(".media-card");
        if (!card || event.target.closest("button, input") || form.classList.contains("selecting")) return;
        timer = setTimeout(() => {
          const own = card.querySelector('input[name="ids"]');
          own.checked = true;
          anchor = own;
          suppressClick = true;
          refresh();
        }, LONG_PRESS_MS);
      },
      { passive: true },
    );
    for (const type of ["touchend", "touchmove", "touchcancel"]) {
      form.addEventListener(type, () => clearTimeout(timer), { passive: true });
    }
    form.addEventListener("contextmenu", (event) => {
      if (suppressClick) event.preventDefault(); // the long press's own menu
    });

    refresh();
  }

  // Favourite toggles: POST as the form would, asking for JSON; the button flips in place.
  function csrfToken(button) {
    const form = button.form || button.closest("form");
    const field = form && form.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-favourite]");
    if (!button) return;
    event.preventDefault();
    const url = button.getAttribute("formaction") || (button.form && button.form.action);
    const body = new FormData();
    body.append("favourite", button.value);
    button.disabled = true;
    try {
      const response = await fetch(url, {
        method: "POST",
        body,
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(button) },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      const answer = await response.json();
      button.setAttribute("aria-pressed", String(answer.favourite));
      button.value = answer.favourite ? "0" : "1";
      button.querySelector('[aria-hidden="true"]').textContent = answer.favourite ? "★" : "☆";
      button.disabled = false;
    } catch (error) {
      button.disabled = false;
      if (button.form) button.form.requestSubmit(button); // let the server say what went wrong, in the page
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-selection]")) setUp(form);
  });
})();
