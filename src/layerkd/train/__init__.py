"""Training and scoring, the same for every model family.

    loop      fit (AdamW, warm-up + cosine, best-on-validation weights, dvclive),
              seeding and device selection
    evaluate  accuracy of classifiers; BLEU and exact match of decodes
"""
