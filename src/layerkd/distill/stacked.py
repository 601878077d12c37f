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

Each student keeps exactly the semantics of ``run.distill_one``:

* its own initialisation (``run.build_run``: set_seed(seed), then random or
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
product rounds differently from a single one); tests/test_stacked.py checks
this. Runs are reproducible for a fixed thread count. ``wall_s`` of a student
trained in a group is the group's wall time divided by the group size.

``backend="vmap"`` runs the students' own ``Encoder.forward`` through
``torch.vmap`` + ``torch.func.functional_call`` instead: a cross-check, and a
baseline in bench/bench.py (torch has no vmap batching rule for CPU attention,
so vmap loops over the students there).
"""

from __future__ import annotations

import copy
import warnings
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state

from ..config import OptimParams
from ..data import Split
from ..models import token_mask
from ..strategies import Pairs
from ..train.loop import warmup_cosine
from .cache import TeacherCache
from .distiller import Distiller
from .objective import pair_distance, token_average
from .stacked_forward import _check_layout, _linear, stacked_encoder_forward

LOSS_KEYS = ("ce", "kl", "hid", "total")  # the order of Distiller's losses dict


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
