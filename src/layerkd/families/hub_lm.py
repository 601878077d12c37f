"""The hub LLM families (``config.hub``, kinds ``lm_choice`` and ``lm_qa``): a Hub
Qwen3 fine-tuned on HellaSwag or CoQA and distilled into layer-reduced students
(``hub.causal_lm``), scored by lm-evaluation-harness (``hub.lm_score``).

As the official LLM code (llm/finetune.py, llm/distillation.py,
llm/sft_trainer.py): the teacher trains LoRA adapters (merged when saved), each
student is weight-copied by the layer map and trains its own adapters; the loss
is the SFT cross-entropy on the completion tokens, KL(teacher || student) over
the real tokens, and the hidden term over them (``hidden_distance: unit_sq``,
``match_embeddings: false`` in the profile). The teacher runs live on each batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..distill.cache import LiveTeacher
from ..distill.initialisation import initialise
from ..distill.objective import Objective, hidden_matching_loss, kl_teacher_student
from ..hub.causal_lm import HubCausalLM, causal_lm_config, weight_copy_causal_lm_
from ..hub.lm_score import harness_score
from ..hub.model import tokenizer
from ..strategies import Pairs
from .base import Family, LossFn
from .classifier import one_stack_pairs


def completion_cross_entropy(logits: torch.Tensor, x: torch.Tensor,
                             loss_mask: torch.Tensor) -> torch.Tensor:
    """Next-token CE over the positions whose target token the loss reads."""
    targets = loss_mask[:, 1:]
    return F.cross_entropy(logits[:, :-1][targets], x[:, 1:][targets])


def sft_loss_fn(model: nn.Module, split) -> LossFn:
    def loss_fn(idx: torch.Tensor):
        x, mask = split.x[idx], split.mask[idx]
        loss = completion_cross_entropy(model(x, mask)[0], x, split.y[idx])
        return loss, {"ce": loss.item()}

    return loss_fn


class HubLMDistiller(nn.Module):
    """A student and its pairs; forward returns (logits, losses): ``ce`` on the
    completion, ``kl`` over the real tokens' next-token distributions, ``hid`` the
    hidden term over the real tokens, ``total``. Same width: no projections."""

    def __init__(self, student: HubCausalLM, pairs: Pairs, objective: Objective):
        super().__init__()
        self.student, self.pairs, self.objective = student, list(pairs), objective

    def forward(self, x, loss_mask, mask, teacher_logits, teacher_hiddens):
        logits, hiddens = self.student(x, mask)
        real = mask[:, 1:]
        obj = self.objective
        losses = {"ce": completion_cross_entropy(logits, x, loss_mask),
                  "kl": kl_teacher_student(logits[:, :-1][real], teacher_logits[:, :-1][real],
                                           obj.temperature),
                  "hid": hidden_matching_loss(hiddens, teacher_hiddens, self.pairs, mask, None,
                                              obj)}
        losses["total"] = obj.total(losses["ce"], losses["kl"], losses["hid"])
        return logits, losses


class HubLM(Family):
    name, metric, stacks, together = "lm_choice_hub", "acc", ("decoder",), "threads"
    kind = "lm_choice"

    def build(self, task, depth, width, params):
        model = HubCausalLM(causal_lm_config(task.checkpoint, depth, width)).to(task.device)
        # a student's adapters are added once it is initialised (``initialise``)
        model.pending_lora = task.lm_settings["student_lora"]
        return model

    def start_teacher(self, task, depth, width, params):
        config = causal_lm_config(task.checkpoint, depth, width)
        model = HubCausalLM(config, checkpoint=task.checkpoint).to(task.device)
        return model.add_lora(task.lm_settings["teacher_lora"])

    def finish_teacher(self, model, task):
        return model.merge()

    def teacher_loss(self, model, task, params, split="train"):
        return sft_loss_fn(model, task.splits[split])

    def evaluate(self, model, task, split, beams=1):
        """The harness's metric on the split's documents (greedy: ``beams`` unused)."""
        score = harness_score(model.hf, tokenizer(task.tokenizer), task.documents[split],
                              self.kind,
                              max_length=task.max_len,
                              max_new_tokens=task.lm_settings["max_new_tokens"])
        return {self.metric: score}

    def cache(self, teacher, transfer):
        return LiveTeacher(teacher, transfer)

    def initialise(self, student, init, teacher):
        student = initialise(student, init, teacher, weight_copy_causal_lm_)
        return student.add_lora(getattr(student, "pending_lora", None))

    def pairs(self, params, strategy, seed, epoch=0):
        return one_stack_pairs(params, strategy, seed, epoch)

    def distiller(self, student, pairs, teacher_width, objective):
        if student.width != teacher_width:
            raise ValueError(f"the hub LLM students match the teacher's width {teacher_width}; "
                             f"got {student.width} (no projections, as the official students)")
        return HubLMDistiller(student, pairs, objective)

    def set_pairs(self, distiller, pairs):
        distiller.pairs = pairs

    def pairs_record(self, distiller):
        return {"pairs": list(distiller.pairs)}

    def projections(self, distiller):
        return {}

    def distill_loss(self, distiller, transfer, cache):
        def loss_fn(idx):
            t_logits, t_hiddens = cache.batch(idx, [t for _, t in distiller.pairs])
            _, losses = distiller(transfer.x[idx], transfer.y[idx], transfer.mask[idx],
                                  t_logits, t_hiddens)
            return losses["total"], {k: v.item() for k, v in losses.items()}

        return loss_fn


class HubQA(HubLM):
    name, metric, kind = "lm_qa_hub", "em", "lm_qa"


FAMILIES = (HubLM(), HubQA())
