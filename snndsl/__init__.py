"""snndsl: a compiler for spiking neural network experiments.

    import snndsl
    model = snndsl.compile("model.snn")      # checked, optimized, built (cached)
    # backend="reference": the IR interpreted with numpy (no compiler needed)
    res = model.run(seed=1)                  # in-process, numpy arrays
    res = snndsl.load("results/")            # what the binary wrote
    runs = snndsl.sweep(model, [{"rate": "5 Hz"}, {"rate": "10 Hz"}], seeds=range(4))  # in parallel
"""
from snndsl.diagnostics import CompileError, Error, InternalError
from snndsl.plot import plot
from snndsl.progress import Progress
from snndsl.results import Results, ResultsError, load

__all__ = ["compile", "sweep", "load", "plot", "Model", "Simulation", "Results", "Progress", "Error", "CompileError",
           "SimulationError", "InternalError", "ResultsError", "BackendWarning"]
__version__ = "0.1.0"

# The compiler (parser, checker, IR, code generator: most of the import time)
# loads on first use, so that `import snndsl` for `snndsl.load` and plotting
# stays quick (PEP 562).
_DRIVER = ("compile", "Model", "Simulation", "SimulationError", "BackendWarning")


def __getattr__(name: str):
    if name in _DRIVER:
        from snndsl import driver
        value = getattr(driver, name)
        globals()[name] = value
        return value
    if name == "sweep":
        from snndsl.sweeps import sweep
        globals()[name] = sweep
        return sweep
    raise AttributeError(f"module 'snndsl' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_DRIVER) | {"sweep"})
