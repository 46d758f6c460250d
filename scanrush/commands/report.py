"""``scanrush report RESULT [--out DIR] [--format html,png,junit,csv]``: every output from one result file."""

from __future__ import annotations

import argparse
import time

from scanrush.errors import InputError
from scanrush.results import read_result
from scanrush.summary import make_console, render_summary, render_verdict


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", metavar="RESULT", help="a result file written by `scanrush sim`, `load` or `check`")
    parser.add_argument("-o", "--out", metavar="DIR",
                        help="folder for the report files (default: next to RESULT, as <name>-report/)")
    parser.add_argument("--format", dest="formats", default="html,png,junit,csv", metavar="LIST",
                        help="comma-separated outputs: html (self-contained report.html), png (charts/*.png), "
                             "junit (junit.xml, one testcase per gate), csv (series.csv, replications.csv); "
                             "default: all")


def run(args: argparse.Namespace) -> int:
    """Exit 0 once the files are written; 2 for a bad result file or format list."""
    from reports import build_context, default_out_dir, parse_formats, write_report

    try:
        formats = parse_formats(args.formats)
    except ValueError as exc:
        raise InputError(f"--format: {exc}") from exc
    result = read_result(args.result)  # InputError (exit 2) naming the file
    started = time.perf_counter()
    ctx = build_context(result)
    console = make_console()
    render_summary(result, console)
    render_verdict(ctx.verdict, console, note=ctx.verdict_note)
    written = write_report(ctx, args.out or default_out_dir(args.result), formats)
    console.print(f"report: {len(written)} files in {time.perf_counter() - started:.1f}s")
    for path in written:
        console.print(f"  {path}", highlight=False, markup=False, soft_wrap=True)
    return 0
