#!/usr/bin/env python3
"""Tiny decoder checkpoints for the config variants the tokenizer-level fixtures (src/models/fixtures) do not reach,
with transformers' outputs on fixed token ids, for src/models/families/variants.test.ts (issue #16):

  opt-postnorm-proj    OPT 350m layout: do_layer_norm_before false (post-norm, no final norm), project_in/out
                       (word_embed_proj_dim 24 != hidden_size 40), float16
  opt-nobias-noaffine  OPT with enable_bias false and layer_norm_elementwise_affine false
  gpt2-inv-layer       GPT-2 with scale_attn_by_inverse_layer_idx, relu, n_inner unset (4 x n_embd)
  mistral-window       sliding_window 3 (below the sentence length), multi-query (4/1), head_dim 8 x 4 != hidden 24
  qwen2-window         use_sliding_window with max_window_layers 1 (layer 1 slides, window 3), bfloat16
  gemma2-window        sliding_window 3 on alternate layers, attn_logit_softcapping 2, query_pre_attn_scalar 10
  llama-linear-rope    rope_type linear (factor 2, theta 1000), attention and MLP biases
  gemma-legacy-gelu    an early Gemma config: hidden_act "gelu" (transformers 5 runs the tanh approximation), no
                       hidden_activation; (1 + w) norms, sqrt(24) embedding scale, head_dim 8 x 4 != 24, bfloat16
  gpt_neox-legacy      a transformers 4 config: rotary_pct 0.5 and rotary_emb_base 1000 instead of rope_parameters

Each folder: config.json, model.safetensors (the usual *ForCausalLM class, weights perturbed so that biases and norm
weights are not 0/1), expected.json: for each id sequence (one forward pass each, mask all ones, positions 0..n-1)
transformers' hidden_states (float32, eager attention) and the input of each block's MLP output projection.
Deterministic (seeded). usage: /work/venv/bin/python scripts/make-decoder-variants.py [OUT_DIR]
"""
import json
import shutil
import sys
import zlib
from pathlib import Path

import torch
import transformers as T

REPO = Path(__file__).resolve().parent.parent
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / 'src' / 'models' / 'variant-fixtures'
VOCAB = 64
SEQS = [[5, 17, 3, 42, 8, 8, 61, 30, 2], [11, 0, 47, 9, 23, 50]]

BASE = dict(vocab_size=VOCAB, max_position_embeddings=64, initializer_range=0.2, bos_token_id=1, eos_token_id=2, pad_token_id=0)
LLAMA = dict(hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)

VARIANTS = [
    dict(name='opt-postnorm-proj', config='OPTConfig', cls='OPTForCausalLM', dtype=torch.float16, ffn='decoder.layers.{i}.fc2',
         cfg=dict(hidden_size=40, word_embed_proj_dim=24, ffn_dim=72, num_attention_heads=4, num_hidden_layers=2,
                  do_layer_norm_before=False, activation_function='relu', init_std=0.2)),
    dict(name='opt-nobias-noaffine', config='OPTConfig', cls='OPTForCausalLM', dtype=torch.float32, ffn='decoder.layers.{i}.fc2',
         cfg=dict(hidden_size=32, word_embed_proj_dim=32, ffn_dim=56, num_attention_heads=2, num_hidden_layers=2,
                  enable_bias=False, layer_norm_elementwise_affine=False, init_std=0.2)),
    dict(name='gpt2-inv-layer', config='GPT2Config', cls='GPT2LMHeadModel', dtype=torch.float32, ffn='h.{i}.mlp.c_proj',
         cfg=dict(n_embd=24, n_head=3, n_layer=3, n_positions=64, activation_function='relu', scale_attn_by_inverse_layer_idx=True)),
    dict(name='mistral-window', config='MistralConfig', cls='MistralForCausalLM', dtype=torch.float32, ffn='layers.{i}.mlp.down_proj',
         cfg=dict(hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1, head_dim=8, sliding_window=3)),
    dict(name='qwen2-window', config='Qwen2Config', cls='Qwen2ForCausalLM', dtype=torch.bfloat16, ffn='layers.{i}.mlp.down_proj',
         cfg=dict(**LLAMA, use_sliding_window=True, sliding_window=3, max_window_layers=1)),
    dict(name='gemma2-window', config='Gemma2Config', cls='Gemma2ForCausalLM', dtype=torch.float32, ffn='layers.{i}.mlp.down_proj',
         cfg=dict(**LLAMA, head_dim=8, sliding_window=3, attn_logit_softcapping=2.0, query_pre_attn_scalar=10, final_logit_softcapping=30.0)),
    dict(name='llama-linear-rope', config='LlamaConfig', cls='LlamaForCausalLM', dtype=torch.float32, ffn='layers.{i}.mlp.down_proj',
         cfg=dict(**LLAMA, attention_bias=True, mlp_bias=True, rope_parameters=dict(rope_type='linear', factor=2.0, rope_theta=1000.0))),
    dict(name='gemma-legacy-gelu', config='GemmaConfig', cls='GemmaForCausalLM', dtype=torch.bfloat16, ffn='layers.{i}.mlp.down_proj',
         cfg=dict(**LLAMA, head_dim=8), legacy=dict(hidden_act='gelu', hidden_activation=None)),
    dict(name='gpt_neox-legacy', config='GPTNeoXConfig', cls='GPTNeoXForCausalLM', dtype=torch.float32, ffn='layers.{i}.mlp.dense_4h_to_h',
         cfg=dict(hidden_size=32, intermediate_size=56, num_hidden_layers=2, num_attention_heads=4, rope_parameters=dict(rope_type='default', rope_theta=1000.0, partial_rotary_factor=0.5)),
         legacy=dict(rotary_pct=0.5, rotary_emb_base=1000.0)),
]


def make(v):
    out = OUT / v['name']
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    seed = zlib.crc32(v['name'].encode())
    torch.manual_seed(seed)
    cfg = getattr(T, v['config'])(**BASE, **v['cfg'])
    model = getattr(T, v['cls'])(cfg).eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:  # biases and norm weights: away from 0 / 1
                p.add_(torch.randn(p.shape, generator=gen) * 0.2)
            elif 'embed' in name or 'wte' in name or 'wpe' in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    model.to(v['dtype'])
    model.config.dtype = v['dtype']
    model.save_pretrained(out)
    if 'legacy' in v:
        c = json.loads((out / 'config.json').read_text())
        c.pop('rope_parameters', None)
        c.update(v['legacy'])
        (out / 'config.json').write_text(json.dumps(c, indent=2, sort_keys=True) + '\n')
    base = T.AutoModel.from_pretrained(out, dtype=torch.float32, attn_implementation='eager').eval()
    mods = dict(base.named_modules())
    L = base.config.num_hidden_layers
    caps = [None] * L

    def pre_hook(i):
        def f(_m, args):
            caps[i] = args[0].detach().reshape(-1, args[0].shape[-1])
        return f

    for i in range(L):
        mods[v['ffn'].format(i=i)].register_forward_pre_hook(pre_hook(i))
    cases = []
    for ids in SEQS:
        t = torch.tensor([ids])
        with torch.no_grad():
            o = base(input_ids=t, attention_mask=torch.ones_like(t), position_ids=torch.arange(len(ids))[None], output_hidden_states=True)
        cases.append({'input_ids': ids,
                      'hidden_states': [h[0].tolist() for h in o.hidden_states],
                      'mlp_post': [c.tolist() for c in caps]})
    info = {'variant': v['name'], 'generator': 'scripts/make-decoder-variants.py', 'seed': seed,
            'transformers': T.__version__, 'torch': torch.__version__, 'checkpoint_dtype': str(v['dtype']).replace('torch.', ''),
            'mlp_post_module': v['ffn'], 'cases': cases}
    (out / 'expected.json').write_text(json.dumps(info) + '\n')
    print(v['name'], 'hidden widths', [len(h[0]) for h in cases[0]['hidden_states']], flush=True)


for v in VARIANTS:
    make(v)
