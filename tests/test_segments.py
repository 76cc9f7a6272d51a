"""Tests for whatfix_data.segments: operators, case and type rules, membership, sentences."""

from __future__ import annotations

import pandas as pd
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data import segments as seg
from whatfix_data.frames import to_frame


def rule(attribute: str, operator: str, value: object) -> dict:
    return {"attribute": attribute, "operator": operator, "value": value}


# ----------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("attrs", "rules", "expected"),
    [
        ({"role": "Admin"}, [rule("role", "equals", "admin")], True),
        ({"role": " Admin "}, [rule("role", "equals", "ADMIN")], True),
        ({"role": "Admin"}, [rule("role", "equals", "Adm")], False),
        ({"role": "Admin"}, [rule("role", "notEquals", "admin")], False),
        ({"role": "User"}, [rule("role", "notEquals", "admin")], True),
        ({"email": "a@Acme.com"}, [rule("email", "endsWith", "@acme.COM")], True),
        ({"email": "a@acme.com"}, [rule("email", "startsWith", "A@")], True),
        ({"email": "a@acme.com"}, [rule("email", "startsWith", "acme")], False),
        ({"dept": "Finance Ops"}, [rule("dept", "contains", "ANCE o")], True),
        ({"dept": "Finance"}, [rule("dept", "contains", "sales")], False),
        ({"role": "Manager"}, [rule("role", "in", ["Admin", "manager"])], True),
        ({"role": "Manager"}, [rule("role", "in", "Admin, Manager")], True),
        ({"role": "Manager"}, [rule("role", "in", "Manager")], True),
        ({"role": "Manager"}, [rule("role", "notIn", ["Admin", "Manager"])], False),
        ({"role": "Viewer"}, [rule("role", "notIn", ["Admin", "Manager"])], True),
    ],
)
def test_each_operator(attrs, rules, expected):
    assert seg.matches(attrs, rules) is expected


@pytest.mark.parametrize(
    ("value", "rule_value", "expected"),
    [
        ("5", 5, True),  # one side a number -> numeric comparison
        (5, "5.0", True),
        (5, 5.0, True),
        ("5.0", "5", False),  # two strings compare as text
        ("007", 7, True),
        ("seven", 7, False),
        (True, "TRUE", True),
        (False, "false", True),
        (True, 1, False),  # a boolean is never a number
        (1, True, False),
        (True, True, True),
    ],
)
def test_equals_type_rules(value, rule_value, expected):
    assert seg.matches({"a": value}, [rule("a", "equals", rule_value)]) is expected


def test_text_operators_use_text_form_of_numbers_and_booleans():
    assert seg.matches({"seats": 150}, [rule("seats", "startsWith", "15")])
    assert seg.matches({"beta": True}, [rule("beta", "contains", "ru")])
    assert seg.matches({"score": 2.5}, [rule("score", "endsWith", ".5")])


def test_in_with_numbers():
    assert seg.matches({"tier": "2"}, [rule("tier", "in", [1, 2, 3])])
    assert not seg.matches({"tier": "4"}, [rule("tier", "in", [1, 2, 3])])


def test_missing_attribute_rules():
    for operator in ("equals", "contains", "startsWith", "endsWith", "in"):
        assert not seg.matches({}, [rule("role", operator, "x")])
        assert not seg.matches({"role": None}, [rule("role", operator, "x")])
    assert seg.matches({}, [rule("role", "notEquals", "x")])
    assert seg.matches({"role": None}, [rule("role", "notIn", ["x"])])
    assert seg.matches(None, [rule("role", "notIn", ["x"])])


def test_list_valued_attribute_matches_any_item():
    attrs = {"tags": ["beta", "EMEA"]}
    assert seg.matches(attrs, [rule("tags", "equals", "emea")])
    assert seg.matches(attrs, [rule("tags", "in", ["x", "beta"])])
    assert not seg.matches(attrs, [rule("tags", "notIn", ["beta"])])
    assert seg.matches({"tags": []}, [rule("tags", "notEquals", "beta")])


def test_attribute_name_exact_then_case_insensitive():
    assert seg.matches({"Role": "Admin"}, [rule("role", "equals", "admin")])
    # The exact key wins over a case-insensitive one.
    assert seg.matches({"role": "a", "ROLE": "b"}, [rule("role", "equals", "a")])


def test_rules_are_anded_and_empty_rules_match_everyone():
    attrs = {"role": "Admin", "region": "EU-West"}
    both = [rule("role", "equals", "admin"), rule("region", "startsWith", "eu")]
    assert seg.matches(attrs, both)
    assert not seg.matches(attrs, [*both, rule("region", "endsWith", "east")])
    assert seg.matches(attrs, [])
    assert seg.matches({}, None)


def test_unknown_operator_and_broken_rules_match_nobody():
    assert not seg.matches({"a": "x"}, [rule("a", "regex", "x")])
    assert not seg.matches({"a": "x"}, ["not a rule"])
    assert not seg.matches({"a": "x"}, [{"operator": "equals", "value": "x"}])
    problems = seg.rule_problems([rule("a", "regex", "x"), {"value": 1}, rule("a", "in", [1])])
    assert problems == [
        "rule 1 uses unknown operator 'regex'",
        "rule 2 has no attribute or operator",
    ]


# ----------------------------------------------------------------------------- reference property

TEXTS = st.sampled_from(["Admin", "admin", "ADMIN ", "Manager", "eu-west", "EU", "5", "", "x y"])
SCALARS = st.one_of(TEXTS, st.integers(-3, 10), st.booleans(), st.none())
ATTR_VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
RULE_VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))


def _reference_text(op: str, value: str, wanted: str) -> bool:
    """Straightforward reference for string attributes and string rule values."""
    a, b = value.strip().casefold(), wanted.strip().casefold()
    return {
        "equals": a == b,
        "notEquals": a != b,
        "contains": b in a,
        "startsWith": a.startswith(b),
        "endsWith": a.endswith(b),
    }[op]


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(
    value=TEXTS,
    wanted=TEXTS,
    op=st.sampled_from(["equals", "notEquals", "contains", "startsWith", "endsWith"]),
)
def test_string_operators_match_reference(value, wanted, op):
    assert seg.matches({"k": value}, [rule("k", op, wanted)]) == _reference_text(op, value, wanted)


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(value=TEXTS, wanted=st.lists(TEXTS, min_size=1, max_size=4))
def test_in_matches_reference(value, wanted):
    expected = value.strip().casefold() in {w.strip().casefold() for w in wanted}
    assert seg.matches({"k": value}, [rule("k", "in", wanted)]) == expected
    assert seg.matches({"k": value}, [rule("k", "notIn", wanted)]) == (not expected)


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(value=ATTR_VALUES, wanted=RULE_VALUES)
def test_negative_operators_negate_positive_ones(value, wanted):
    attrs = {"k": value}
    for positive, negative in (("equals", "notEquals"), ("in", "notIn")):
        assert seg.matches(attrs, [rule("k", negative, wanted)]) != seg.matches(
            attrs, [rule("k", positive, wanted)]
        )


@settings(deadline=None, max_examples=60)
@given(
    users=st.lists(
        st.dictionaries(st.sampled_from(["role", "Role", "tier", "tags"]), ATTR_VALUES, max_size=3),
        max_size=12,
    ),
    rules=st.lists(
        st.lists(
            st.fixed_dictionaries(
                {
                    "attribute": st.sampled_from(["role", "tier", "tags", "missing"]),
                    "operator": st.sampled_from([*seg.OPERATORS, "bogus"]),
                    "value": RULE_VALUES,
                }
            ),
            max_size=3,
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_membership_equals_row_by_row_matches(users, rules):
    end_users = pd.DataFrame(
        {
            "user_id": pd.array([f"u{i}" for i in range(len(users))], dtype="string"),
            "attributes": pd.Series(users, dtype=object),
        }
    )
    segments = pd.DataFrame(
        {
            "segment_id": pd.array([f"s{i}" for i in range(len(rules))], dtype="string"),
            "rules": pd.Series(rules, dtype=object),
        }
    )
    got = seg.membership(end_users, segments)
    expected = {
        (f"s{j}", f"u{i}")
        for j, segment_rules in enumerate(rules)
        for i, attrs in enumerate(users)
        if seg.matches(attrs, segment_rules)
    }
    assert set(zip(got["segment_id"], got["user_id"], strict=True)) == expected
    assert list(got.columns) == ["segment_id", "user_id"]


# Values that hash alike but differ under the rules (True == 1 == 1.0), NaN, pd.NA, nested
# mappings and unhashable lists: the vectorised membership groups users by value, so a grouping
# that merged any two of these would show here.
TRICKY = st.sampled_from([True, False, 1, 0, 1.0, 0.0, "1", "true", " TRUE", float("nan"),
                          pd.NA, None, 5, 5.0, "5.0", 1e20, {"a": 1}, {"a": True}])
MANY_VALUES = st.one_of(SCALARS, TRICKY, st.lists(st.one_of(SCALARS, TRICKY), max_size=3))


def _member_pairs(users: list, rules: list) -> tuple[set, set]:
    """(membership as (segment, user) pairs, the same from `matches` row by row)."""
    end_users = pd.DataFrame({
        "user_id": pd.array([f"u{i}" for i in range(len(users))], dtype="string"),
        "attributes": pd.Series(users, dtype=object),
    })
    segments = pd.DataFrame({
        "segment_id": pd.array([f"s{j}" for j in range(len(rules))], dtype="string"),
        "rules": pd.Series(rules, dtype=object),
    })
    got = seg.membership(end_users, segments)
    assert list(got.columns) == ["segment_id", "user_id"]
    assert str(got["segment_id"].dtype) == "string" and str(got["user_id"].dtype) == "string"
    expected = {(f"s{j}", f"u{i}") for j, segment_rules in enumerate(rules)
                for i, attrs in enumerate(users) if seg.matches(attrs, segment_rules)}
    pairs = list(zip(got["segment_id"], got["user_id"], strict=True))
    assert len(pairs) == len(set(pairs)), "each member once per segment"
    return set(pairs), expected


@settings(deadline=None, max_examples=80)
@given(
    # Few distinct values over many users: most users share a value with another one.
    pool=st.lists(st.dictionaries(st.sampled_from(["plan", "Plan", "PLAN", "tags"]), MANY_VALUES,
                                  max_size=3), min_size=1, max_size=6),
    picks=st.lists(st.integers(0, 5), min_size=1, max_size=60),
    oddities=st.lists(st.one_of(st.none(), st.just("not a mapping"), st.just([1, 2])),
                      max_size=2),
    rules=st.lists(st.one_of(
        st.lists(st.fixed_dictionaries({
            "attribute": st.sampled_from(["plan", "PLAN", "tags", "absent"]),
            "operator": st.sampled_from([*seg.OPERATORS, "bogus"]),
            "value": st.one_of(RULE_VALUES, TRICKY, st.just("1, true, 5")),
        }), max_size=3),
        st.just("not a list"), st.just([None]), st.none()),
        min_size=1, max_size=5),
)
def test_vectorised_membership_agrees_with_row_by_row_rules(pool, picks, oddities, rules):
    users = [pool[i % len(pool)] for i in picks] + list(oddities)
    got, expected = _member_pairs(users, rules)
    assert got == expected


def test_membership_of_many_users_sharing_few_values_is_exact():
    # 30,000 users over 6 plans x 3 regions: the grouping must still give every user their own
    # result (a shifted code would move members between users).
    plans = ["Free", "Pro", "Team", 1, True, 1.0]
    users = [{"plan": plans[i % 6], "region": ["EU", "US", None][i % 7 % 3]} for i in range(30_000)]
    rules = [[rule("plan", "equals", 1)], [rule("plan", "equals", True)],
             [rule("plan", "in", "free, team"), rule("region", "notEquals", "eu")],
             [rule("region", "startsWith", "u")]]
    got, expected = _member_pairs(users, rules)
    assert got == expected
    assert len(got) == len(expected) > 20_000


# ----------------------------------------------------------------------------- frames


def _users() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": pd.array(["u1", "u2", "u3", None], dtype="string"),
            "attributes": [{"role": "Admin", "region": "EU-West"}, {"role": "User"}, None, {}],
        }
    )


def _segments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment_id": pd.array(["admins", "everyone", "nobody"], dtype="string"),
            "name": pd.array(["Admins", "Everyone", "Nobody"], dtype="string"),
            "description": pd.array([None, None, None], dtype="string"),
            "user_count": pd.array([1, 4, pd.NA], dtype="Int64"),
            "rules": [[rule("role", "equals", "admin")], [], [rule("role", "bogus", 1)]],
        }
    )


def test_membership_and_reconciliation():
    members = seg.membership(_users(), _segments())
    assert sorted(members.loc[members.segment_id == "everyone", "user_id"]) == ["u1", "u2", "u3"]
    recon = seg.reconcile(_segments(), members)
    assert list(recon.columns) == list(seg.RECONCILIATION_COLUMNS)
    row = recon.set_index("segment_id")
    assert row.loc["admins", "local_count"] == 1 and bool(row.loc["admins", "matches"])
    assert row.loc["everyone", "difference"] == -1  # local 3 (one user has no id) vs API 4
    assert row.loc["nobody", "local_count"] == 0
    assert pd.isna(row.loc["nobody", "difference"]) and not row.loc["nobody", "matches"]


def test_empty_inputs_give_empty_frames_with_columns():
    empty_users = _users().iloc[0:0]
    members = seg.membership(empty_users, _segments())
    assert members.empty and list(members.columns) == ["segment_id", "user_id"]
    recon = seg.reconcile(_segments().iloc[0:0], members)
    assert recon.empty and list(recon.columns) == list(seg.RECONCILIATION_COLUMNS)


def test_segment_breakdown_joins_engagement_and_tasks():
    members = seg.membership(_users(), _segments())
    engagement = pd.DataFrame(
        {
            "user_id": pd.array(["u1", "u2"], dtype="string"),
            "content_viewed": pd.array([4, 0], dtype="Int64"),
            "flows_completed": pd.array([2, 0], dtype="Int64"),
        }
    )
    tasks = pd.DataFrame(
        {
            "user_id": pd.array(["u1", "u3", "u3"], dtype="string"),
            "completion_rate_pct": pd.array([100.0, 50.0, pd.NA], dtype="Float64"),
        }
    )
    out = seg.segment_breakdown(_segments(), members, engagement, tasks).set_index("segment_id")
    assert out.loc["admins", "members"] == 1
    assert out.loc["admins", "active_users"] == 1
    assert out.loc["everyone", "active_pct"] == pytest.approx(33.3)
    assert out.loc["everyone", "content_viewed"] == 4
    assert out.loc["everyone", "task_completion_pct"] == pytest.approx(75.0)
    assert out.loc["everyone", "task_lists_completed"] == 1
    assert out.loc["nobody", "members"] == 0 and pd.isna(out.loc["nobody", "active_pct"])


def test_filter_to_segment():
    members = seg.membership(_users(), _segments())
    frame = pd.DataFrame({"user_id": pd.array(["u1", "u2", "zz"], dtype="string"), "x": [1, 2, 3]})
    assert seg.filter_to_segment(frame, members, "admins")["x"].tolist() == [1]
    assert len(seg.filter_to_segment(frame, members, None)) == 3


# ----------------------------------------------------------------------------- sentences


def test_sentences():
    rules = [rule("role", "in", ["Admin", "Manager"]), rule("region", "startsWith", "EU")]
    assert seg.rules_sentence(rules) == "Role is one of Admin, Manager and Region starts with 'EU'"
    assert seg.rule_sentence(rule("seatCount", "equals", 5)) == "Seat count is 5"
    assert seg.rule_sentence(rule("is_beta", "notEquals", True)) == "Is beta is not true"
    assert seg.rule_sentence(rule("dept", "notIn", "Sales, HR")) == "Dept is not one of Sales, HR"
    assert seg.rule_sentence(rule("dept", "contains", ["a", "b"])) == (
        "Dept contains any of 'a', 'b'"
    )
    assert seg.rule_sentence(rule("x", "regex", "a")) == "X (unknown operator 'regex') 'a'"
    assert seg.rules_sentence([]) == "All users"
    assert seg.rule_sentence("junk") == "(invalid rule)"


# ----------------------------------------------------------------------------- built-in server


def _pages(session, url: str) -> list[dict]:
    records, page = [], 1
    while True:
        body = session.get(url, params={"page": page, "pageSize": 100}, timeout=30).json()
        records += body["data"]
        if page >= body["pagination"]["totalPages"]:
            return records
        page += 1


def test_local_membership_reconciles_with_the_servers_user_count(sim_server, demo_account):
    with requests.Session() as session:
        session.headers.update(
            {
                "x-whatfix-integration-key": demo_account.integration_key,
                "x-whatfix-user": demo_account.user_email,
            }
        )
        base = f"{sim_server.base_url}/{demo_account.account_id}"
        users = to_frame("end-users", _pages(session, base + "/end-users")).frame
        segments = to_frame("segments", _pages(session, base + "/segments")).frame
    recon = seg.reconcile(segments, seg.membership(users, segments))
    assert len(recon) == len(segments) > 0
    assert recon["matches"].all(), recon[~recon["matches"]].to_string()
    table = seg.segment_table(segments, seg.membership(users, segments))
    assert table["rules"].notna().all() and list(table.columns[:4]) == [
        "segment_id",
        "name",
        "rules",
        "description",
    ]


def _reference_breakdown(member_frame, engagement, tasks) -> pd.DataFrame:
    """Per-segment figures by plain many-to-many merges (the straightforward definition)."""
    per_user = engagement.groupby("user_id")[["content_viewed", "flows_completed"]].sum(
        min_count=1)
    joined = member_frame.merge(per_user, left_on="user_id", right_index=True, how="inner")
    joined["active"] = (joined["content_viewed"].fillna(0) > 0) | (
        joined["flows_completed"].fillna(0) > 0)
    eng = joined.groupby("segment_id").agg(active_users=("active", "sum"),
                                           content_viewed=("content_viewed", "sum"),
                                           flows_completed=("flows_completed", "sum"))
    rows = tasks[["user_id"]].copy()
    rows["pct"] = seg.task_progress_pct(tasks)
    rows = member_frame.merge(rows, on="user_id", how="inner")
    rows["done"] = (rows["pct"] >= 100).fillna(False).astype(bool)
    task = rows.groupby("segment_id").agg(task_rows=("user_id", "size"),
                                          task_completion_pct=("pct", "mean"),
                                          task_lists_completed=("done", "sum"))
    return eng.join(task, how="outer")


COUNTS = st.one_of(st.none(), st.integers(0, 5))


@settings(deadline=None, max_examples=50)
@given(
    memberships=st.lists(st.tuples(st.sampled_from(["s0", "s1", "s2"]), st.integers(0, 7)),
                         max_size=25),
    engagement=st.lists(st.tuples(st.integers(0, 9), COUNTS, COUNTS), max_size=20),
    tasks=st.lists(st.tuples(st.integers(0, 9), COUNTS, COUNTS, st.one_of(
        st.none(), st.floats(0, 100))), max_size=20),
)
def test_segment_breakdown_agrees_with_plain_merges(memberships, engagement, tasks):
    member_frame = pd.DataFrame(sorted(set((s, f"u{u}") for s, u in memberships)),
                                columns=["segment_id", "user_id"]).astype("string")
    if member_frame.empty:
        member_frame = seg.empty_membership()
    eng = to_frame("engagement", [{"userId": f"u{u}", "contentViewed": v, "flowsCompleted": c}
                                  for u, v, c in engagement]).frame
    task_frame = to_frame("task-completion", [
        {"userId": f"u{u}", "taskListId": f"t{i}", "completedTasks": done, "totalTasks": total,
         "completionRate": rate} for i, (u, done, total, rate) in enumerate(tasks)]).frame
    segments = pd.DataFrame({"segment_id": pd.array(["s0", "s1", "s2"], dtype="string"),
                             "name": pd.array(["A", "B", "C"], dtype="string")})
    got = seg.segment_breakdown(segments, member_frame, eng, task_frame).set_index("segment_id")
    if member_frame.empty or eng.empty or task_frame.empty:
        return  # the empty cases have their own fixed-column test
    expected = _reference_breakdown(member_frame, eng, task_frame)
    for segment_id in ("s0", "s1", "s2"):
        want = expected.loc[segment_id] if segment_id in expected.index else None
        row = got.loc[segment_id]
        for column in ("active_users", "content_viewed", "flows_completed", "task_rows",
                       "task_lists_completed"):
            value = 0 if want is None or pd.isna(want[column]) else int(want[column])
            assert int(row[column]) == value, (segment_id, column)
        mean = None if want is None else want["task_completion_pct"]
        if mean is None or pd.isna(mean):
            assert pd.isna(row["task_completion_pct"])
        else:
            assert float(row["task_completion_pct"]) == pytest.approx(round(mean, 1), abs=0.051)
