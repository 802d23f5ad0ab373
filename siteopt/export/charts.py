"""Native Excel charts over blocks of the "Chart data" sheet.

Every axis is set `delete = False` (openpyxl 3.1 writes no `<c:delete>` otherwise and some
viewers hide the axes) and every value axis says its unit in its title.
"""

from __future__ import annotations

from openpyxl.chart import AreaChart, BarChart, LineChart, Reference
from openpyxl.chart.axis import ChartLines, DateAxis
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.line import LineProperties
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
)
from openpyxl.worksheet.worksheet import Worksheet

AXIS_MUSD = "#,##0;(#,##0)"  # axis labels in USD m: whole millions

COLORS = {
    "mining": "F7931A", "construction": "A5A5A5", "leased": "1F4E79", "idle": "9DC3E6",
    "spot": "70AD47", "capex": "7F6000", "ebitda": "C00000", "cash": "1F4E79",
    "debt": "C00000", "hpc": "1F4E79", "npv": "1F4E79", "value_added": "70AD47",
}
WIDTH_CM, HEIGHT_CM = 17.0, 9.0


def _font(size: int = 900, bold: bool = False) -> RichText:
    props = CharacterProperties(sz=size, b=bold)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def _axes(chart, x_title: str | None, y_title: str, y_format: str = "#,##0") -> None:
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False
        axis.txPr = _font(900)
    chart.x_axis.title = x_title
    chart.y_axis.title = y_title
    chart.y_axis.number_format = y_format
    chart.y_axis.majorGridlines = ChartLines()
    chart.y_axis.majorGridlines.spPr = GraphicalProperties(ln=LineProperties(solidFill="D9D9D9"))
    chart.x_axis.majorGridlines = None
    chart.x_axis.tickLblPos = "low"  # labels stay at the bottom when values go negative


def _title(text: str) -> Title:
    props = CharacterProperties(sz=1200, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=props),
                          r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _finish(chart, title: str) -> None:
    chart.title = _title(title)
    chart.width, chart.height = WIDTH_CM, HEIGHT_CM
    chart.legend.position = "b"
    chart.style = 2


def _color(series, color: str, line: bool = False) -> None:
    if line:
        series.graphicalProperties.line.solidFill = color
        series.graphicalProperties.line.width = 28575  # 2.25 pt
        series.smooth = False
    else:
        series.graphicalProperties.solidFill = color
        series.graphicalProperties.line.solidFill = color


def _monthly_axis(chart) -> None:
    """A date axis over first-of-month categories: one label per calendar year."""
    axis = DateAxis(crossAx=chart.y_axis.axId)
    axis.number_format = "yyyy"
    axis.majorTimeUnit = "years"
    axis.majorUnit = 1
    axis.baseTimeUnit = "months"
    axis.delete = False
    axis.txPr = _font(900)
    axis.tickLblPos = "low"
    axis.majorGridlines = None
    chart.x_axis = axis
    chart.y_axis.crossAx = axis.axId


def mw_by_use(ws: Worksheet, header: int, last: int, month_col: int, first_col: int,
              last_col: int, colors: list[str]) -> AreaChart:
    """Stacked area of company MW by use per month."""
    chart = AreaChart(grouping="stacked")
    chart.add_data(Reference(ws, min_col=first_col, max_col=last_col, min_row=header,
                             max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=month_col, min_row=header + 1, max_row=last))
    for series, color in zip(chart.series, colors):
        _color(series, color)
    _axes(chart, None, "MW")
    _monthly_axis(chart)
    _finish(chart, "Company MW by use (MW; HPC in IT MW)")
    return chart


def capex_by_year(ws: Worksheet, header: int, last: int, year_col: int,
                  capex_col: int) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.add_data(Reference(ws, min_col=capex_col, min_row=header, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=year_col, min_row=header + 1, max_row=last))
    _color(chart.series[0], COLORS["capex"])
    chart.gapWidth = 60
    _axes(chart, None, "Capex (USD m)", AXIS_MUSD)
    _finish(chart, "Capex by year (USD m)")
    chart.legend = None
    return chart


def revenue_mix(ws: Worksheet, header: int, last: int, year_col: int, mining_col: int,
                hpc_col: int, ebitda_col: int, low: float, high: float) -> BarChart:
    """Stacked columns of mining and HPC revenue with EBITDA as a line on a secondary axis
    (both axes on the same scale, so the line reads against the columns)."""
    bars = BarChart()
    bars.type = "col"
    bars.grouping = "stacked"
    bars.overlap = 100
    bars.gapWidth = 60
    bars.add_data(Reference(ws, min_col=mining_col, max_col=hpc_col, min_row=header,
                            max_row=last), titles_from_data=True)
    bars.set_categories(Reference(ws, min_col=year_col, min_row=header + 1, max_row=last))
    _color(bars.series[0], COLORS["mining"])
    _color(bars.series[1], COLORS["hpc"])
    _axes(bars, None, "Revenue (USD m)", AXIS_MUSD)

    line = LineChart()
    line.add_data(Reference(ws, min_col=ebitda_col, min_row=header, max_row=last),
                  titles_from_data=True)
    line.set_categories(Reference(ws, min_col=year_col, min_row=header + 1, max_row=last))
    _color(line.series[0], COLORS["ebitda"], line=True)
    line.series[0].marker.symbol = "circle"
    line.series[0].marker.size = 6
    line.series[0].marker.graphicalProperties = GraphicalProperties(solidFill=COLORS["ebitda"])
    line.y_axis.axId = 200
    line.y_axis.crosses = "max"
    line.y_axis.delete = False
    line.y_axis.title = "EBITDA (USD m)"
    line.y_axis.number_format = AXIS_MUSD
    line.y_axis.majorGridlines = None
    line.y_axis.txPr = _font(900)
    for axis in (bars.y_axis, line.y_axis):
        axis.scaling.min = low
        axis.scaling.max = high
    bars += line
    _finish(bars, "Revenue mix and EBITDA by year (USD m)")
    return bars


def cash_and_debt(ws: Worksheet, header: int, last: int, month_col: int, cash_col: int,
                  debt_col: int) -> LineChart:
    chart = LineChart()
    chart.add_data(Reference(ws, min_col=cash_col, max_col=debt_col, min_row=header,
                             max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=month_col, min_row=header + 1, max_row=last))
    _color(chart.series[0], COLORS["cash"], line=True)
    _color(chart.series[1], COLORS["debt"], line=True)
    for series in chart.series:
        series.marker.symbol = "none"
    _axes(chart, None, "USD m", AXIS_MUSD)
    _monthly_axis(chart)
    _finish(chart, "Cumulative cash and debt (USD m)")
    return chart


def conversion_timeline(ws: Worksheet, header: int, last: int, campus_col: int,
                        start_col: int, last_col: int, first_year: int,
                        end_year: int) -> BarChart:
    """Gantt: per campus a stacked horizontal bar on a calendar-year axis — an invisible
    offset up to construction start, then years under construction, ready but not yet
    let, and let (the colours are named in the axis title: no legend entry for the
    offset)."""
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.gapWidth = 40
    chart.add_data(Reference(ws, min_col=start_col, max_col=last_col, min_row=header,
                             max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=campus_col, min_row=header + 1, max_row=last))
    offset = chart.series[0]
    offset.graphicalProperties.noFill = True
    offset.graphicalProperties.line.noFill = True
    for series, color in zip(chart.series[1:], (COLORS["construction"], COLORS["idle"],
                                                COLORS["leased"])):
        _color(series, color)
    _axes(chart, None, "Grey: under construction · light blue: ready, not yet let · "
                       "dark blue: let (leased or spot)", "0")
    chart.x_axis.scaling.orientation = "maxMin"  # first campus on top
    chart.y_axis.scaling.min = first_year
    chart.y_axis.scaling.max = end_year
    chart.y_axis.majorUnit = 1
    chart.y_axis.crosses = "max"  # with categories top-down, years at the bottom
    chart.y_axis.majorGridlines = ChartLines()
    chart.y_axis.majorGridlines.spPr = GraphicalProperties(ln=LineProperties(solidFill="D9D9D9"))
    _finish(chart, "Conversion timeline by campus (calendar years)")
    chart.legend = None
    chart.width = 2 * WIDTH_CM + 1.0
    chart.height = max(7.0, 3.5 + 0.9 * (last - header))
    return chart


def npv_by_scenario(ws: Worksheet, header: int, last: int, name_col: int, first_col: int,
                    last_col: int) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.gapWidth = 60
    chart.add_data(Reference(ws, min_col=first_col, max_col=last_col, min_row=header,
                             max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=name_col, min_row=header + 1, max_row=last))
    for series, color in zip(chart.series, (COLORS["npv"], COLORS["value_added"])):
        _color(series, color)
    _axes(chart, None, "USD m", AXIS_MUSD)
    _finish(chart, "NPV by scenario (USD m)")
    return chart
