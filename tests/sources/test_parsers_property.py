"""Parsers never crash on hostile input: every record becomes a row, a RecordError or a Skip."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.sources import bluesky, mastodon, x_v1, x_v2
from uproar.sources.fields import RecordError, Skip

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
keys = st.sampled_from(
    ["id", "id_str", "text", "full_text", "created_at", "author_id", "data", "includes",
     "users", "user", "account", "content", "did", "kind", "commit", "record", "createdAt",
     "rkey", "collection", "operation", "reblog", "retweeted_status", "entities", "urls",
     "referenced_tweets", "public_metrics", "geo", "place", "event", "payload", "facets"]
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(keys | st.text(), inner, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_is_handled(value: Any) -> None:
    for module in (x_v2, x_v1, mastodon, bluesky):
        for record in module.records(value):
            assert isinstance(record, dict | RecordError | Skip)
            if isinstance(record, dict):
                assert isinstance(record["id"], str) and record["id"]
                assert isinstance(record["created_at"], datetime)
                assert isinstance(record["text"], str)
                assert isinstance(record["author_id"], str)
