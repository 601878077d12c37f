"""Several students of one task trained together: one vectorised step for all.

One notebook run trains every strategy x seed of one task and initialisation:
N students of one architecture. Trained one at a time, a step is a chain of
small operations, each paying a fixed cost (Python, dispatch, autograd, one
AdamW update per tensor) and too small to spread over the cores. Here:

* the students' parameters are stacked (``torch.func.stack_module_state``) and
  every layer of a stack of students runs as one grouped matrix product
  (``torch.baddbmm`` over the student axis; ``stacked_encoder_forward``);
* a group is cut into stacks small enough that a stack's activations stay
  cache-sized (``default_stack_size``), and the stacks are spread over worker
  threads, one core each (``StudentGroup``).

Each student keeps exactly the semantics of ``experiment.distill``:

* its own initialisation (``build_distiller``: set_seed(seed), then random or
  weight copy, then its projections),
* its own batch order (a ``torch.Generator`` seeded with its seed, the same
  ``randperm`` as ``fit``),
* its own layer pairs, held as index/weight tensors (``in_order_random``
  redrawn every epoch from seed and epoch),
* loss = ``Objective.total(ce, kl, hidden)``, as ``losses.Distiller``,
* AdamW with the warm-up/cosine schedule: AdamW is elementwise, so one
  optimizer over the stacked tensors is N independent optimizers (a projection
  a student's pairs never use stays untouched, as alone),
* its best-on-validation weights, metrics dict, checkpoint (a ``Distiller``
  state_dict) and per-epoch dvclive log.

Results equal one-at-a-time training up to floating-point rounding (a grouped
product rounds differently from a single one); tests/test_batched.py checks
this. Runs are reproducible for a fixed thread count. ``wall_s`` of a student
trained in a group is the group's wall time divided by the group size.

``backend="vmap"`` runs the students' own ``Encoder.forward`` through
``torch.vmap`` + ``torch.func.functional_call`` instead: a cross-check, and a
baseline in bench/bench.py (torch has no vmap batching rule for CPU attention,
so vmap loops over the students there).
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state
from tqdm import tqdm

from .config import OptimParams, Params
from .data import Split
from .experiment import TeacherCache, build_distiller, distill, pairs_at, run_fields, run_name
from .io import atomic_torch_save, atomic_write_json
from .losses import Distiller, Objective, pair_distance, token_average
from .models import Encoder, count_parameters, token_mask
from .strategies import Pairs
from .tasks import Task
from .train import NonFiniteLoss, open_live, validates, warmup_cosine

LOSS_KEYS = ("ce", "kl", "hid", "total")  # the order of Distiller's losses dict


@dataclass(frozen=True)
class Run:
    """One student of a notebook: strategy x seed, and where its outputs go."""

    strategy: str
    seed: int
    out_dir: Path | None = None
    ckpt_path: Path | None = None


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x (N, ..., i) @ w (N, o, i)^T + b (N, o): one nn.Linear per student."""
    n, o = w.shape[0], w.shape[1]
    y = torch.baddbmm(b.unsqueeze(1), x.reshape(n, -1, x.shape[-1]), w.transpose(1, 2))
    return y.view(*x.shape[:-1], o)


def _linear_parts(x, w, b, parts: int = 1):
    """_linear, or with parts > 1 the output features in that many equal chunks,
    each its own product (a list)."""
    if parts == 1:
        return _linear(x, w, b)
    return [_linear(x, wi, bi) for wi, bi in zip(w.chunk(parts, 1), b.chunk(parts, 1))]


def _norm_linear(x, ln_w, ln_b, eps, w, b, parts: int = 1):
    """Linear(LayerNorm(x)) per student (pre-LN), the norm's affine folded into the
    linear: W (g * z + beta) + c = (W diag(g)) z + (W beta + c). Same function, but
    one pass over the activations less (forward and backward)."""
    w_fold = w * ln_w.unsqueeze(1)
    b_fold = torch.baddbmm(b.unsqueeze(-1), w, ln_b.unsqueeze(-1)).squeeze(-1)
    return _linear_parts(F.layer_norm(x, x.shape[-1:], eps=eps), w_fold, b_fold, parts)


def _layer_norm(x, w, b, eps):
    """LayerNorm per student: x (N, ..., d), affine w, b (N, d). Post-LN normalises the
    residual sum itself (a hidden state), so there is no following linear to fold into."""
    shape = (w.shape[0],) + (1,) * (x.dim() - 2) + (w.shape[1],)
    return torch.addcmul(b.view(shape), F.layer_norm(x, x.shape[-1:], eps=eps), w.view(shape))


MATH_ATTENTION_MAX_LEN = 64  # short sequences: explicit attention beat the CPU flash kernel (17 tokens)


def _attention(q, k, v, mask: torch.Tensor | None) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over (batch, heads, T, d_head); mask: (batch, 1, 1, T)
    bool keys that may be seen. ``F.scaled_dot_product_attention`` up to rounding."""
    if q.device.type != "cpu" or q.shape[-2] > MATH_ATTENTION_MAX_LEN:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = torch.matmul(q, k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.matmul(scores.softmax(-1), v)


def _embed(p: dict[str, torch.Tensor], template: Encoder, x: torch.Tensor) -> torch.Tensor:
    """The students' input embeddings: x (N, B, T, F) features or (N, B, T) token ids."""
    if getattr(template, "vocab_size", None) is None:
        return _linear(x, p["embed.weight"], p["embed.bias"])
    table = p["embed.weight"]  # (N, V, d); nn.Embedding's padding row gets no gradient
    n, v = table.shape[0], table.shape[1]
    ids = x + v * torch.arange(n, device=x.device).view(n, *([1] * (x.dim() - 1)))
    out = F.embedding(ids, table.reshape(n * v, -1))
    pad = template.embed.padding_idx
    if pad is not None:
        out = torch.where((x == pad).unsqueeze(-1), out.detach(), out)
    return out


def _check_layout(student: Encoder) -> None:
    """stacked_encoder_forward re-implements Encoder.forward (either LayerNorm
    placement): refuse any other layout."""
    norm = "norm" if student.placement == "pre" else "embed_norm"
    names = {"cls", "pos", "embed.weight", f"{norm}.weight", f"{norm}.bias", "head.weight",
             "head.bias"}
    if getattr(student, "vocab_size", None) is None:
        names.add("embed.bias")
    for i in range(student.depth):
        names |= {f"blocks.{i}.{m}.{w}" for m in ("ln1", "qkv", "proj", "ln2", "mlp.0", "mlp.2")
                  for w in ("weight", "bias")}
    got = {k for k, _ in student.named_parameters()}
    extra = {k for k, _ in student.named_buffers()}
    gelu = [m for m in student.modules() if isinstance(m, torch.nn.GELU)]
    if got != names or extra or any(m.approximate != "none" for m in gelu):
        raise ValueError("the Encoder's layout changed: update stacked_encoder_forward "
                         f"(unexpected {sorted(got ^ names) or sorted(extra)}), or use "
                         "backend='vmap'")


def stacked_encoder_forward(
    p: dict[str, torch.Tensor], template: Encoder, x: torch.Tensor,
    mask: torch.Tensor | None = None, hiddens: bool = True,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``Encoder.forward`` of N students at once (equal up to rounding), either
    LayerNorm placement (``template.placement``).

    p: the students' stacked parameters under Encoder's names (leading axis N);
    template: an Encoder of the same architecture (only its hyper-parameters are
    read); x: (N, B, T, F) features or (N, B, T) ids, or the same without N when
    shared by all; mask: (N, B, T), (B, T) or None. Returns logits (N, B, C) and
    the L + 1 hidden states (N, B, T + 1, d) (an empty list when hiddens=False).
    """
    n, d = p["embed.weight"].shape[0], template.width
    ids = getattr(template, "vocab_size", None) is not None
    if x.dim() == (2 if ids else 3):
        x = x.expand(n, *x.shape)
    b, t = x.shape[1], x.shape[2] + 1
    h = torch.cat([p["cls"].expand(n, b, 1, d), _embed(p, template, x)], dim=2)
    h = h + p["pos"][:, :, :t]
    post = template.placement == "post"
    if post:
        h = _layer_norm(h, p["embed_norm.weight"], p["embed_norm.bias"], template.embed_norm.eps)
    attn_mask = None
    if mask is not None:
        mask = mask.expand(n, *mask.shape[-2:])
        attn_mask = token_mask(mask.reshape(n * b, t - 1))[:, None, None, :]
    out = [h] if hiddens else []
    for i, block in enumerate(template.blocks):
        q = f"blocks.{i}."
        heads = block.heads
        ln1, ln2 = ((p[q + f"{m}.weight"], p[q + f"{m}.bias"], getattr(block, m).eps)
                    for m in ("ln1", "ln2"))
        # q, k and v as three products: no (3, heads) re-layout of one big output,
        # whose backward is a costly strided copy
        qkv = p[q + "qkv.weight"], p[q + "qkv.bias"]
        qkv = _linear_parts(h, *qkv, parts=3) if post else _norm_linear(h, *ln1, *qkv, parts=3)
        qs, ks, vs = (z.view(n * b, t, heads, d // heads).transpose(1, 2) for z in qkv)
        y = _attention(qs, ks, vs, attn_mask)  # (N * B, heads, T, d_head)
        h = h + _linear(y.transpose(1, 2).reshape(n, b, t, d), p[q + "proj.weight"],
                        p[q + "proj.bias"])
        mlp0 = p[q + "mlp.0.weight"], p[q + "mlp.0.bias"]
        if post:
            h = _layer_norm(h, *ln1)
            z = F.gelu(_linear(h, *mlp0))
        else:
            z = F.gelu(_norm_linear(h, *ln2, *mlp0))
        h = h + _linear(z, p[q + "mlp.2.weight"], p[q + "mlp.2.bias"])
        if post:
            h = _layer_norm(h, *ln2)
        if hiddens:
            out.append(h)
    head = p["head.weight"], p["head.bias"]
    if post:
        logits = _linear(h[:, :, 0], *head)
    else:
        logits = _norm_linear(h[:, :, 0], p["norm.weight"], p["norm.bias"], template.norm.eps,
                              *head)
    return logits, out


class StudentStack:
    """N Distillers of one architecture as stacked parameter tensors.

    ``params`` maps each Distiller parameter name ("student.blocks.0.qkv.weight",
    "projections.3.bias", ...) to one leaf tensor with a leading student axis:
    the tensors an optimizer trains. ``state_dict(i)`` gives student i back in
    a Distiller's key layout.
    """

    def __init__(self, distillers: list[Distiller], backend: str = "bmm"):
        if backend not in ("bmm", "vmap"):
            raise ValueError(f"backend must be 'bmm' or 'vmap', got {backend!r}")
        first = distillers[0]
        self.n, self.backend = len(distillers), backend
        self.keys = list(first.state_dict().keys())
        self.params, buffers = stack_module_state(distillers)
        if buffers:
            raise ValueError(f"students with buffers are not supported: {list(buffers)}")
        self.template = copy.deepcopy(first).to("meta")
        self.depth = first.student.depth
        self.objective = first.objective
        if any(d.objective != self.objective for d in distillers):
            raise ValueError("students trained together need one objective")
        self.student = {k.removeprefix("student."): v for k, v in self.params.items()
                        if k.startswith("student.")}
        self.n_proj = len(first.projections)
        if backend == "bmm":
            _check_layout(first.student)
        self.set_pairs([d.pairs for d in distillers])

    @property
    def device(self) -> torch.device:
        return self.params["student.embed.weight"].device

    def set_pairs(self, pairs: list[Pairs]) -> None:
        """Each student's (student layer, teacher layer) pairs as (N, K) tensors:
        slots s_idx/t_idx, weight 1 for a real pair and 0 for padding."""
        if len(pairs) != self.n:
            raise ValueError(f"{len(pairs)} pair lists for {self.n} students")
        k = max(len(p) for p in pairs)
        s_idx = torch.arange(k).repeat(self.n, 1).clamp_(max=self.depth)
        t_idx = torch.zeros(self.n, k, dtype=torch.long)
        used = torch.zeros(self.n, k)
        for i, p in enumerate(pairs):
            for j, (s, t) in enumerate(p):
                s_idx[i, j], t_idx[i, j], used[i, j] = s, t, 1.0
        # A projection a student's pairs do not use gets no gradient alone, so
        # AdamW leaves it untouched (no weight decay); train_step does the same.
        proj_used = torch.zeros(self.n, self.n_proj, dtype=torch.bool)
        for i, p in enumerate(pairs):
            for s, _ in p:
                if s < self.n_proj:
                    proj_used[i, s] = True
        if self.n_proj and hasattr(self, "proj_used") and not torch.equal(proj_used,
                                                                          self.proj_used):
            raise ValueError("a projection used in some epochs and not in others cannot be "
                             "trained together (AdamW's per-parameter step count would differ); "
                             "use distill.batch_students=1")
        self.proj_used = proj_used
        self.unused_proj = {j: (~proj_used[:, j]).nonzero()[:, 0].to(self.device)
                            for j in range(self.n_proj) if not proj_used[:, j].all()}
        dev = self.device
        self.pairs = [list(p) for p in pairs]
        self.k = k
        # the strategies pair every student layer 0..L in order: no gather needed
        self.identity = k == self.depth + 1 and bool((s_idx == torch.arange(k)).all())
        self.s_idx, self.t_idx, self.used = s_idx.to(dev), t_idx.to(dev), used.to(dev)
        self.n_pairs = used.sum(1).clamp(min=1).to(dev)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                hiddens: bool = True) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (N, B, C) and hidden states (N, B, T + 1, d) of every student."""
        if self.backend == "bmm":
            return stacked_encoder_forward(self.student, self.template.student, x, mask, hiddens)

        def one(p, x, m):
            logits, hs = functional_call(self.template.student, p, (x, m))
            return (logits, hs) if hiddens else (logits, [])

        dims = (0, 0 if x.dim() == 4 else None, 0 if mask is not None and mask.dim() == 3 else None)
        with warnings.catch_warnings():  # the known per-student fallback for CPU attention
            warnings.filterwarnings("ignore", message="There is a performance drop")
            return torch.vmap(one, in_dims=dims)(self.student, x, mask)

    def hidden_loss(self, hiddens: list[torch.Tensor], t_hid: torch.Tensor,
                    valid: torch.Tensor | None) -> torch.Tensor:
        """``hidden_matching_loss`` per student, (N,). t_hid (K, N, B, T + 1, d_T):
        slot j's teacher layer for every student; valid (N, B, T + 1) or None."""
        if self.k == 0:
            return hiddens[0].new_zeros(self.n)
        rows = torch.arange(self.n, device=hiddens[0].device)
        if not self.identity:  # general pairs: gather each slot's student layer
            stacked = torch.stack(hiddens, 1)
            if self.n_proj:
                proj_w = torch.stack([self.params[f"projections.{i}.weight"]
                                      for i in range(self.n_proj)], 1)
                proj_b = torch.stack([self.params[f"projections.{i}.bias"]
                                      for i in range(self.n_proj)], 1)
        total = 0.0
        for j in range(self.k):
            if self.identity:  # slot j is student layer j for everyone (the strategies)
                h = hiddens[j]
                if self.n_proj:
                    h = _linear(h, self.params[f"projections.{j}.weight"],
                                self.params[f"projections.{j}.bias"])
            else:
                s = self.s_idx[:, j]
                h = stacked[rows, s]
                if self.n_proj:
                    h = _linear(h, proj_w[rows, s], proj_b[rows, s])
            per_token = pair_distance(h, t_hid[j], self.objective.distance)  # (N, B, T + 1)
            per_pair = token_average(per_token, valid, self.objective.batch_divide)
            total = total + per_pair * self.used[:, j]
        return self.objective.reduce_pairs(total, self.n_pairs)

    def losses(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None,
               t_logits: torch.Tensor, t_hid: torch.Tensor) -> torch.Tensor:
        """(N, 4) losses per student, columns LOSS_KEYS: ce, kl, hid, total."""
        logits, hiddens = self.forward(x, mask)
        n, b, c = logits.shape
        ce = F.cross_entropy(logits.reshape(n * b, c), y.reshape(n * b),
                             reduction="none").view(n, b).mean(1)
        t = self.objective.temperature
        kl = F.kl_div(F.log_softmax(logits / t, -1), F.log_softmax(t_logits / t, -1),
                      log_target=True, reduction="none").sum(-1).mean(1) * t * t
        valid = None if mask is None else token_mask(mask.reshape(n * b, -1)).view(n, b, -1)
        hid = self.hidden_loss(hiddens, t_hid, valid)
        total = self.objective.total(ce, kl, hid)
        return torch.stack([ce, kl, hid, total], 1)

    def batch_losses(self, idx: torch.Tensor, transfer: Split, cache: TeacherCache):
        """Losses (N, 4) of the samples idx (N, B), each student its own batch."""
        mask = None if transfer.mask is None else transfer.mask[idx]
        t_logits, t_hid = cache.gather(idx, self.t_idx)  # only the layers the pairs use
        return self.losses(transfer.x[idx], transfer.y[idx], mask, t_logits, t_hid)

    def setup_training(self, opt: OptimParams, total_steps: int) -> None:
        """One AdamW over the stacked tensors, with ``fit``'s warm-up/cosine schedule.

        AdamW is elementwise, so this is N independent optimizers. foreach=True
        runs each update as a few multi-tensor operations (same arithmetic)."""
        self.optimizer = torch.optim.AdamW(list(self.params.values()), lr=opt.lr,
                                           weight_decay=opt.weight_decay, foreach=True)
        self.schedule = warmup_cosine(self.optimizer, total_steps, opt.warmup_frac)
        self.best = {k: v.detach().clone() for k, v in self.params.items()}

    def train_step(self, idx: torch.Tensor, transfer: Split, cache: TeacherCache) -> torch.Tensor:
        """One optimizer step of every student on its batch idx[i]; returns the
        (N, 4) losses. Takes no step when any loss is non-finite (check the result)."""
        losses = self.batch_losses(idx, transfer, cache)
        if bool(torch.isfinite(losses[:, -1]).all()):
            self.optimizer.zero_grad(set_to_none=True)
            losses[:, -1].sum().backward()  # students are independent: each gets its own gradient
            with torch.no_grad():  # unused projections: zero gradient, but decay would apply
                keep = {(j, part): self.params[f"projections.{j}.{part}"][rows].clone()
                        for j, rows in self.unused_proj.items() for part in ("weight", "bias")}
            self.optimizer.step()
            with torch.no_grad():
                for (j, part), value in keep.items():
                    self.params[f"projections.{j}.{part}"][self.unused_proj[j]] = value
            self.schedule.step()
        return losses.detach()

    @torch.no_grad()
    def keep_best(self, improved: list[bool]) -> None:
        """Remember the current weights of the students whose validation improved."""
        for i in (i for i, better in enumerate(improved) if better):
            for k, v in self.params.items():
                self.best[k][i].copy_(v[i])

    @torch.no_grad()
    def restore_best(self) -> None:
        for k, v in self.params.items():
            v.copy_(self.best[k])

    @torch.no_grad()
    def predict(self, split: Split, samples_per_chunk: int = 300) -> torch.Tensor:
        """(N, len(split)) class predictions of every student."""
        chunk = max(1, samples_per_chunk // self.n)
        out = []
        for i in range(0, len(split), chunk):
            mask = None if split.mask is None else split.mask[i : i + chunk]
            out.append(self.forward(split.x[i : i + chunk], mask, hiddens=False)[0].argmax(-1))
        return torch.cat(out, 1)

    def accuracy(self, split: Split) -> list[float]:
        pred = self.predict(split)
        return [100.0 * (pred[i] == split.y).float().mean().item() for i in range(self.n)]

    def state_dict(self, i: int) -> OrderedDict:
        """Student i (and its projections) in a Distiller's state_dict layout."""
        return OrderedDict((k, self.params[k][i].detach().clone()) for k in self.keys)


STACK_BYTES = 2 * 2**20  # one stack's largest activation: about a CPU core's cache


def default_stack_size(params: Params, task: Task) -> int | None:
    """Students per stack on the CPU: enough that one grouped operation is large,
    few enough that a stack's largest activation (the MLP hidden layer of a batch)
    stays cache-sized; bench/bench.py measures the effect. None (no limit) on a GPU."""
    if task.device.type != "cpu":
        return None
    m = params.model
    per_student = params.distill.batch_size * (task.max_len + 1) * params.student_width
    return max(1, STACK_BYTES // (4 * per_student * m.mlp_ratio))


def default_workers(n: int, device: torch.device | str = "cpu") -> int:
    """Worker threads for n students: one per torch CPU thread (1 on a GPU)."""
    if torch.device(device).type != "cpu":
        return 1
    return max(1, min(n, torch.get_num_threads()))


class StudentGroup:
    """N students trained together, as StudentStacks of at most ``stack_size``
    students (default: N / workers), spread over ``workers`` threads that step
    side by side with one intra-op thread each.

    The operations of small students do not spread well over cores inside one
    operation; independent stacks on independent cores do (operations release
    the GIL). Use as a context manager to run the threads; outside one the
    stacks step one after another. A student's result does not depend on the
    split, up to floating-point rounding.
    """

    def __init__(self, distillers: list[Distiller], opt: OptimParams, total_steps: int,
                 backend: str = "bmm", workers: int | None = None,
                 stack_size: int | None = None):
        self.n = len(distillers)
        device = next(distillers[0].parameters()).device
        workers = default_workers(self.n, device) if workers is None else workers
        self.workers = max(1, min(workers, self.n))
        per_stack = -(-self.n // self.workers)  # all students, spread evenly over the workers
        if stack_size:
            per_stack = min(per_stack, stack_size)
        n_stacks = -(-self.n // per_stack)
        n_stacks = -(-n_stacks // self.workers) * self.workers  # equal work per worker
        n_stacks = min(n_stacks, self.n)
        cuts = [round(i * self.n / n_stacks) for i in range(n_stacks + 1)]
        self.parts = [slice(cuts[i], cuts[i + 1]) for i in range(n_stacks)]
        self.stacks = [StudentStack(distillers[part], backend) for part in self.parts]
        for stack in self.stacks:
            stack.setup_training(opt, total_steps)
        # worker w runs stacks w, w + workers, ... one after another
        self.assigned = [list(range(w, n_stacks, self.workers)) for w in range(self.workers)]
        self._pool, self._threads = None, None

    def __enter__(self) -> "StudentGroup":
        if self.workers > 1:
            self._threads = torch.get_num_threads()
            torch.set_num_threads(1)
            self._pool = ThreadPoolExecutor(self.workers, initializer=torch.set_num_threads,
                                            initargs=(1,))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            torch.set_num_threads(self._threads)
            self._pool = None

    def _each(self, fn) -> list:
        """[fn(stack, part) for every stack], the workers' shares in parallel when running."""
        if self._pool is None:
            return [fn(s, p) for s, p in zip(self.stacks, self.parts)]

        def share(ids):
            return [(i, fn(self.stacks[i], self.parts[i])) for i in ids]

        done = dict(pair for pairs in self._pool.map(share, self.assigned) for pair in pairs)
        return [done[i] for i in range(len(self.stacks))]

    def set_pairs(self, pairs: list[Pairs]) -> None:
        for stack, part in zip(self.stacks, self.parts):
            stack.set_pairs(pairs[part])

    def train_step(self, idx: torch.Tensor, transfer: Split, cache: TeacherCache) -> torch.Tensor:
        """One step of every student i on its batch idx[i]: (N, 4) losses (LOSS_KEYS)."""
        return torch.cat(self._each(lambda s, p: s.train_step(idx[p], transfer, cache)))

    def accuracy(self, split: Split) -> list[float]:
        return [a for accs in self._each(lambda s, p: s.accuracy(split)) for a in accs]

    def keep_best(self, improved: list[bool]) -> None:
        self._each(lambda s, p: s.keep_best(improved[p]))

    def restore_best(self) -> None:
        self._each(lambda s, p: s.restore_best())

    def state_dict(self, i: int) -> OrderedDict:
        for stack, part in zip(self.stacks, self.parts):
            if part.start <= i < part.stop:
                return stack.state_dict(i - part.start)
        raise IndexError(i)


def distill_together(task: Task, params: Params, teacher: Encoder, cache: TeacherCache,
                     init: str, runs: list[Run], progress: bool = True,
                     backend: str = "bmm", workers: int | None = None,
                     stack_size: int | None = None) -> list[dict]:
    """Train the students of ``runs`` (one task and init) together; like calling
    ``experiment.distill`` for each run, and writing the same outputs.

    workers: threads the group is split over (default: one per torch CPU thread);
    stack_size: students per grouped operation (default: ``default_stack_size``)."""
    if not runs:
        return []
    start = time.perf_counter()
    d = params.distill
    n = len(runs)
    names = [run_name(task, init, r.strategy, r.seed) for r in runs]
    distillers = [build_distiller(task, params, teacher, init, r.strategy, r.seed) for r in runs]
    first_pairs = [list(x.pairs) for x in distillers]
    n_params = count_parameters(distillers[0])
    transfer = task.splits["train"].subset(d.transfer_size)
    steps_per_epoch = math.ceil(len(transfer) / d.batch_size)
    group = StudentGroup(distillers, d, d.epochs * steps_per_epoch, backend, workers,
                         stack_size or default_stack_size(params, task))
    del distillers
    gens = [torch.Generator().manual_seed(r.seed) for r in runs]
    lives = [None] * n
    if any(r.out_dir is not None for r in runs):
        lives = [None if r.out_dir is None else open_live(r.out_dir / "live") for r in runs]
    best_val, best_epoch = [-1.0] * n, [-1] * n
    objective = Objective.from_params(d)
    shares: list[list[float]] = []  # per epoch, each run's weighted hidden share
    bar = tqdm(total=d.epochs * steps_per_epoch, desc=f"{task.name}/{init}: {n} students",
               disable=not progress, mininterval=10, leave=False)
    with group:
        for epoch in range(d.epochs):
            group.set_pairs([pairs_at(params, r.strategy, r.seed, epoch) for r in runs])
            order = torch.stack([torch.randperm(len(transfer), generator=g) for g in gens])
            order = order.to(task.device)
            sums = torch.zeros(n, len(LOSS_KEYS), dtype=torch.float64)
            for step, idx in enumerate(order.split(d.batch_size, dim=1)):
                losses = group.train_step(idx, transfer, cache)
                finite = torch.isfinite(losses[:, -1])
                if not bool(finite.all()):
                    i = int((~finite).nonzero()[0])
                    raise NonFiniteLoss(
                        f"{names[i]}: non-finite loss ({losses[i, -1].item()}) at epoch "
                        f"{epoch}, step {step}; lower the learning rate or the loss weights "
                        f"({int((~finite).sum())} of {n} students trained together non-finite)"
                    )
                sums += losses.cpu().double()
                bar.update()
            hid, total = LOSS_KEYS.index("hid"), LOSS_KEYS.index("total")
            shares.append([objective.hidden_share(sums[i, hid].item(), sums[i, total].item())
                           for i in range(n)])
            val = None
            if validates(epoch, d.epochs, d.val_every):
                val = group.accuracy(task.splits["val"])
                improved = [v > b for v, b in zip(val, best_val)]
                group.keep_best(improved)
                for i in range(n):
                    if improved[i]:
                        best_val[i], best_epoch[i] = val[i], epoch
            for i in range(n):
                if lives[i] is not None:
                    for key, total in zip(LOSS_KEYS, sums[i]):
                        lives[i].log_metric(f"train/{key}", (total / (step + 1)).item())
                    if val is not None:
                        lives[i].log_metric("val/acc", val[i])
                    lives[i].next_step()
            bar.set_postfix(best=f"{max(best_val):.1f}")
        bar.close()
        for live in lives:
            if live is not None:
                live.end()
        group.restore_best()
        test = group.accuracy(task.splits["test"])
    wall = (time.perf_counter() - start) / n
    rows = []
    for i, r in enumerate(runs):
        metrics = {**run_fields(task, params, init, r.strategy, r.seed), "test_acc": test[i],
                   "val_acc": best_val[i], "best_epoch": best_epoch[i],
                   "wall_s": wall, "n_params": n_params, "pairs": first_pairs[i],
                   "hid_share_first": shares[0][i], "hid_share_last": shares[-1][i]}
        if r.ckpt_path is not None:
            atomic_torch_save({"state_dict": group.state_dict(i), "metrics": metrics},
                              r.ckpt_path)
        if r.out_dir is not None:
            atomic_write_json(r.out_dir / "metrics.json", metrics)
        rows.append(metrics)
    return rows


def distill_runs(task: Task, params: Params, teacher: Encoder, cache: TeacherCache, init: str,
                 runs: list[Run], group_size: int | None = None,
                 progress: bool = True) -> list[dict]:
    """Train every run, ``group_size`` students at a time (default:
    ``distill.batch_students``): 0 = all together, 1 = one at a time through
    ``experiment.distill``, k = consecutive groups of k. Metrics in run order."""
    k = params.distill.batch_students if group_size is None else group_size
    if k < 0:
        raise ValueError(f"group_size must be >= 0, got {k}")
    if k == 1:
        return [distill(task, params, teacher, cache, init, r.strategy, r.seed, r.out_dir,
                        r.ckpt_path, progress=False)
                for r in tqdm(runs, desc=f"{task.name}/{init}", disable=not progress,
                              mininterval=10)]
    k = k or len(runs)
    rows = []
    for i in range(0, len(runs), k):
        rows += distill_together(task, params, teacher, cache, init, runs[i : i + k], progress)
    return rows
