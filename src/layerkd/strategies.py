"""Layer-selection strategies as pure functions.

A strategy maps every student layer to one teacher layer. Layer 0 is the
embedding output; layers 1..L are block outputs. As in the official code the
student's embedding output is matched too: to the teacher's embedding output
in forward, reverse and the random strategies, and to the one target layer in
all-to-one (whose default target is the middle teacher layer, L_T // 2: every
official all-to-one script uses ``--to 6`` of 12). ``embeddings=False`` drops
the embedding pair (the official LLM code matches blocks only).
"""

from __future__ import annotations

import random as _random
from dataclasses import dataclass
from typing import Callable

Pairs = list[tuple[int, int]]


@dataclass(frozen=True)
class Strategy:
    """One layer-selection strategy: its name, its label in tables and figures,
    whether it redraws its pairs every epoch, and its block targets.

    targets(n_student, n_teacher, seed, epoch, target) -> the teacher layer of
    student blocks 1..n_student; embedding_target(target, n_teacher) -> the
    teacher layer of the student's embedding output.
    """

    name: str
    label: str
    redraws_each_epoch: bool
    targets: Callable[[int, int, int, int, int | None], list[int]]
    embedding_target: Callable[[int | None, int], int] = lambda target, n_teacher: 0


def forward_targets(n_student: int, n_teacher: int) -> list[int]:
    """Uniform skip ending at the last teacher layer: i -> ceil(i * L_T / L_S)."""
    _check_depths(n_student, n_teacher)
    # Integer ceiling: avoids float rounding for e.g. 9 * 12 / 9.
    return [-(-i * n_teacher // n_student) for i in range(1, n_student + 1)]


def _shuffled(n_student, n_teacher, seed, epoch, target):
    teachers = forward_targets(n_student, n_teacher)
    _random.Random(seed).shuffle(teachers)
    return teachers


def _all_to_one_target(target: int | None, n_teacher: int) -> int:
    target = middle_layer(n_teacher) if target is None else target
    if not 1 <= target <= n_teacher:
        raise ValueError(f"all_to_one target must be in 1..{n_teacher}, got {target}")
    return target


def _in_order_random(n_student, n_teacher, seed, epoch, target):
    # A string seed is hashed deterministically (sha512) by random.Random.
    rng = _random.Random(f"{seed}:{epoch}")
    return sorted(rng.sample(range(1, n_teacher + 1), n_student))


# The one source of every strategy's name, order and label.
REGISTRY: dict[str, Strategy] = {s.name: s for s in [
    Strategy("none", "none", False, lambda *a: []),
    Strategy("forward", "forward", False, lambda ns, nt, *a: forward_targets(ns, nt)),
    Strategy("reverse", "reverse", False, lambda ns, nt, *a: forward_targets(ns, nt)[::-1]),
    Strategy("random", "random", False, _shuffled),
    Strategy("all_to_one", "all-to-one", False,
             lambda ns, nt, seed, epoch, target: [_all_to_one_target(target, nt)] * ns,
             _all_to_one_target),
    Strategy("in_order_random", "in-order random (RAIL-KD)", True, _in_order_random),
]}
STRATEGIES = tuple(REGISTRY)
LABELS = {name: s.label for name, s in REGISTRY.items()}


def _check_depths(n_student: int, n_teacher: int) -> None:
    if not 1 <= n_student <= n_teacher:
        raise ValueError(
            f"student depth must be in 1..{n_teacher} (the teacher's depth), got {n_student}"
        )


def match_layers(
    strategy: str,
    n_student: int,
    n_teacher: int,
    *,
    seed: int = 0,
    epoch: int = 0,
    target: int | None = None,
    embeddings: bool = True,
) -> Pairs:
    """Return the (student layer, teacher layer) pairs that ``strategy`` matches.

    seed:   draws the permutation of ``random`` and the subsets of ``in_order_random``.
    epoch:  ``in_order_random`` (RAIL-KD) redraws its subset every epoch; the
            others ignore it.
    target: teacher layer of ``all_to_one`` (default: the middle, ``n_teacher // 2``,
            at least 1).
    embeddings: also match the student's embedding output (layer 0).
    """
    if strategy not in REGISTRY:
        raise ValueError(f"strategy must be one of {list(STRATEGIES)}, got {strategy!r}")
    _check_depths(n_student, n_teacher)
    if strategy == "none":
        return []
    s = REGISTRY[strategy]
    teachers = s.targets(n_student, n_teacher, seed, epoch if s.redraws_each_epoch else 0,
                         target)
    blocks = list(zip(range(1, n_student + 1), teachers))
    return [(0, s.embedding_target(target, n_teacher))] + blocks if embeddings else blocks


def middle_layer(n_teacher: int) -> int:
    """The default all-to-one target: L_T // 2 (6 of 12), at least block 1."""
    return max(1, n_teacher // 2)


def describe(pairs: Pairs) -> str:
    """Human-readable form, e.g. 'S0->T0, S1->T2'."""
    return ", ".join(f"S{s}->T{t}" for s, t in pairs) or "(no hidden matching)"


__all__ = ["REGISTRY", "STRATEGIES", "LABELS", "Strategy", "forward_targets", "match_layers", "middle_layer", "describe"]
