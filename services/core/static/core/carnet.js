// Small behaviours that need no framework. Everything works without JavaScript too,
// except picking a drug from the search results (the free-text name is then kept).
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
  const posology = document.getElementById("id_" + prefix + "-posology");
  if (posology) posology.focus();
});
// The drug search sends the typed text as "q".
document.addEventListener("htmx:configRequest", function (event) {
  const input = event.detail.elt;
  if (input.matches && input.matches("[data-drug-input]")) {
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
