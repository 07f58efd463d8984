"""snndsl: a compiler for spiking neural network experiments.

    import snndsl
    model = snndsl.compile("model.snn")      # checked, optimized, built (cached)
    # backend="reference": the IR interpreted with numpy (no compiler needed)
    res = model.run(seed=1)                  # in-process, numpy arrays
    res = snndsl.load("results/")            # what the binary wrote
"""
from snndsl.diagnostics import CompileError, Error, InternalError
from snndsl.driver import BackendWarning, Model, Simulation, SimulationError, compile
from snndsl.plot import plot
from snndsl.progress import Progress
from snndsl.results import Results, ResultsError, load

__all__ = ["compile", "load", "plot", "Model", "Simulation", "Results", "Progress", "Error", "CompileError",
           "SimulationError", "InternalError", "ResultsError", "BackendWarning"]
__version__ = "0.1.0"
