// Small behaviours that need no framework. Everything works without JavaScript too,
// except picking from the search results (the typed text is then kept, and the
// prescription form says it could not be checked).
document.addEventListener("click", function (event) {
  const option = event.target.closest("[data-pick-drug]");
  if (!option) return;
  const prefix = option.dataset.target;
  const cis = document.getElementById("id_" + prefix + "-drug_cis");
  const label = document.getElementById("id_" + prefix + "-drug_label");
  if (cis) cis.value = option.dataset.cis;
  if (label) { label.value = option.dataset.label; }
  const list = option.closest(".drug-options");
  if (list) list.innerHTML = "";
  const next = document.getElementById("id_" + prefix + "-dose_quantity");
  if (next) next.focus();
  // The safety checks run as soon as a drug is picked (records:prescription-check).
  document.body.dispatchEvent(new CustomEvent("drug-picked"));
});
// An allergy picked from the reference: a substance (BDPM code) or a class (ATC).
document.addEventListener("click", function (event) {
  const option = event.target.closest("[data-pick-allergen]");
  if (!option) return;
  const set = function (id, value) {
    const field = document.getElementById(id);
    if (field) field.value = value || "";
  };
  set("id_substance", option.dataset.label);
  set("id_substance_code", option.dataset.code);
  set("id_atc_class", option.dataset.atc);
  const list = option.closest(".drug-options");
  if (list) list.innerHTML = "";
  const next = document.getElementById("id_kind");
  if (next) next.focus();
});
// Typing again after a pick: what is typed is free text, no longer the picked code.
document.addEventListener("input", function (event) {
  const input = event.target;
  if (!input.matches) return;
  if (input.matches("[data-drug-input]")) {
    const cis = document.getElementById("id_" + input.dataset.target + "-drug_cis");
    if (cis) cis.value = "";
  } else if (input.matches("[data-allergen-input]")) {
    ["id_substance_code", "id_atc_class"].forEach(function (id) {
      const field = document.getElementById(id);
      if (field) field.value = "";
    });
  }
});
// The searches send the typed text as "q".
document.addEventListener("htmx:configRequest", function (event) {
  const input = event.detail.elt;
  if (input.matches && input.matches("[data-drug-input], [data-allergen-input]")) {
    event.detail.parameters["q"] = input.value;
  }
});
// Picking a CIM-10 code (or a vaccine) from the suggestions. Without JavaScript each
// suggestion is a submit button that sends its code with the form.
document.addEventListener("click", function (event) {
  const option = event.target.closest("[data-pick-cim10], [data-pick-vaccine]");
  if (!option) return;
  event.preventDefault();
  const form = option.closest("form");
  const isCode = option.hasAttribute("data-pick-cim10");
  const value = form.querySelector(isCode ? "#id_code" : "#id_drug");
  const label = form.querySelector(isCode ? "#id_label" : "#id_vaccine");
  if (value) value.value = option.dataset.code;
  if (label && (!isCode || !label.value)) label.value = option.dataset.label;
  const list = option.closest(".pick-options");
  if (list) list.innerHTML = "";
  const next = form.querySelector(isCode ? "#id_label" : "#id_lot_number");
  if (next) next.focus();
});
