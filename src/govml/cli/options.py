"""Command-line options that several command groups share, written once so that their help reads the same."""

from __future__ import annotations

import typer

ENCODING_HELP = ("Text encoding of a CSV/TXT or of a web page saved as Excel (detected when omitted: UTF-8, "
                 "UTF-8-BOM, UTF-16, GBK, GB18030; a web page's <meta charset> first).")
SHEET_HELP = ("Excel sheet name or number from 0 (default: the first sheet naming the columns asked for, else the "
              "first; which one is said); all: every sheet with the same header, read as one table (an export of "
              "one sheet per month or quarter). A web page saved as Excel (.xls/.html): its tables are the sheets "
              "(table1, table2 … or their caption).")

ENCODING = typer.Option(None, "--encoding", help=ENCODING_HELP)
SHEET = typer.Option(None, "--sheet", help=SHEET_HELP)
