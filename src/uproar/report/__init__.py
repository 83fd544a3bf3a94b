"""Report: the self-contained post-incident report (HTML or PDF) and its charts.

``build_report`` gathers what a report says from a store; ``write_report`` renders it.
"""

from uproar.report.charts import Band, sparkline
from uproar.report.html import Section, html_table, render_html, write_report
from uproar.report.incident import Report, build_report

__all__ = [
    "Band",
    "Report",
    "Section",
    "build_report",
    "html_table",
    "render_html",
    "sparkline",
    "write_report",
]
