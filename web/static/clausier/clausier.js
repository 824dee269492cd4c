/* clausier — le peu de script de l'application (aucun script en ligne dans les pages).
   Tout fonctionne sans lui ; il garde seulement l'état « invalide » des champs à jour
   quand htmx remplace les messages d'erreur après une vérification immédiate. */
(function () {
  "use strict";

  function markInvalid(root) {
    var boxes = (root || document).querySelectorAll(".erreurs[id]");
    boxes.forEach(function (box) {
      var field = document.querySelector('[aria-describedby~="' + box.id + '"]');
      if (!field) { return; }
      var inputs = field.matches("fieldset") ? field.querySelectorAll("input") : [field];
      inputs.forEach(function (input) {
        if (box.querySelector(".erreur")) {
          input.setAttribute("aria-invalid", "true");
        } else {
          input.removeAttribute("aria-invalid");
        }
      });
    });
  }

  document.addEventListener("htmx:afterSettle", function () {
    markInvalid(document);
    // after a choice on the plan, the focus goes to the message in the card that changed (read by screen readers)
    var changed = document.getElementById("plan-modifie");
    var refused = document.querySelector('#plan-contenu [aria-invalid="true"]');
    if (refused) { refused.focus(); } else if (changed) { changed.focus(); }
  });
  document.addEventListener("htmx:oobAfterSwap", function () { markInvalid(document); });
  // Dépôt des grilles : glisser-déposer sur la zone remplit le champ de fichiers (qui marche aussi sans script).
  function describe(input, out) {
    var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
    out.textContent = names.length ? names.length + (names.length > 1 ? " fichiers choisis : " : " fichier choisi : ") + names.join(", ") : "";
  }
  document.querySelectorAll("[data-depot]").forEach(function (zone) {
    var input = zone.querySelector('input[type="file"]');
    var out = zone.querySelector('[aria-live]');
    if (!input) { return; }
    input.addEventListener("change", function () { if (out) { describe(input, out); } });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("survol"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("survol"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        if (out) { describe(input, out); }
      }
    });
  });
})();
