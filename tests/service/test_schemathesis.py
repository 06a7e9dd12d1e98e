"""Property-based API test: schemathesis generates requests from /openapi.json; none may
produce a 5xx. Examples per operation are bounded to keep the run short."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

from earful.service.app import create_app
from tests.service.conftest import make_settings

# Hypothesis keeps its example database and caches in ./.hypothesis unless told otherwise:
# in the checkout, which tests leave as they found it.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "earful-hypothesis")
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the dev extra")
from schemathesis.checks import not_a_server_error  # noqa: E402

APP = create_app(make_settings(Path("/tmp/earful-schemathesis"), max_upload_mb=1.0))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _serving() -> None:
    # /ready answers 503 by design until the models are loaded; load them so every route is
    # in its serving state and any 5xx is a real fault. Loaded here, just before these
    # tests, not at import: the model manager is process-wide, and tests that run between
    # collection and this module (test_models_routes clears it) would undo it.
    APP.state.service.preload()


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(checks=[not_a_server_error])
