"""The paper's own classification setting: a Hub BERT checkpoint fine-tuned on a
GLUE task and distilled under every strategy (section ``hub``, ``config.hub``).

    model    HubBert: ``AutoModelForSequenceClassification`` behind the native
             ``forward(x, mask) -> (logits, hiddens)``; the official weight copy
    data     load_dataset + the checkpoint's tokenizer -> the arrays every task stores
    standin  a tiny random BERT folder and GLUE-format JSON-lines files (tests, offline trials)
    report   the hub task's table beside the paper's numbers

The family (``families.hub.HubClassifier``) runs the teacher live on each
batch instead of caching all its hidden states: at BERT-base size on MNLI that
cache would not fit in memory.
"""
