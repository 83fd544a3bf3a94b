"""Report: the self-contained HTML post-incident report and its charts."""

from uproar.report.charts import Band, line_chart, sparkline
from uproar.report.html import ReportInput, Section, html_table, render_report, write_report

__all__ = [
    "Band",
    "ReportInput",
    "Section",
    "html_table",
    "line_chart",
    "render_report",
    "sparkline",
    "write_report",
]
