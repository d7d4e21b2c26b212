"""Operation limits checked before execution: tokens, depth, aliases, root fields, cost."""

from graph.limits.analysis import OperationMeasure, measure_operation
from graph.limits.extension import OperationLimits

__all__ = ["OperationLimits", "OperationMeasure", "measure_operation"]
