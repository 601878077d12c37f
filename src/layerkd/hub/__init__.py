"""The paper's own models and data (section ``hub``, ``config.hub``): BERT on GLUE,
BART on DART, T5 on WMT16 En-Ro, each from a Hub checkpoint, distilled under
every strategy.

    model    HubBert: ``AutoModelForSequenceClassification`` behind the native
             ``forward(x, mask) -> (logits, hiddens)``; the official weight copy
    seq2seq  HubSeq2Seq: ``AutoModelForSeq2SeqLM`` behind the native encoder-decoder
             interface, through ``IdMap`` (the tokenizer's ids <-> the pipeline's)
    data     load_dataset + the checkpoint's tokenizer -> the arrays every task stores
    standin  tiny random BERT / BART / T5 folders and Hub-format JSON-lines files
             (tests, offline trials)
    report   the hub task's table beside the paper's numbers

The families (``families.hub``) run the teacher live on each batch instead of
caching all its hidden states: at BERT-base size on MNLI that cache would not
fit in memory.
"""
