"""The scenario simulator: synthetic brand mentions with ground truth, as X API v2 JSONL.

See ``README.md`` beside this file and :mod:`uproar.simulate.scenario` for the format.
"""

from uproar.simulate.engine import Progress, SimulationResult, simulate
from uproar.simulate.scenario import Scenario, load_scenario, parse_scenario, shipped_scenarios
from uproar.simulate.truth import output_paths

__all__ = [
    "Progress",
    "Scenario",
    "SimulationResult",
    "load_scenario",
    "output_paths",
    "parse_scenario",
    "shipped_scenarios",
    "simulate",
]
