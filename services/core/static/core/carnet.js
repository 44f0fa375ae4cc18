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
