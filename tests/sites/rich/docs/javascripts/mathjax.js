// A stand-in for MathJax: typesets on every page Material shows, as the real one is told to.
document$.subscribe(() => {
  for (const el of document.querySelectorAll(".arithmatex")) el.dataset.typeset = "yes";
});
