// SimScaleAI docs: small behaviours on top of furo (loaded on every page; tools/build_docs.py).
(function () {
  'use strict';

  // Quarto's `code-fold: show`: the code is folded but starts open (tagged by tools/build_docs.py).
  function openFolds() {
    document.querySelectorAll('div.tag_code-fold-show details').forEach(function (d) { d.open = true; });
  }

  // Display math wider than the column: first shrink it a little (down to 80 %, where it stays readable)
  // so that it fits; what still does not fit scrolls in its box (a visible scroll bar, see the CSS),
  // marked `scrolls` for the edge shadows and the "scroll for more" hint.
  var MIN_SCALE = 0.8;
  function fitMath() {
    document.querySelectorAll('div.math').forEach(function (box) {
      var mj = box.querySelector('mjx-container');
      if (!mj) return;
      if (mj.dataset.fontSize === undefined) mj.dataset.fontSize = mj.style.fontSize || '';
      mj.style.fontSize = mj.dataset.fontSize;
      box.classList.remove('scrolls', 'shrunk');
      var avail = box.clientWidth, need = box.scrollWidth;
      if (!avail || need <= avail + 1) return;
      var f = avail / need;
      if (f >= MIN_SCALE) {
        var base = parseFloat(mj.dataset.fontSize) || 100;
        mj.style.fontSize = (Math.floor(base * f * 10) / 10 - 0.5) + '%';
        box.classList.add('shrunk');
      }
      if (box.scrollWidth > box.clientWidth + 1) box.classList.add('scrolls');
    });
    document.documentElement.dataset.mathFitted = '1';
  }
  function whenMathReady(fn) {
    var tries = 0;
    (function poll() {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(fn);
      else if (tries++ < 100 && document.querySelector('div.math, span.math')) setTimeout(poll, 100);
    })();
  }

  // Figures: a click (or Enter) opens the image over the page, large enough to read; a click or Esc closes it.
  var box = null;
  function lightbox() {
    if (box) return box;
    box = document.createElement('div');
    box.id = 'simscaleai-lightbox';
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-label', 'Enlarged figure (click or press Esc to close)');
    box.innerHTML = '<button class="close" aria-label="Close">&times;</button><img alt="">';
    box.addEventListener('click', closeBox);
    document.body.appendChild(box);
    return box;
  }
  function closeBox() { if (box) { box.classList.remove('open'); document.body.style.overflow = ''; } }
  function openBox(img) {
    var b = lightbox(), big = b.querySelector('img');
    var nw = img.naturalWidth || img.width, nh = img.naturalHeight || img.height;
    var vw = window.innerWidth * 0.96, vh = window.innerHeight * 0.96, w;
    if (nw > vw) w = nw * 0.6 <= vw ? vw : nw;                 // shrink at most 40 %, else natural size (pan)
    else w = Math.max(nw, Math.min(vw, nw * 1.6, vh * nw / nh)); // fill the screen, within reason
    big.src = img.currentSrc || img.src;
    big.alt = img.alt || '';
    big.style.width = Math.round(w) + 'px';
    b.classList.add('open');
    document.body.style.overflow = 'hidden';
  }
  function zoomable() {
    document.querySelectorAll('.cell_output img, article figure img, article p > img').forEach(function (img) {
      if (img.closest('a')) return;
      img.classList.add('zoomable');
      img.setAttribute('tabindex', '0');
      img.setAttribute('role', 'button');
      if (!img.title) img.title = 'Click to enlarge';
      img.addEventListener('click', function () { openBox(img); });
      img.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openBox(img); } });
    });
  }
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeBox(); });

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(fitMath, 150);
  });
  document.addEventListener('DOMContentLoaded', function () {
    openFolds();
    zoomable();
    whenMathReady(fitMath);
  });
})();
