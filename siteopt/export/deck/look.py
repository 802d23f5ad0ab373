"""The deck's look: 16:9 slides, a title, a footer with the source and the run's stamp,
text boxes, tables and native charts styled alike. With a template (`--template`), its slide
layouts and theme are used and only the shapes below are added."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_LEGEND_POSITION
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
TOP = Inches(1.25)  # below the title
BODY_HEIGHT = Inches(5.45)
INK = RGBColor(0x1F, 0x2A, 0x37)
MUTED = RGBColor(0x6B, 0x72, 0x80)
ACCENT = RGBColor(0x1F, 0x4E, 0x79)
# series colours, in order: blue, green, orange, grey, purple, teal, red
PALETTE = [RGBColor(0x1F, 0x4E, 0x79), RGBColor(0x3A, 0x8E, 0x5C), RGBColor(0xE0, 0x8A, 0x2E),
           RGBColor(0x9C, 0xA3, 0xAF), RGBColor(0x7C, 0x4D, 0xBA), RGBColor(0x2A, 0x9D, 0x9F),
           RGBColor(0xC0, 0x39, 0x2B)]
UP, DOWN, TOTAL = PALETTE[1], PALETTE[6], PALETTE[0]
WHITE = RGBColor(0xFF, 0xFF, 0xFF)


def new_presentation(template: Path | None):
    """A 16:9 presentation, or the template's (its size and layouts) without its slides."""
    if template is None:
        prs = Presentation()
        prs.slide_width, prs.slide_height = WIDTH, HEIGHT
        return prs
    prs = Presentation(str(template))
    slides = prs.slides._sldIdLst  # the template's own example slides are not ours
    for sld in list(slides):
        prs.part.drop_rel(sld.rId)
        slides.remove(sld)
    return prs


def _layout(prs):
    """'Title Only' when the template has it (by name), else the first layout with a title."""
    for layout in prs.slide_layouts:
        if layout.name.lower() == "title only":
            return layout
    for layout in prs.slide_layouts:
        if any(ph.placeholder_format.type == 1 for ph in layout.placeholders):  # TITLE
            return layout
    return prs.slide_layouts[0]


def add_slide(prs, title: str, footer: str):
    """A slide with its title and footer; other placeholders of the layout are removed."""
    slide = prs.slides.add_slide(_layout(prs))
    for ph in list(slide.placeholders):
        if ph.placeholder_format.idx != 0:
            ph._element.getparent().remove(ph._element)
    if slide.shapes.title is not None:
        shape = slide.shapes.title
        shape.left, shape.top, shape.width, shape.height = MARGIN, Inches(0.3), \
            prs.slide_width - 2 * MARGIN, Inches(0.8)
        shape.text = title
        para = shape.text_frame.paragraphs[0]
        para.alignment = PP_ALIGN.LEFT
        para.runs[0].font.size = Pt(28)
        para.runs[0].font.bold = True
        para.runs[0].font.color.rgb = INK
        shape.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    else:
        text_box(slide, MARGIN, Inches(0.3), prs.slide_width - 2 * MARGIN, Inches(0.8),
                 [title], size=28, bold=True)
    text_box(slide, MARGIN, prs.slide_height - Inches(0.45), prs.slide_width - 2 * MARGIN,
             Inches(0.35), [footer], size=9, color=MUTED)
    return slide


def text_box(slide, left, top, width, height, lines: Sequence[str], size: int = 16,
             bold: bool = False, color: RGBColor = INK, bullets: bool = False):
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = para.add_run()
        run.text = f"• {line}" if bullets else line
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = color
        para.space_after = Pt(size * 0.45)
    return box


def table(slide, left, top, width, rows: list[list[str]], widths: Sequence[float],
          size: int = 12, row_height=None, align_numbers: bool = True,
          values_right: bool = False):
    """A table with a header row; `widths` are shares of `width`; numbers right-aligned
    (`values_right`: every column but the first, as a table of figures side by side)."""
    height = row_height or Inches(0.36)
    shape = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width,
                                   Emu(int(height * len(rows))))
    grid = shape.table
    total = sum(widths)
    for j, share in enumerate(widths):
        grid.columns[j].width = Emu(int(width * share / total))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            cell = grid.cell(i, j)
            cell.text = str(value)
            cell.margin_left = cell.margin_right = Inches(0.06)
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            for para in cell.text_frame.paragraphs:
                right = (values_right and j > 0) or (i and align_numbers and _numeric(value))
                para.alignment = PP_ALIGN.RIGHT if right else PP_ALIGN.LEFT
                for run in para.runs:
                    run.font.size = Pt(size)
                    run.font.bold = i == 0
    return grid


def _numeric(text: str) -> bool:
    core = str(text).replace(",", "").replace("−", "-").replace("%", "").replace("+", "") \
        .replace("B USD", "").replace("M USD", "").strip()
    try:
        float(core)
    except ValueError:
        return False
    return True


def chart(slide, kind, categories: Sequence, series: dict[str, Sequence[float]], left, top,
          width, height, number_format: str = "#,##0", legend: bool = True,
          title: str | None = None):
    """A native chart (editable in PowerPoint): one series per entry, colours in order."""
    data = CategoryChartData(number_format=number_format)
    data.categories = list(categories)
    for name, values in series.items():
        data.add_series(name, [None if v is None else float(v) for v in values])
    frame = slide.shapes.add_chart(kind, left, top, width, height, data)
    result = frame.chart
    result.font.size = Pt(11)
    result.font.color.rgb = INK
    result.has_legend = legend and len(series) > 1
    if result.has_legend:
        result.legend.position = XL_LEGEND_POSITION.BOTTOM
        result.legend.include_in_layout = False
    if title:
        result.has_title = True
        result.chart_title.text_frame.text = title
        result.chart_title.text_frame.paragraphs[0].runs[0].font.size = Pt(13)
        result.chart_title.text_frame.paragraphs[0].runs[0].font.bold = True
    else:
        result.has_title = False
    for i, plot_series in enumerate(result.plots[0].series):
        fill = plot_series.format.fill
        fill.solid()
        fill.fore_color.rgb = PALETTE[i % len(PALETTE)]
        if hasattr(plot_series.format, "line"):
            plot_series.format.line.color.rgb = PALETTE[i % len(PALETTE)]
    try:
        axis = result.value_axis
        axis.tick_labels.number_format = number_format
        axis.tick_labels.number_format_is_linked = False
        axis.has_major_gridlines = True
        axis.major_gridlines.format.line.color.rgb = RGBColor(0xE5, 0xE7, 0xEB)
        axis.format.line.fill.background()
    except (ValueError, AttributeError):  # a chart without a value axis
        pass
    return result


def legend_line(slide, left, top, width, entries: Sequence[tuple[str, RGBColor]]) -> None:
    """A one-line legend of coloured squares and names (for charts with invisible series)."""
    box = slide.shapes.add_textbox(left, top, width, Inches(0.35))
    para = box.text_frame.paragraphs[0]
    para.alignment = PP_ALIGN.CENTER
    for name, colour in entries:
        mark = para.add_run()
        mark.text = "■ "
        mark.font.size = Pt(14)
        mark.font.color.rgb = colour
        label = para.add_run()
        label.text = f"{name}    "
        label.font.size = Pt(12)
        label.font.color.rgb = INK
