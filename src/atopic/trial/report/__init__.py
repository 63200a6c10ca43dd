"""The trial report: tables (great_tables) and figures (matplotlib, inline SVG) made from the ARD,
assembled into one self-contained ``report.html``."""

from atopic.trial.report.build import ReportContext, render_report

__all__ = ["ReportContext", "render_report"]
