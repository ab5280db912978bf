"""Reference log-probabilities for neuroprobe's LM heads and interventions (src/intervene/fixtures/lm-heads.json).

For each tiny model in ../shared/models/tiny with an LM head, a few sentences are run through transformers' LM class
(float32, eval mode) twice: plain, and with the whole `blocks.1.mlp.hook_post` site zeroed (a forward pre-hook on
the block's MLP output projection replaces its input by zeros). At a few positions the log-softmax of the logits is
saved for a few candidate ids. Run: /work/venv/bin/python scripts/make-intervene-fixture.py
"""
import json
import os
import torch
from transformers import AutoModelForMaskedLM, AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.join(os.path.dirname(__file__), '..')
TINY = os.path.join(ROOT, '..', 'shared', 'models', 'tiny')
OUT = os.path.join(ROOT, 'src', 'intervene', 'fixtures', 'lm-heads.json')
SENTENCES = ['The dogs near the house are barking loudly .', 'She walks to the office every morning .', 'Prices of oil rose again in May .']

# the MLP output projection of block 1 (its input is blocks.1.mlp.hook_post), by module-name suffix
PROJ_SUFFIXES = ['layer.1.output.dense', 'layer.1.ffn.lin2', 'h.1.mlp.c_proj', 'layers.1.mlp.down_proj', 'layers.1.fc2', 'layers.1.mlp.dense_4h_to_h', 'layer.1.ff.layer_2']


def proj_of(m):
    for n, mod in m.named_modules():
        if any(n.endswith(s) for s in PROJ_SUFFIXES):
            return mod
    raise SystemExit('no block-1 MLP output projection')


FIXTURES = os.path.join(ROOT, 'src', 'models', 'fixtures')
MASKED = {'bert', 'roberta', 'camembert', 'xlm-roberta', 'xlnet', 'electra'}
EXTRA = {
    'src/models/fixtures/camembert': AutoModelForMaskedLM,
    'xlnet': 'xlnet',
    'src/models/fixtures/gemma2': AutoModelForCausalLM,
    'src/models/fixtures/opt': AutoModelForCausalLM,
    'src/models/fixtures/gpt_neox': AutoModelForCausalLM,
    'src/models/fixtures/gpt_neox-sequential': AutoModelForCausalLM,
    'src/models/fixtures/qwen2': AutoModelForCausalLM,
}

MODELS = {
    'bert': (AutoModelForMaskedLM, lambda m: m.bert.encoder.layer[1].output.dense),
    'roberta': (AutoModelForMaskedLM, lambda m: m.roberta.encoder.layer[1].output.dense),
    'distilbert': (AutoModelForMaskedLM, lambda m: m.distilbert.transformer.layer[1].ffn.lin2),
    '../bert-mini-en-v2': (AutoModelForMaskedLM, lambda m: m.bert.encoder.layer[1].output.dense),
    'gpt2': (AutoModelForCausalLM, lambda m: m.transformer.h[1].mlp.c_proj),
    'llama': (AutoModelForCausalLM, lambda m: m.model.layers[1].mlp.down_proj),
}

from transformers import XLNetLMHeadModel
for k, v in EXTRA.items():
    MODELS[k] = (XLNetLMHeadModel if v == 'xlnet' else v, proj_of)

torch.manual_seed(0)
out = {'site': 'blocks.1.mlp.hook_post', 'models': {}}
for name, (cls, proj) in MODELS.items():
    d = os.path.join(ROOT, name) if name.startswith('src/') else os.path.join(TINY, name)
    tok = AutoTokenizer.from_pretrained(d)
    model = cls.from_pretrained(d, dtype=torch.float32, attn_implementation='eager').eval() if 'xlnet' not in name else cls.from_pretrained(d, dtype=torch.float32).eval()
    mtype = model.config.model_type
    rows = []
    for s in SENTENCES:
        ids = tok(s)['input_ids']
        T = len(ids)
        positions = sorted({min(1, T - 1), T // 2, max(T - 2, 0)})
        V = model.get_output_embeddings().weight.shape[0]
        cands = [[ids[p], (ids[p] * 7 + 11) % V, 5] for p in positions]
        x = torch.tensor([ids])
        res = {}
        for mode in ['plain', 'zeroed']:
            handle = None
            if mode == 'zeroed':
                handle = proj(model).register_forward_pre_hook(lambda mod, args: (torch.zeros_like(args[0]),))
            with torch.no_grad():
                kw = {'attention_mask': torch.ones_like(x)}
                if mtype in MASKED:
                    kw['token_type_ids'] = torch.zeros_like(x)
                logits = model(input_ids=x, **kw).logits[0]
            if handle:
                handle.remove()
            lp = torch.log_softmax(logits.double(), dim=-1)
            res[mode] = [[float(lp[p, c]) for c in cs] for p, cs in zip(positions, cands)]
        rows.append({'ids': ids, 'positions': positions, 'candidates': cands, **res})
    out['models'][name if name.startswith('src/') else os.path.basename(name)] = rows
with open(OUT, 'w') as f:
    json.dump(out, f, indent=1)
print('wrote', OUT)
