"""graftlab.report: the run report, ``RUN/report.html``, and its figures under ``RUN/plots/``.

``build_report(run_dir)`` reads whatever the run directory holds (dataset summary,
configuration, results.csv, summary.json, predictions, findings) and writes one
self-contained HTML page; ``graftlab report RUN`` rebuilds it.
"""

from graftlab.report.html import build_report

__all__ = ["build_report"]
