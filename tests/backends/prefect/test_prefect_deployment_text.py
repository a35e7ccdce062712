"""prefect.yaml never holds a `{{ NAME }}` that `prefect deploy` would resolve: user text that has
one stays in the flow (description), is left out with a warning (tag), or is an error (the
resource a trigger watches). The deploy-time resolution itself is run in
tests/engines/test_prefect_deployment.py."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backends.prefect.deployment import DEPLOY_PLACEHOLDER
from compiler.compile import compile_loaded
from tests.helpers import load_data

_hostile = st.lists(st.sampled_from(["{{ $HOME }}", "{{prefect.variables.x}}", "{{ prefect.blocks.secret.k }}",
                                     "{{ a.b }}", "{{", "}}", "{{ not a placeholder }}", "x", " ", "é", "\n"]),
                    min_size=1, max_size=5).map("".join)


@settings(max_examples=60, deadline=None)
@given(description=_hostile, tags=st.lists(_hostile, max_size=3, unique=True), uri=_hostile)
def test_no_text_in_prefect_yaml_is_a_deploy_time_placeholder(description, tags, uri):
    data = {"name": "p", "description": description, "tags": tags,
            "triggers": [{"type": "data", "uri": f"s3://bucket/{uri}"}], "tasks": {"a": {"command": "echo a"}}}
    compiled = compile_loaded(load_data(data), ["prefect"])
    placeholder_in_uri = DEPLOY_PLACEHOLDER.search(uri) is not None
    assert compiled.diagnostics.has_errors is placeholder_in_uri
    if placeholder_in_uri:
        assert any(d.code == "E302" and "trigger" in d.message for d in compiled.diagnostics)
        return
    deployment = compiled.files["prefect.yaml"]
    assert not DEPLOY_PLACEHOLDER.search(deployment)
    left_out = [tag for tag in tags if DEPLOY_PLACEHOLDER.search(tag)]
    assert [d.code for d in compiled.diagnostics].count("W302") == len(left_out)
    assert (("description:" in deployment) is (DEPLOY_PLACEHOLDER.search(description) is None))
