"""The pipeline that turns notebooks into figures, reports and verdicts (the engine of ``run_all.sh``).

- :mod:`.catalog`: ``catalog.yaml``, every figure and table of the five papers, loaded and validated;
- :mod:`.runner`: executes the catalog with papermill and renders each notebook's HTML report;
- :mod:`.site`: the report site built from the catalog and the figure JSONs (a scoreboard landing page,
  one page per paper), at the end of every run or alone with ``run_all.sh --report-only``;
- :mod:`.report`: ``save_figure`` (a PNG with a JSON of its settings, numbers and claims), one style;
- :mod:`.claims`: the :class:`~.claims.Claim` record and the comparisons claim rules share;
- :mod:`.profiles`: ``smoke`` / ``default`` / ``paper`` settings of a notebook;
- :mod:`.cache`: on-disk caches of expensive results and checkpoints, keyed by configuration and code.
"""
