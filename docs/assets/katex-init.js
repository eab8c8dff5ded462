// Render the math that pymdownx.arithmatex (generic mode) leaves in <span|div class="arithmatex">.
// KaTeX is shipped with the site (docs/assets/katex); no network access is needed.
(function () {
  function render() {
    document.querySelectorAll(".arithmatex").forEach(function (el) {
      renderMathInElement(el, {
        delimiters: [
          { left: "\\[", right: "\\]", display: true },
          { left: "\\(", right: "\\)", display: false },
        ],
        throwOnError: false,
      });
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(render); // mkdocs-material instant navigation
  } else {
    document.addEventListener("DOMContentLoaded", render);
  }
})();
