"""Excel (.xlsx) downloads of the statistics tables, written with openpyxl in write-only mode."""

import io
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from org.inputs import xml_safe

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(*, filename: str, title: str, header: list[str], rows: list[list]) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    sheet.append([_bold(sheet, h, bold) for h in header])
    for row in rows:
        sheet.append([_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _cell(value):
    if value is None:
        return ""
    return xml_safe(value) if isinstance(value, str) else value  # a stored control character must not break the file


def _bold(sheet, value, font):
    cell = WriteOnlyCell(sheet, value=xml_safe(str(value)))
    cell.font = font
    return cell
