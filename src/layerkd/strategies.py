"""Layer-selection strategies as pure functions.

A strategy maps every student layer to one teacher layer. Layer 0 is the
embedding output; layers 1..L are block outputs. Every strategy except
``none`` also pairs the two embedding outputs, (0, 0), as the official code does.
"""

from __future__ import annotations

import random as _random

STRATEGIES = ("none", "forward", "reverse", "random", "all_to_one", "in_order_random")

Pairs = list[tuple[int, int]]


def _check_depths(n_student: int, n_teacher: int) -> None:
    if not 1 <= n_student <= n_teacher:
        raise ValueError(
            f"student depth must be in 1..{n_teacher} (the teacher's depth), got {n_student}"
        )


def forward_targets(n_student: int, n_teacher: int) -> list[int]:
    """Uniform skip ending at the last teacher layer: i -> ceil(i * L_T / L_S)."""
    _check_depths(n_student, n_teacher)
    # Integer ceiling: avoids float rounding for e.g. 9 * 12 / 9.
    return [-(-i * n_teacher // n_student) for i in range(1, n_student + 1)]


def match_layers(
    strategy: str,
    n_student: int,
    n_teacher: int,
    *,
    seed: int = 0,
    epoch: int = 0,
    target: int | None = None,
) -> Pairs:
    """Return the (student layer, teacher layer) pairs that ``strategy`` matches.

    seed:   draws the permutation of ``random`` and the subsets of ``in_order_random``.
    epoch:  ``in_order_random`` (RAIL-KD) redraws its subset every epoch.
    target: teacher layer of ``all_to_one`` (default: the last, ``n_teacher``).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {list(STRATEGIES)}, got {strategy!r}")
    _check_depths(n_student, n_teacher)
    if strategy == "none":
        return []
    fwd = forward_targets(n_student, n_teacher)
    if strategy == "forward":
        teachers = fwd
    elif strategy == "reverse":
        teachers = fwd[::-1]
    elif strategy == "random":
        teachers = list(fwd)
        _random.Random(seed).shuffle(teachers)
    elif strategy == "all_to_one":
        target = n_teacher if target is None else target
        if not 1 <= target <= n_teacher:
            raise ValueError(f"all_to_one target must be in 1..{n_teacher}, got {target}")
        teachers = [target] * n_student
    else:  # in_order_random
        # A string seed is hashed deterministically (sha512) by random.Random.
        rng = _random.Random(f"{seed}:{epoch}")
        teachers = sorted(rng.sample(range(1, n_teacher + 1), n_student))
    return [(0, 0)] + list(zip(range(1, n_student + 1), teachers))


def describe(pairs: Pairs) -> str:
    """Human-readable form, e.g. 'S0->T0, S1->T2'."""
    return ", ".join(f"S{s}->T{t}" for s, t in pairs) or "(no hidden matching)"


__all__ = ["STRATEGIES", "forward_targets", "match_layers", "describe"]
