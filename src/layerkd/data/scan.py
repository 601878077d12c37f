"""scan: SCAN commands -> action sequences (all 20,910 commands of its grammar)."""

from __future__ import annotations

import numpy as np

from .splits import POOL, SPLITS, check_sizes, split_dict
from .tokens import SPECIALS, encode, vocab_array

SCAN_PRIMITIVES = ("walk", "look", "run", "jump")
SCAN_ACTIONS = {"walk": "I_WALK", "look": "I_LOOK", "run": "I_RUN", "jump": "I_JUMP",
                "left": "I_TURN_LEFT", "right": "I_TURN_RIGHT"}
SCAN_SRC_VOCAB = SPECIALS + ("walk", "look", "run", "jump", "turn", "left", "right",
                             "opposite", "around", "twice", "thrice", "and", "after")
SCAN_TGT_VOCAB = SPECIALS + ("I_WALK", "I_LOOK", "I_RUN", "I_JUMP", "I_TURN_LEFT", "I_TURN_RIGHT")
SCAN_N_COMMANDS = 20_910


def scan_commands() -> list[str]:
    """All commands of SCAN's phrase-structure grammar (Lake & Baroni 2018, Fig. 6).

    C -> S and S | S after S | S;  S -> V twice | V thrice | V;
    V -> D[1] opposite D[2] | D[1] around D[2] | D | U;
    D -> U left | U right | turn left | turn right;  U -> walk | look | run | jump.
    34 V, 102 S, 102 + 2 * 102^2 = 20,910 C, in this deterministic order.
    """
    movers = SCAN_PRIMITIVES + ("turn",)
    d = [f"{u} {side}" for u in movers for side in ("left", "right")]
    v = ([f"{u} {mod} {side}" for mod in ("opposite", "around") for u in movers
          for side in ("left", "right")] + d + list(SCAN_PRIMITIVES))
    s = [f"{x}{rep}" for x in v for rep in ("", " twice", " thrice")]
    c = list(s) + [f"{a} {conj} {b}" for conj in ("and", "after") for a in s for b in s]
    return c


def _scan_v(words: list[str]) -> list[str]:
    if not words:
        raise ValueError("empty SCAN phrase")
    u = words[0]
    if u not in SCAN_PRIMITIVES and u != "turn":
        raise ValueError(f"not a SCAN verb: {u!r}")
    act = [] if u == "turn" else [SCAN_ACTIONS[u]]
    if len(words) == 1:
        if u == "turn":
            raise ValueError("'turn' needs a direction")
        return act
    *mods, side = words[1:]
    if side not in ("left", "right") or len(mods) > 1:
        raise ValueError(f"not a SCAN phrase: {' '.join(words)!r}")
    turn = [SCAN_ACTIONS[side]]
    if not mods:  # u left / turn left
        return turn + act
    if mods[0] == "opposite":
        return turn * 2 + act
    if mods[0] == "around":
        return (turn + act) * 4
    raise ValueError(f"not a SCAN modifier: {mods[0]!r}")


def _scan_s(words: list[str]) -> list[str]:
    if words and words[-1] in ("twice", "thrice"):
        return _scan_v(words[:-1]) * (2 if words[-1] == "twice" else 3)
    return _scan_v(words)


def scan_interpret(command: str) -> str:
    """SCAN's interpretation function: command -> space-joined action sequence.

    [[x1 and x2]] = [[x1]] [[x2]]; [[x1 after x2]] = [[x2]] [[x1]];
    [[x twice]] / [[x thrice]] repeat 2 / 3 times; [[u left]] = LTURN [[u]];
    [[u opposite left]] = LTURN LTURN [[u]]; [[u around left]] = (LTURN [[u]]) x 4;
    'turn' contributes no action of its own (likewise for right).
    """
    words = command.split()
    for conj in ("and", "after"):
        if conj in words:
            i = words.index(conj)
            a, b = _scan_s(words[:i]), _scan_s(words[i + 1:])
            return " ".join(a + b if conj == "and" else b + a)
    return " ".join(_scan_s(words))


def build_scan(n_val: int = 1000, seed: int = 0, test_frac: float = 0.2,
               max_target_len: int | None = None, max_train: int | None = None,
               max_val: int | None = None, max_test: int | None = None,
               n_pool: int = 0) -> dict[str, np.ndarray]:
    """SCAN (Lake & Baroni 2018), "simple" (random) split, generated from its grammar.

    Procedure: all 20,910 commands of the grammar (``scan_commands``, asserted
    unique) with targets from the interpretation function (``scan_interpret``).
    One permutation drawn from ``seed`` puts round(test_frac * 20,910) = 4,182
    commands in test and the other 16,728 in train (the published simple
    split's 80/20 sizes; the partition itself is our own random draw, not the
    released files); validation = the first ``n_val`` (default 1,000) of those
    train commands, leaving 15,728 for training.

    Optional reductions for CPU budgets, applied in this order after the split
    (so they never move a command between splits): ``max_target_len`` keeps
    only examples whose action sequence has at most that many actions (the full
    data go up to 48); ``max_train`` / ``max_val`` / ``max_test`` keep the first
    that many of each split (a fixed random subsample; smaller caps give
    prefixes of larger ones). Defaults (None) keep the full split.
    ``n_pool`` (default 0: none): the teacher's pre-training pool = the next
    ``n_pool`` training commands after the ``max_train`` cap (same length
    filter), so it never holds a validation or test command.

    Encoding (conventions: ``layerkd.data.tokens``): x (N, 10) int64 = command words + EOS
    (commands have at most 9 words); y (N, L + 2) int64 = BOS + actions + EOS,
    L = ``max_target_len`` or 48. Vocabularies ``src_vocab`` (16 entries) and
    ``tgt_vocab`` (9 entries) are returned; ids 0/1/2 are PAD/BOS/EOS.
    """
    commands = scan_commands()
    if len(commands) != SCAN_N_COMMANDS or len(set(commands)) != SCAN_N_COMMANDS:
        raise AssertionError(f"SCAN grammar gave {len(set(commands))} unique commands, "
                             f"expected {SCAN_N_COMMANDS}")
    if not 0 < test_frac < 1:
        raise ValueError(f"test_frac must be in (0, 1), got {test_frac}")
    n_test = int(round(test_frac * SCAN_N_COMMANDS))
    check_sizes(n_val, n_test, SCAN_N_COMMANDS, "scan")
    order = np.random.default_rng(seed).permutation(SCAN_N_COMMANDS)
    parts = {"test": order[:n_test], "val": order[n_test: n_test + n_val],
             "train": order[n_test + n_val:]}
    caps = {"train": max_train, "val": max_val, "test": max_test}
    tgt_len = 48 if max_target_len is None else int(max_target_len)
    if tgt_len < 1:
        raise ValueError(f"max_target_len must be >= 1, got {max_target_len}")
    if n_pool < 0:
        raise ValueError(f"scan: n_pool must be >= 0, got {n_pool}")
    parts[POOL] = parts["train"]
    x, y = {}, {}
    for s in SPLITS + ((POOL,) if n_pool else ()):
        src = [commands[i].split() for i in parts[s]]
        tgt = [scan_interpret(commands[i]).split() for i in parts[s]]
        keep = [i for i, t in enumerate(tgt) if len(t) <= tgt_len]
        if s == POOL:
            keep = keep[len(x["train"]):][:n_pool]
            if len(keep) < n_pool:
                raise ValueError(f"scan: n_pool must be <= {len(keep)} (training commands "
                                 f"left after max_train), got {n_pool}")
        elif caps[s] is not None:
            keep = keep[: int(caps[s])]
        x[s] = encode([src[i] for i in keep], SCAN_SRC_VOCAB, 10, bos=False, eos=True)
        y[s] = encode([tgt[i] for i in keep], SCAN_TGT_VOCAB, tgt_len + 2, bos=True, eos=True)
    out = split_dict(x, y)
    out["src_vocab"] = vocab_array(SCAN_SRC_VOCAB)
    out["tgt_vocab"] = vocab_array(SCAN_TGT_VOCAB)
    return out
