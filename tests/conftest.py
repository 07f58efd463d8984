import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


IN_CI = os.environ.get("CI") == "true"


def skip_outside_ci(reason: str) -> None:
    """Skip a test whose tool is missing here; in CI (CI=true) a missing tool
    fails the test instead, so coverage never vanishes silently."""
    if IN_CI:
        pytest.fail(f"CI=true, but {reason}")
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    # In CI the needs_cc tests run and fail without a compiler: never skipped there.
    if shutil.which("cc") is None and not IN_CI:
        skip = pytest.mark.skip(reason="no C compiler")
        for item in items:
            if "needs_cc" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _private_build_cache(tmp_path_factory):
    """Builds go to a cache private to the test session."""
    import os
    os.environ["SNNDSL_CACHE"] = str(tmp_path_factory.mktemp("snndsl-cache"))
    yield


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ snapshots")


@pytest.fixture
def update_golden(request):
    return request.config.getoption("--update-golden")


@pytest.fixture
def lif_delays_data(tmp_path):
    """The input spikes of tests/e2e/models/lif_delays.snn, written to tmp_path;
    a {data name: path} mapping for Model.run(data=...)."""
    import importlib.util

    import numpy as np
    spec = importlib.util.spec_from_file_location("_ref_neurons", ROOT / "tests" / "brian2_ref" / "neurons.py")
    neurons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(neurons)
    data = {}
    for name, arr in neurons.make_lif_delays_inputs().items():
        np.save(tmp_path / f"{name}.npy", arr)
        data[name] = tmp_path / f"{name}.npy"
    return data
