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
})();
