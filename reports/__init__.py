"""Result file → verdict, charts, HTML, JUnit, CSV (issue 4).

Public API::

    build_context(result, *, verdict=None) -> ReportContext   # everything derived once
    write_report(result_or_context, out_dir, formats) -> list[Path]
    render_charts(ctx) -> dict[str, bytes]                    # reports.charts (imports matplotlib)
    render_html(ctx, charts) -> str                           # reports.html
    render_junit(ctx) -> str                                  # reports.junit
    series_csv(ctx) -> str, replications_csv(ctx) -> str      # reports.csvs

``reports.charts`` is not imported here: matplotlib costs a second and only charts need it.
"""

from reports.build import FORMATS, default_out_dir, parse_formats, write_report
from reports.context import ReportContext, build_context

__all__ = ["FORMATS", "ReportContext", "build_context", "default_out_dir", "parse_formats", "write_report"]
