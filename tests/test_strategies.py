"""Strategies against hand-written tables for a 12-block teacher."""

import pytest

from layerkd.strategies import STRATEGIES, forward_targets, match_layers

# Student depth -> teacher layer of student layers 1..L_S under forward matching,
# written out by hand from ceil(i * 12 / L_S).
FORWARD_12 = {
    1: [12],
    2: [6, 12],
    3: [4, 8, 12],
    4: [3, 6, 9, 12],
    6: [2, 4, 6, 8, 10, 12],
    9: [2, 3, 4, 6, 7, 8, 10, 11, 12],
}


@pytest.mark.parametrize("depth", sorted(FORWARD_12))
def test_forward_table(depth):
    pairs = match_layers("forward", depth, 12)
    assert pairs == [(0, 0)] + list(zip(range(1, depth + 1), FORWARD_12[depth]))


def test_forward_targets_equal_depths_is_identity():
    assert forward_targets(12, 12) == list(range(1, 13))


REVERSE_12 = {
    1: [12],
    2: [12, 6],
    3: [12, 8, 4],
    4: [12, 9, 6, 3],
    6: [12, 10, 8, 6, 4, 2],
    9: [12, 11, 10, 8, 7, 6, 4, 3, 2],
}


@pytest.mark.parametrize("depth", sorted(REVERSE_12))
def test_reverse_table(depth):
    pairs = match_layers("reverse", depth, 12)
    assert pairs == [(0, 0)] + list(zip(range(1, depth + 1), REVERSE_12[depth]))


@pytest.mark.parametrize("depth", sorted(FORWARD_12))
def test_all_to_one_default_is_middle_layer_embeddings_included(depth):
    # every official all-to-one script: --to 6 of 12, the embedding output matched to it too
    assert match_layers("all_to_one", depth, 12) == [(i, 6) for i in range(0, depth + 1)]


@pytest.mark.parametrize("n_teacher", range(1, 37))
def test_all_to_one_default_target_is_the_middle_for_every_teacher_depth(n_teacher):
    targets = {t for _, t in match_layers("all_to_one", 1, n_teacher)}
    assert targets == {max(1, n_teacher // 2)}


def test_all_to_one_target():
    assert match_layers("all_to_one", 3, 12, target=5) == [(0, 5), (1, 5), (2, 5), (3, 5)]


@pytest.mark.parametrize("strategy", ["forward", "reverse", "random", "all_to_one",
                                      "in_order_random"])
def test_without_embeddings_only_blocks_are_matched(strategy):
    with_emb = match_layers(strategy, 3, 12, seed=1)
    assert match_layers(strategy, 3, 12, seed=1, embeddings=False) == with_emb[1:]


@pytest.mark.parametrize("depth", sorted(FORWARD_12))
def test_none_matches_nothing(depth):
    assert match_layers("none", depth, 12) == []


@pytest.mark.parametrize("depth", sorted(FORWARD_12))
def test_random_is_seeded_permutation_of_forward(depth):
    pairs = match_layers("random", depth, 12, seed=3)
    assert pairs[0] == (0, 0)
    assert [s for s, _ in pairs[1:]] == list(range(1, depth + 1))
    assert sorted(t for _, t in pairs[1:]) == FORWARD_12[depth]
    assert pairs == match_layers("random", depth, 12, seed=3)  # reproducible
    # ... and fixed for the whole run: the epoch does not redraw it
    assert pairs == match_layers("random", depth, 12, seed=3, epoch=7)


def test_random_differs_between_seeds():
    draws = {tuple(match_layers("random", 6, 12, seed=s)) for s in range(10)}
    assert len(draws) > 1


@pytest.mark.parametrize("depth", sorted(FORWARD_12))
def test_in_order_random_is_sorted_subset(depth):
    for epoch in range(5):
        pairs = match_layers("in_order_random", depth, 12, seed=1, epoch=epoch)
        teachers = [t for _, t in pairs[1:]]
        assert pairs[0] == (0, 0)
        assert teachers == sorted(teachers)
        assert len(set(teachers)) == depth
        assert all(1 <= t <= 12 for t in teachers)


def test_in_order_random_reproducible_and_redrawn_per_epoch():
    a = [match_layers("in_order_random", 6, 12, seed=0, epoch=e) for e in range(8)]
    b = [match_layers("in_order_random", 6, 12, seed=0, epoch=e) for e in range(8)]
    assert a == b
    assert len({tuple(p) for p in a}) > 1  # redrawn across epochs
    assert a != [match_layers("in_order_random", 6, 12, seed=1, epoch=e) for e in range(8)]


def test_in_order_random_full_depth_takes_every_layer():
    pairs = match_layers("in_order_random", 12, 12, seed=5, epoch=2)
    assert pairs == [(i, i) for i in range(13)]


@pytest.mark.parametrize("bad", [0, 13, -1])
def test_bad_depth_names_the_range(bad):
    with pytest.raises(ValueError, match=r"1\.\.12"):
        match_layers("forward", bad, 12)


def test_unknown_strategy_lists_allowed():
    with pytest.raises(ValueError, match="in_order_random"):
        match_layers("sideways", 6, 12)


def test_all_to_one_target_out_of_range():
    with pytest.raises(ValueError, match=r"1\.\.12"):
        match_layers("all_to_one", 6, 12, target=13)


def test_every_strategy_listed():
    assert set(STRATEGIES) == {"none", "forward", "reverse", "random", "all_to_one",
                               "in_order_random"}
