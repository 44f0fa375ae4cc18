// Suggestion lists usable at the keyboard, after the WAI-ARIA 1.2 combobox pattern.
//
// A text field marked data-combobox="ID" owns the suggestions shown in the element ID
// (htmx fills it while typing). Focus stays in the field: ArrowDown / ArrowUp move the
// active suggestion (aria-activedescendant), Enter picks it (the same click the mouse
// would give, handled in carnet.js), Escape closes the list. The suggestions stay
// buttons reachable with Tab too, as they are without JavaScript.
(function () {
  "use strict";

  function listOf(container) {
    return container ? container.querySelector("ul.options") : null;
  }

  function optionsOf(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll(".option")) : [];
  }

  function active(input) {
    const id = input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function setActive(input, option) {
    const list = listOf(document.getElementById(input.dataset.combobox));
    optionsOf(list).forEach(function (each) {
      const on = each === option;
      each.setAttribute("aria-selected", on ? "true" : "false");
      each.classList.toggle("active", on);
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function setOpen(input, open) {
    const container = document.getElementById(input.dataset.combobox);
    const list = listOf(container);
    const usable = open && optionsOf(list).length > 0;
    if (list) list.hidden = !usable;
    input.setAttribute("aria-expanded", usable ? "true" : "false");
    if (!usable) setActive(input, null);
  }

  // Give the list just swapped in its roles and ids; a new list starts with none active.
  function prepare(input) {
    const container = document.getElementById(input.dataset.combobox);
    const list = listOf(container);
    const listId = input.dataset.combobox + "-list";
    if (list) {
      list.id = listId;
      list.setAttribute("role", "listbox");
      if (!list.hasAttribute("aria-label")) {
        list.setAttribute("aria-label", input.labels && input.labels[0] ? input.labels[0].textContent.trim() : "");
      }
      Array.prototype.forEach.call(list.children, function (item) {
        item.setAttribute("role", "none");
      });
      optionsOf(list).forEach(function (option, index) {
        option.id = listId + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
      });
    }
    // aria-controls names the popup while there is one (WAI-ARIA 1.2).
    if (list) input.setAttribute("aria-controls", listId);
    else input.removeAttribute("aria-controls");
    setOpen(input, optionsOf(list).length > 0);
  }

  function enhance(input) {
    if (input.dataset.comboboxReady) return;
    input.dataset.comboboxReady = "1";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    const container = document.getElementById(input.dataset.combobox);
    if (!container) return;
    // htmx swapping new suggestions in, or a pick emptying the list (carnet.js).
    new MutationObserver(function () { prepare(input); }).observe(container, { childList: true });
    prepare(input);
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("input[data-combobox]").forEach(enhance);
  }

  document.addEventListener("keydown", function (event) {
    const input = event.target;
    if (!input.matches || !input.matches("input[data-combobox]")) return;
    const list = listOf(document.getElementById(input.dataset.combobox));
    const options = optionsOf(list);
    const expanded = input.getAttribute("aria-expanded") === "true";
    const current = active(input);
    const index = options.indexOf(current);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!options.length) return;
      event.preventDefault();
      if (!expanded) {
        setOpen(input, true);
        setActive(input, event.key === "ArrowDown" ? options[0] : options[options.length - 1]);
        return;
      }
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = index < 0 ? (step > 0 ? 0 : options.length - 1) : (index + step + options.length) % options.length;
      setActive(input, options[next]);
    } else if (event.key === "Enter") {
      // Enter with a suggestion active picks it instead of sending the form.
      if (!expanded || !current) return;
      event.preventDefault();
      current.click();
    } else if (event.key === "Escape") {
      if (!expanded) return;
      event.preventDefault();
      setOpen(input, false);
    }
  });

  document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  document.addEventListener("htmx:load", function (event) { enhanceAll(event.detail.elt); });
})();
