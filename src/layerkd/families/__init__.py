"""Model families: what differs between the encoder classifier and the
encoder-decoder (and any family added later), behind one interface.

    base        Family: the methods every stage calls
    classifier  Classifier: the encoder classifier (BERT-like); TransformersClassifier:
                the same on `transformers` BERT (model.backend: transformers)
    seq2seq     Seq2Seq: the encoder-decoder (BART / T5-like); TransformersSeq2Seq: the
                same on `transformers` BART or T5 (model.backend: transformers)
    hub         HubClassifier, HubSeq2Seq: a Hub BERT on a GLUE task, a Hub BART or T5
                on DART / WMT16 (section hub)
    hub_lm      HubLM, HubQA: a Hub Qwen3 on HellaSwag / CoQA (section hub)

Adding a family is one module with a ``Family`` subclass and one line in
``FAMILIES`` (or ``HUB_FAMILIES``); ``config.TASK_FAMILIES`` says which family
each task uses, ``family(name)`` returns it.
"""

import importlib

from .base import Family
from .classifier import Classifier, TransformersClassifier
from .seq2seq import Seq2Seq, TransformersSeq2Seq

FAMILIES: dict[str, Family] = {f.name: f for f in (Classifier(), TransformersClassifier(),
                                                    Seq2Seq(), TransformersSeq2Seq())}

# The hub tasks' families (the paper's own checkpoints) load on first use: no
# embedded stage runs their code (checkpoints, peft, lm-eval), so none depends on
# it; dvc.yaml lists it for the hub stages (tests/test_dvc_deps.py checks).
HUB_FAMILIES = {"classifier_hub": "hub", "seq2seq_hub": "hub", "lm_choice_hub": "hub_lm",
                "lm_qa_hub": "hub_lm"}


def family(name: str) -> Family:
    if name not in FAMILIES and name in HUB_FAMILIES:
        module = importlib.import_module(f"{__name__}.{HUB_FAMILIES[name]}")
        FAMILIES.update({f.name: f for f in module.FAMILIES})
    if name not in FAMILIES:
        raise KeyError(f"family {name!r} is not one of {sorted({*FAMILIES, *HUB_FAMILIES})}")
    return FAMILIES[name]


__all__ = ["FAMILIES", "HUB_FAMILIES", "Family", "family"]
