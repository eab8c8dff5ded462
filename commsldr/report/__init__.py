"""Reporting: what a run writes and draws, together.

- :mod:`commsldr.report.results` — the result files of a scenario run (``results.json``,
  ``results.csv``, ``per_seed.csv``, ``timeline.json``): writing and reading them back;
- :mod:`commsldr.report.plots` — the figures of a run, drawn from its result files
  (``commsldr plot RUN_DIR``);
- :mod:`commsldr.report.paper_figures` — the paper's Figs. 2-5 from trained models (the
  scenario section ``paper_figures``, ``scripts/reproduce_figures.py``);
- :mod:`commsldr.report.coding_figures` — accuracy-versus-rate and latent-spread figures of
  :mod:`commsldr.coding`'s rate-accuracy curves.

Only :mod:`~commsldr.report.results` is imported with the package (matplotlib and torch load
with the figure modules, on first use). Nothing below ``scenario`` imports this package.
"""

from commsldr.report.results import RESULT_FILES, load_results, save_results

__all__ = ["RESULT_FILES", "load_results", "save_results"]
