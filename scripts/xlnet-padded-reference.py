#!/usr/bin/env python3
"""transformers' XLNetModel on a LEFT-padded batch, for the XLNet checkpoint builder's tests (issue #16).

Takes the tiny XLNet of shared/models/tiny/xlnet and two of its reference sentences (indices 0 and 20, 12 and 18
tokens), pads them on the left as XLNet's tokenizer does (pad id, attention_mask 0, token_type_ids 3 = the tokenizer's
pad_token_type_id), runs `XLNetModel` with output_hidden_states, once with the checkpoint's clamp_len (-1) and once
with clamp_len 3 (relative positions clamped to ±3), and writes every hidden state of every position, pad rows
included, as base64 little-endian float32 [batch, sequence, d_model] to src/models/fixtures/xlnet-padded.json
(about 100 kB). Deterministic: a rerun writes the same values.

usage: /work/venv/bin/python scripts/xlnet-padded-reference.py [SHARED_TINY_XLNET_DIR] [OUT_FILE]
"""
import base64
import json
import sys
from pathlib import Path

import torch
import transformers

REPO = Path(__file__).resolve().parent.parent
SRC = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / 'shared' / 'models' / 'tiny' / 'xlnet'
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / 'src' / 'models' / 'fixtures' / 'xlnet-padded.json'
SENTENCES = [0, 20]
PAD_TYPE = 3


def main() -> None:
    ref = json.loads((SRC / 'reference' / 'reference.json').read_text())
    config = json.loads((SRC / 'config.json').read_text())
    pad = config['pad_token_id']
    sents = [ref['sentences'][i] for i in SENTENCES]
    T = max(len(s['input_ids']) for s in sents)
    ids, mask, types = [], [], []
    for s in sents:
        n = T - len(s['input_ids'])
        ids.append([pad] * n + s['input_ids'])
        mask.append([0] * n + [1] * len(s['input_ids']))
        types.append([PAD_TYPE] * n + s['token_type_ids'])
    runs = []
    for clamp in (config.get('clamp_len', -1), 3):
        model = transformers.XLNetModel.from_pretrained(str(SRC), dtype=torch.float32, clamp_len=clamp).eval()
        with torch.no_grad():
            out = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), token_type_ids=torch.tensor(types), output_hidden_states=True)
        states = [base64.b64encode(h.numpy().astype('<f4').tobytes()).decode('ascii') for h in out.hidden_states]
        runs.append({'clamp_len': clamp, 'hidden_states': states})
    doc = {
        'about': 'transformers XLNetModel on a left-padded batch of shared/models/tiny/xlnet reference sentences; written by scripts/xlnet-padded-reference.py',
        'transformers': transformers.__version__,
        'torch': torch.__version__,
        'sentences': SENTENCES,
        'batch': len(sents),
        'sequence': T,
        'd_model': config['d_model'],
        'input_ids': ids,
        'attention_mask': mask,
        'token_type_ids': types,
        'runs': runs,
    }
    OUT.write_text(json.dumps(doc, indent=1) + '\n')
    print(f'wrote {OUT} ({OUT.stat().st_size} bytes)')


if __name__ == '__main__':
    main()
