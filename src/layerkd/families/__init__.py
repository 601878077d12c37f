"""Model families: what differs between the encoder classifier and the
encoder-decoder (and any family added later), behind one interface.

    base        Family: the methods every stage calls
    classifier  Classifier: the encoder classifier (BERT-like); TransformersClassifier:
                the same on `transformers` BERT (model.backend: transformers)
    hub         HubClassifier, HubSeq2Seq: a Hub BERT on a GLUE task, a Hub BART or T5
                on DART / WMT16 (section hub)
    seq2seq     Seq2Seq: the encoder-decoder (BART / T5-like); TransformersSeq2Seq: the
                same on `transformers` BART or T5 (model.backend: transformers)

Adding a family is one module with a ``Family`` subclass and one line in
``FAMILIES``; ``config.TASK_FAMILIES`` says which family each task uses.
"""

from .base import Family
from .classifier import Classifier, TransformersClassifier
from .hub import HubClassifier, HubSeq2Seq
from .seq2seq import Seq2Seq, TransformersSeq2Seq

FAMILIES: dict[str, Family] = {f.name: f for f in (Classifier(), TransformersClassifier(),
                                                    HubClassifier(), Seq2Seq(),
                                                    TransformersSeq2Seq(), HubSeq2Seq())}

__all__ = ["FAMILIES", "Family"]
