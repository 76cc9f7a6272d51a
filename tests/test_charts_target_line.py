"""charts.add_target_line: a dotted line at the target on an existing figure, label escaped."""

from __future__ import annotations

import plotly.graph_objects as go
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data import charts


@settings(deadline=None, max_examples=50)
@given(value=st.floats(min_value=0, max_value=1e9, allow_nan=False),
       label=st.text(max_size=200))
def test_line_sits_at_the_value_with_an_escaped_label(value, label):
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    charts.add_target_line(fig, value, label)
    (line,) = charts.target_lines(fig)
    assert line["y0"] == line["y1"] == value and line["line"]["dash"] == "dot"
    text = fig.layout.annotations[0].text
    assert "<" not in text and ">" not in text  # API names never become markup
    assert len(fig.data) == 1  # the data is untouched


def test_vertical_line_and_breach_word():
    fig = go.Figure(go.Bar(x=[10, 20], y=["a", "b"], orientation="h"))
    charts.add_target_line(fig, 15, "Views at least 15", axis="x", breached=True)
    (line,) = charts.target_lines(fig)
    assert line["x0"] == line["x1"] == 15
    assert fig.layout.annotations[0].text == "Views at least 15 (breached)"
    assert charts.target_lines(go.Figure()) == []
