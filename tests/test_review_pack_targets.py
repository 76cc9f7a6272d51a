"""The review pack's Targets slide: the account's stored targets evaluated over the pack's range
(built through the real client against the built-in server), breaches first."""

from __future__ import annotations

import csv
import io
import zipfile

from support import FIXED_TODAY

from whatfix_data import targets as T
from whatfix_data.client import WhatfixClient
from whatfix_data.review_pack import build_review_pack
from whatfix_data.review_pack.targets import targets_table
from whatfix_data.windows import DateRange

RANGE = DateRange.from_iso("2026-11-09", "2026-11-22")


def test_pack_has_the_targets_table(make_settings, tmp_path):
    settings = make_settings(store=str(tmp_path / "store.sqlite"), today=FIXED_TODAY)
    store = T.TargetStore(settings)
    store.save(T.make_target("completion_rate", "99"))
    store.save(T.make_target("flow_views", "1", per="week"))
    with WhatfixClient(settings) as client:
        data = build_review_pack(client, RANGE, "none", "zip")
    archive = zipfile.ZipFile(io.BytesIO(data))
    name = next(n for n in archive.namelist() if n.endswith("tables/targets.csv"))
    rows = list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
    assert [r["status"] for r in rows] == ["breached", "met", "met"]  # 1 range + 2 full weeks
    assert rows[0]["target"] == "Completion rate at least 99.0 %"
    assert [r["period"] for r in rows[1:]] == ["week of 9 Nov 2026", "week of 16 Nov 2026"]
    readme = next(n for n in archive.namelist() if n.endswith("README.txt"))
    assert "tables/targets.csv: Targets" in archive.read(readme).decode()


def test_the_slide_headline_counts_breaches_and_names_the_first():
    from datetime import date

    week = (date(2026, 11, 16), date(2026, 11, 22))
    rate = T.make_target("completion_rate", "60")
    views = T.make_target("flow_views", "500", per="week")
    results = [T.Evaluation(views, "week of 16 Nov 2026", *week, 900.0, False),
               T.Evaluation(rate, "16 Nov 2026 – 22 Nov 2026", *week, 41.25, True)]
    table = targets_table(results)
    assert table.takeaway == ("1 of 2 target checks breached, e.g. Completion rate at least "
                              "60.0 % for whole account: 41.2 % in 16 Nov 2026 – 22 Nov 2026.")
    assert list(table.frame["status"]) == ["breached", "met"]
    assert targets_table(results[:1]).takeaway == "Every target is met (1 check)."
    assert targets_table([]) is None
