"""Brian2 reference implementations used by snndsl's differential tests.

Each module builds, in Brian2 (``numpy`` code generation target), a model that
also exists as a ``.snn`` file under ``tests/e2e/models/`` and returns its
results as plain numpy arrays in SI units, laid out like snndsl's results
(monitors as ``(n_times, n_elements)``, synapses in Brian2's creation order).

Brian2 is imported lazily, inside the functions, so importing this package is
cheap and never fails.
"""

from .forum import FORUM_ETA, FORUM_TAU, FORUM_W_THRESHOLD, run_forum_brian2

__all__ = ["FORUM_ETA", "FORUM_TAU", "FORUM_W_THRESHOLD", "run_forum_brian2"]
