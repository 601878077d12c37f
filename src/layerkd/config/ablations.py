"""The setting ablations of params.yaml (``ablations``): the depth / width
variants and the sweeps of the hidden distance and the hidden weight."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from .schema import SETTING_ABLATIONS, ConfigError, _check_members, _Strict

if TYPE_CHECKING:
    from .schema import DistillParams


class _SettingAblation(_Strict):
    """One setting of the matching objective swept over values (stages
    ``ablate_<kind>@<task>``), every other setting `distill`'s (after the task's
    overrides). A value equal to the task's own setting is not trained again: the
    main runs of the distill stage are that variant. ``none`` has no hidden term,
    so it does not depend on the swept setting: it is trained once (or taken from
    the main runs) and serves as the baseline of every value."""

    tasks: list[str] = Field(description="tasks ablated (each must be in `tasks`); [] = none")
    init: str = Field(description="student initialisation of every variant")
    seeds: list[int] = Field(min_length=1)

    def settings(self) -> list:
        raise NotImplementedError

    def changes(self, setting) -> dict:
        """The `distill` keys one value of the sweep sets."""
        raise NotImplementedError

    def variant(self, setting) -> str:
        """The variant's folder name, e.g. ``distance_mse`` or ``a_hid_10``."""
        raise NotImplementedError

    def strategies_of(self, distill: DistillParams) -> list[str]:
        return list(getattr(self, "strategies", None) or distill.strategies)

    def is_main(self, distill: DistillParams | dict, setting) -> bool:
        """Whether ``setting`` is the task's own (``distill`` after its overrides)."""
        get = distill.get if isinstance(distill, dict) else lambda k: getattr(distill, k)
        return all(get(k) == v for k, v in self.changes(setting).items())


class ObjectiveAblationParams(_SettingAblation):
    """Normalisation of the hidden term: every strategy under each hidden distance."""

    strategies: list[str] | None = Field(min_length=1, description="null = distill.strategies")
    distances: list[str] = Field(min_length=1,
                                 description="hidden distances (distill.hidden_distance)")
    batch_divide: bool = Field(description="distill.hidden_batch_divide of every variant "
                               "(false: sum_sq is the raw squared L2 over the width)")

    def settings(self) -> list[str]:
        return list(self.distances)

    def changes(self, setting) -> dict:
        return {"hidden_distance": setting, "hidden_batch_divide": self.batch_divide}

    def variant(self, setting) -> str:
        return f"distance_{setting}"


class AHidAblationParams(_SettingAblation):
    """Weight of the hidden term: a_hid swept over values."""

    strategies: list[str] = Field(min_length=1)
    values: list[float] = Field(min_length=1,
                                description="weights of the hidden term (distill.a_hid), > 0")

    def settings(self) -> list[float]:
        return list(self.values)

    def changes(self, setting) -> dict:
        return {"a_hid": float(setting)}

    def variant(self, setting) -> str:
        return f"a_hid_{float(setting):g}"


class TransferAblationParams(_Strict):
    """Transfer-set size (stage ``ablate_transfer@<task>``): the students distil on
    the first fraction f of the task's transfer set instead of all of it, for the
    main runs' number of optimiser steps (epochs and validation interval scaled
    by 1 / f), so that only the amount of data changes. The whole transfer set
    is the main runs (reused, not trained again). Fractions, not counts, so one
    list fits tasks whose training splits differ in size."""

    tasks: list[str] = Field(description="tasks ablated (each must be in `tasks`); [] = none")
    inits: list[str] | None = Field(min_length=1, description="null = distill.inits")
    strategies: list[str] | None = Field(min_length=1, description="null = distill.strategies")
    seeds: list[int] = Field(min_length=1)
    fractions: list[float] = Field(min_length=1, description=(
        "fractions of the task's transfer set, each in (0, 1) (1 = the main runs)"))

    def strategies_of(self, distill: DistillParams) -> list[str]:
        return list(self.strategies or distill.strategies)

    def inits_of(self, distill: DistillParams) -> list[str]:
        return list(self.inits or distill.inits)

    @staticmethod
    def variant(fraction: float, init: str) -> str:
        """The variant's folder name, e.g. ``frac0.1_random``."""
        return f"frac{float(fraction):g}_{init}"


class AblationParams(_Strict):
    """Depth and width ablations (stage `ablate@<task>`), each variant trained
    with `distill`'s other settings; `objective` and `a_hid`: the hidden term's
    normalisation and weight (stages `ablate_objective@<task>`, `ablate_a_hid@<task>`);
    `transfer`: the transfer-set size (stage `ablate_transfer@<task>`)."""

    tasks: list[str] = Field(description="tasks ablated (each must be in `tasks`); [] = none")
    init: str = Field(description="student initialisation of every variant")
    strategies: list[str] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)
    depths: list[int] = Field(description="student depths (<= teacher's)")
    widths: list[int] = Field(description="student widths (< teacher's, with projections)")
    objective: ObjectiveAblationParams
    a_hid: AHidAblationParams
    transfer: TransferAblationParams

    def sweep(self, kind: str) -> _SettingAblation:
        """The sub-section of one setting ablation (``objective`` or ``a_hid``)."""
        _check_members("ablation kind", [kind], SETTING_ABLATIONS, error=ConfigError)
        return getattr(self, kind)
