// A stand-in for tablesort, wired as Material's documentation shows.
document$.subscribe(() => {
  for (const table of document.querySelectorAll("article table:not([class])")) {
    table.dataset.sortable = "yes";
  }
});
