// Selecting text in a transcript segment fills the "add a missed identifier" form with that segment and text.
(function () {
  "use strict";
  var list = document.querySelector(".segments");
  var seg = document.getElementById("add-segment");
  var text = document.getElementById("add-text");
  if (!list || !seg || !text) return;
  list.addEventListener("mouseup", function () {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed) return;
    var node = sel.anchorNode && (sel.anchorNode.nodeType === 1 ? sel.anchorNode : sel.anchorNode.parentElement);
    var li = node && node.closest("li[data-segment]");
    var chosen = sel.toString().trim();
    if (!li || !chosen || chosen.length > 200) return;
    seg.value = li.getAttribute("data-segment");
    text.value = chosen;
  });
})();
