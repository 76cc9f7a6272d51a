"""ui/data.py without a browser: the progress text of a long load (rows of the total, time left)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from ui.data import progress_text


@given(total=st.integers(1, 2_000_000), share=st.floats(0, 1), elapsed=st.floats(0.01, 3600))
def test_the_progress_text_names_rows_done_of_the_total_and_the_time_left(total, share,
                                                                         elapsed):
    done = int(total * share)
    text = progress_text("end users", done, total, elapsed, "rows")
    assert text.startswith(f"Loading end users: {done:,} of {total:,} rows")
    left = re.search(r"about (?:(\d+) min )?(\d+) s left", text)
    if 0 < done < total:
        assert left is not None
        seconds = int(left.group(1) or 0) * 60 + int(left.group(2))
        expected = elapsed * (total - done) / done  # the rate so far, for the rest
        assert abs(seconds - max(1, round(expected))) <= 1
    else:
        assert left is None  # nothing done yet (no rate) or all done: no estimate
