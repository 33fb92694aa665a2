// Quarto's `code-fold: show`: the code is folded but starts open (tagged by tools/build_docs.py).
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('div.tag_code-fold-show details').forEach(function (d) { d.open = true; });
});
