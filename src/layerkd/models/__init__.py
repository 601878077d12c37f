"""The transformers the students and teachers are made of.

    encoder          Encoder: the classification transformer (tokens or
                     feature patches in, logits and every hidden state out)
    encoder_decoder  EncoderDecoder: the generation tasks' seq2seq transformer
    beam_search      beam search for EncoderDecoder.generate
"""

from .encoder import PAD_ID, Block, Encoder, count_parameters, token_mask
from .encoder_decoder import BOS_ID, EOS_ID, EncoderDecoder

__all__ = ["BOS_ID", "EOS_ID", "PAD_ID", "Block", "Encoder", "EncoderDecoder",
           "count_parameters", "token_mask"]
