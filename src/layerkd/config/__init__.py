"""The schema of params.yaml, validated before any stage trains.

Every field is documented here; params.yaml holds the values. Unknown keys are
rejected, and every error names the parameter, the bad value and what is allowed.

    schema     the sections (data, model, teacher, distill, angles), allowed values
    ablations  the ablation sweeps
    llm        the decoder-only task (section llm)
    params     Params (the whole file), overrides per task, load_params / parse_params
"""

from .ablations import AblationParams, AHidAblationParams, ObjectiveAblationParams
from .llm import LLM_SCORES, LLM_TASK, LLMParams
from .params import Params, RuntimeParams, TaskOverrides, load_params, parse_params
from .schema import (
    BACKENDS,
    CLASSIFICATION_TASKS,
    DEVICES,
    GENERATION_TASKS,
    HIDDEN_DISTANCES,
    INITS,
    NO_HIDDEN,
    NORMS,
    PAIR_REDUCTIONS,
    POOL_TASKS,
    SETTING_ABLATIONS,
    TASK_FAMILIES,
    TASKS,
    AnglesParams,
    ConfigError,
    DataParams,
    DigitsData,
    DistillParams,
    ListopsData,
    Mnist1dData,
    MnistData,
    ModelParams,
    NumbersRoData,
    OptimParams,
    ScanData,
    TeacherParams,
)

__all__ = [
    'BACKENDS',
    'AHidAblationParams', 'AblationParams', 'AnglesParams', 'CLASSIFICATION_TASKS',
    'ConfigError', 'DEVICES', 'DataParams', 'DigitsData', 'DistillParams',
    'GENERATION_TASKS', 'HIDDEN_DISTANCES', 'INITS', 'LLMParams', 'LLM_SCORES', 'LLM_TASK', 'ListopsData', 'Mnist1dData',
    'MnistData', 'ModelParams', 'NORMS', 'NO_HIDDEN', 'NumbersRoData',
    'ObjectiveAblationParams', 'OptimParams', 'PAIR_REDUCTIONS', 'POOL_TASKS', 'Params', 'RuntimeParams',
    'SETTING_ABLATIONS', 'ScanData', 'TASKS', 'TASK_FAMILIES', 'TaskOverrides',
    'TeacherParams', 'load_params', 'parse_params',
]
