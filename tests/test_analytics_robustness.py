"""Property test: every analytics function accepts any frame that frames.to_frame can produce.

Pages and the review pack call these on whatever the API sent; a strange record must never turn
into an exception on a page.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whatfix_data import analytics, frames, segments
from whatfix_data.analytics import content, engagement, flows, self_help, takeaways, tasks
from whatfix_data.frames import to_frame, trend_frame
from whatfix_data.windows import DateRange, split_range

AS_OF = date(2026, 11, 27)
WINDOWS = split_range(DateRange(date(2026, 11, 1), date(2026, 11, 3)), "day")

VALUES = {
    "id": st.sampled_from(["a", "b", "c", None, 7]),
    "count": st.one_of(st.integers(-2, 50), st.none(), st.sampled_from(["3", "x", 2.5])),
    "rate": st.one_of(st.floats(-10, 150, allow_nan=False), st.none()),
    "ts": st.sampled_from([None, "2026-11-02T10:00:00Z", "2025-01-01T00:00:00Z", "bad", "-1"]),
    "text": st.sampled_from([None, "Create invoice", "", "=cmd", 5]),
    "type": st.sampled_from([None, "Flow", "Article", "Video", "Tooltip", "Widget"]),
    "status": st.sampled_from([None, "Published", "Draft", "Archived", "Live"]),
    "attrs": st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["role", "region"]), st.sampled_from(["Admin", "EU", 5, None])
        ),
    ),
    "rules": st.one_of(
        st.none(),
        st.lists(
            st.fixed_dictionaries(
                {
                    "attribute": st.sampled_from(["role", "region"]),
                    "operator": st.sampled_from(["equals", "in", "notIn", "bogus"]),
                    "value": st.sampled_from(["Admin", ["EU", 5], None]),
                }
            ),
            max_size=2,
        ),
    ),
}
FIELDS = {
    "flows": {
        "flowId": "id",
        "flowName": "text",
        "views": "count",
        "completions": "count",
        "completionRate": "rate",
        "avgTimeToComplete": "rate",
    },
    "self-help": {
        "contentId": "id",
        "contentName": "text",
        "contentType": "type",
        "views": "count",
    },
    "engagement": {
        "userId": "id",
        "email": "text",
        "contentViewed": "count",
        "flowsCompleted": "count",
        "lastActive": "ts",
    },
    "task-completion": {
        "userId": "id",
        "userEmail": "text",
        "taskListId": "id",
        "taskListName": "text",
        "completedTasks": "count",
        "totalTasks": "count",
        "completionRate": "rate",
        "lastActivityAt": "ts",
    },
    "end-users": {
        "userId": "id",
        "email": "text",
        "name": "text",
        "createdAt": "ts",
        "lastSeenAt": "ts",
        "attributes": "attrs",
    },
    "content": {
        "contentId": "id",
        "name": "text",
        "type": "type",
        "status": "status",
        "createdAt": "ts",
        "modifiedAt": "ts",
        "viewCount": "count",
    },
    "segments": {
        "segmentId": "id",
        "name": "text",
        "description": "text",
        "userCount": "count",
        "rules": "rules",
    },
}


def dataset(name: str):
    record = st.fixed_dictionaries({}, optional={k: VALUES[v] for k, v in FIELDS[name].items()})
    return st.lists(record, max_size=6).map(lambda rows: to_frame(name, rows).frame)


@settings(deadline=None, max_examples=60, suppress_health_check=list(HealthCheck))
@given(
    fl=dataset("flows"),
    fl_prev=dataset("flows"),
    sh=dataset("self-help"),
    en=dataset("engagement"),
    tk=dataset("task-completion"),
    users=dataset("end-users"),
    items=dataset("content"),
    segs=dataset("segments"),
    days=st.lists(dataset("flows"), min_size=3, max_size=3),
)
def test_analytics_never_raise(fl, fl_prev, sh, en, tk, users, items, segs, days):
    current = {"flows": fl, "self-help": sh, "engagement": en, "task-completion": tk}
    kpis = analytics.compute_kpis(current, {"flows": fl_prev})
    assert len(kpis) == 6
    assert all(isinstance(takeaways.kpi_sentence(k), str) for k in kpis)
    assert isinstance(takeaways.headline(kpis), str)
    best, worst = flows.best_and_worst_flows(fl, min_views=0)
    assert isinstance(takeaways.flows_sentence(fl, best, worst), str)
    flows.flow_comparison(fl, fl_prev)
    flows.flow_table(fl, items)
    trend = trend_frame(list(zip(WINDOWS, days, strict=True)), "flows")
    totals = flows.totals_by_window(trend)
    assert len(totals) <= len(WINDOWS)
    takeaways.trend_sentence(totals, "views", "flow views")
    takeaways.edit_sentence(flows.edit_impacts(trend, items, min_views=0))
    by_item, by_type = self_help.by_item(sh), self_help.by_type(sh)
    takeaways.self_help_sentence(by_item, by_type)
    hygiene = content.hygiene(items, sh, fl, as_of=AS_OF)
    takeaways.content_sentence(hygiene)
    content.inventory(items)
    content.inventory_long(items)
    engagement.distribution(en, "content_viewed")
    engagement.top_users(en)
    dormant = engagement.dormant_users(users, en, AS_OF)
    takeaways.engagement_sentence(analytics.kpis.active_users(en), dormant, 30)
    summary = tasks.summary(tk)
    takeaways.tasks_sentence(summary)
    tasks.distribution(tk)
    tasks.one_task_left(tk)
    members = segments.membership(users, segs)
    breakdown = segments.segment_breakdown(segs, members, en, tk)
    takeaways.segments_sentence(breakdown)
    segments.segment_table(segs, members)
    tasks.completion_by_segment(segs, members, tk)
    assert list(frames.findings_frame([]).columns) == list(frames.FINDING_COLUMNS)
