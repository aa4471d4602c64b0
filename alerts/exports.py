"""The matching analysis as an Excel workbook (openpyxl): summary, stops, enterprises."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font

from .selectors import MatchingResult


def _sheet(wb, title, header, rows, *, first=False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for column, width in zip("ABCDEFGHIJ", [22, 30, 20, 20, 12, 12, 12, 40], strict=False):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    return ws


def matching_workbook(result: MatchingResult) -> bytes:
    local = timezone.localtime
    wb = Workbook()
    _sheet(wb, pgettext("alerts", "Summary"), [_("Item"), _("Value")], [
        [pgettext("alerts", "From"), local(result.since).strftime("%Y-%m-%d %H:%M")],
        [pgettext("alerts", "Until"), local(result.until).strftime("%Y-%m-%d %H:%M")],
        [_("Radius (m)"), result.radius_m],
        [_("Abnormal stops"), len(result.stops)],
        [_("Matched stops"), result.matched_stops],
        [_("Enterprises under rectification"), len(result.enterprises)],
        [_("Matched enterprises"), result.matched_enterprises],
        [_("Coverage"), f"{result.coverage:.1%}" if result.coverage is not None else "—"],
    ], first=True)
    _sheet(wb, _("Stops"), [_("Plate"), _("Alert"), _("From"), _("Until"), _("Minutes"), _("Longitude"), _("Latitude"),
                            _("Enterprises within the radius")], [
        [s["subject"], s["id"], local(s["window_start"]).strftime("%Y-%m-%d %H:%M"), local(s["window_end"]).strftime("%Y-%m-%d %H:%M"),
         s["minutes"], s["lon"], s["lat"], "；".join(f"{m['enterprise']}（{m['metres']} 米）" for m in s["matches"])]
        for s in result.stops
    ])
    _sheet(wb, _("Enterprises"), [_("Credit code"), pgettext("alerts", "Name"), _("Address"), _("Matched stops"), _("Longitude"), _("Latitude"),
                                  _("Nearest (m)"), _("Plates")], [
        [e["credit_code"], e["name"], e["address"], len(e["matches"]), e["lon"], e["lat"],
         min((m["metres"] for m in e["matches"]), default=None), "、".join(sorted({m["plate"] for m in e["matches"]}))]
        for e in result.enterprises
    ])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
