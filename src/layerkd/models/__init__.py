"""The transformers the students and teachers are made of.

    encoder          Encoder: the classification transformer (tokens or
                     feature patches in, logits and every hidden state out)
    encoder_decoder  EncoderDecoder: the generation tasks' seq2seq transformer
    beam_search      beam search for EncoderDecoder.generate
    bert, bart       BertClassifier, BartSeq2Seq: Hugging Face `transformers` BERT and
                     BART behind those interfaces (model.backend: transformers;
                     imported from their modules, so `transformers` loads on demand)
"""

from .encoder import PAD_ID, Block, Encoder, count_parameters, token_mask
from .encoder_decoder import BOS_ID, EOS_ID, EncoderDecoder

__all__ = ["BOS_ID", "EOS_ID", "PAD_ID", "Block", "Encoder", "EncoderDecoder",
           "count_parameters", "token_mask"]
