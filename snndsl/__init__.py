"""snndsl: a compiler for spiking neural network experiments.

    import snndsl
    model = snndsl.compile("model.snn")      # checked, optimized, built (cached)
    res = model.run(seed=1)                  # in-process, numpy arrays
    res = snndsl.load("results/")            # what the binary wrote
"""
from snndsl.diagnostics import CompileError, Error, InternalError
from snndsl.driver import Model, Simulation, SimulationError, compile
from snndsl.plot import plot
from snndsl.progress import Progress
from snndsl.results import Results, ResultsError, load

__all__ = ["compile", "load", "plot", "Model", "Simulation", "Results", "Progress", "Error", "CompileError",
           "SimulationError", "InternalError", "ResultsError"]
__version__ = "0.1.0"
