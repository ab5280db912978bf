#!/usr/bin/env python3
"""Tiny random-weight Hugging Face checkpoints, with transformers' reference activations, for the model families that
shared/models/tiny does not cover (issue #16). Writes src/models/fixtures/<name>/ in exactly the layout and conventions
of shared/models/tiny (see its README.md): config.json, weights of the usual pre-training class (some saved in float16 or
bfloat16), tokenizer.json + tokenizer_config.json, onnx/model.onnx (bare model, one output last_hidden_state, opset 14,
eager attention, dynamic axes), reference/sentences.conllu and reference_{first,last,average}.hdf5 + ffn_last.hdf5 in
NeuroX layout, plus ffn_pre_last.hdf5 (MLP pre-activation; GLU: the gate) and, for GLU models, ffn_pre_linear_last.hdf5
(the up projection), and reference/reference.json.

Needs the venv with torch + transformers (/work/venv) and, for the hdf5 files and the ONNX check, node with the repo's
node_modules (h5wasm, onnxruntime-node): nothing else. Deterministic: seeded, and a rerun writes the same tensors.

usage: /work/venv/bin/python scripts/make-tiny-fixtures.py [SHARED_TINY_DIR] [OUT_DIR] [NAME ...]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import torch
import transformers as T

REPO = Path(__file__).resolve().parent.parent
SHARED_TINY = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / 'shared' / 'models' / 'tiny'
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / 'src' / 'models' / 'fixtures'
ONLY = set(sys.argv[3:])
SENTENCES = [0, 1, 2, 3, 20, 21, 22, 23]  # of shared tiny's 24: incl. non-ASCII (20) and the 75-word one (21)
INIT_RANGE, NOISE_STD, EMBED_STD = 0.2, 0.2, 0.5
TOL = 1e-4

# ------------------------------------------------------------------------------------------------------------------
# tokenizers (reused from shared/models/tiny; see README.md for the choice per folder)


def load_tok(name):
    return json.loads((SHARED_TINY / name / 'tokenizer.json').read_text())


def tok_cfg(name):
    return json.loads((SHARED_TINY / name / 'tokenizer_config.json').read_text())


def template(single_before, single_after, ids):
    seq = lambda x, t: {'Sequence': {'id': x, 'type_id': t}}
    sp = lambda s, t: {'SpecialToken': {'id': s, 'type_id': t}}
    single = [sp(s, 0) for s in single_before] + [seq('A', 0)] + [sp(s, 0) for s in single_after]
    pair = single + [sp(s, 1) for s in single_before] + [seq('B', 1)] + [sp(s, 1) for s in single_after]
    return {'type': 'TemplateProcessing', 'single': single, 'pair': pair,
            'special_tokens': {s: {'id': s, 'ids': [ids[s]], 'tokens': [s]} for s in set(single_before + single_after)}}


def tokenizer_files(kind):
    """(tokenizer.json dict, tokenizer_config dict, description, special ids for config.json)."""
    if kind == 'roberta':  # byte-level BPE, add_prefix_space, <s> A </s>, fairseq ids
        return load_tok('roberta'), tok_cfg('roberta'), "shared tiny roberta's byte-level BPE (add_prefix_space, <s> A </s>)", \
            dict(bos_token_id=0, pad_token_id=1, eos_token_id=2)
    if kind == 'sentencepiece':  # shared tiny xlnet's SentencePiece unigram, XLM-R layout <s> A </s>
        t = load_tok('xlnet')
        ids = {a['content']: a['id'] for a in t['added_tokens']}
        t['post_processor'] = template(['<s>'], ['</s>'], ids)
        t['padding'] = None
        cfg = {'backend': 'tokenizers', 'bos_token': '<s>', 'cls_token': '<s>', 'eos_token': '</s>', 'mask_token': '<mask>',
               'model_input_names': ['input_ids', 'attention_mask'], 'model_max_length': 512, 'pad_token': '<pad>',
               'sep_token': '</s>', 'tokenizer_class': 'PreTrainedTokenizerFast', 'unk_token': '<unk>'}
        return t, cfg, "shared tiny xlnet's SentencePiece unigram (Metaspace '▁' before every word) with XLM-R's <s> A </s> template", \
            dict(bos_token_id=ids['<s>'], pad_token_id=ids['<pad>'], eos_token_id=ids['</s>'])
    if kind == 'bert':
        return load_tok('bert'), tok_cfg('bert'), "shared tiny bert's cased WordPiece ([CLS] A [SEP], token_type_ids)", \
            dict(pad_token_id=0)
    if kind == 'gpt2':
        return load_tok('gpt2'), tok_cfg('gpt2'), "shared tiny gpt2's byte-level BPE (add_prefix_space, no special tokens)", \
            dict(bos_token_id=3000, eos_token_id=3000)
    if kind == 'opt':  # roberta's BPE (it has </s> = 2, <pad> = 1 as OPT does), OPT prepends </s>
        t = load_tok('roberta')
        t['post_processor'] = template(['</s>'], [], {'</s>': 2})
        cfg = {'add_prefix_space': True, 'backend': 'tokenizers', 'bos_token': '</s>', 'eos_token': '</s>',
               'model_input_names': ['input_ids', 'attention_mask'], 'model_max_length': 512, 'pad_token': '<pad>',
               'tokenizer_class': 'PreTrainedTokenizerFast', 'unk_token': '<unk>'}
        return t, cfg, "shared tiny roberta's byte-level BPE (add_prefix_space) with OPT's template </s> A", \
            dict(bos_token_id=2, pad_token_id=1, eos_token_id=2)
    if kind == 'llama':
        cfg = dict(tok_cfg('llama'), model_input_names=['input_ids', 'attention_mask'])
        return load_tok('llama'), cfg, "shared tiny llama's byte-level BPE, Llama 3 layout (no prefix space, <|begin_of_text|> A)", \
            dict(bos_token_id=3000, eos_token_id=3001)
    if kind == 'llama-nobos':  # Qwen2 adds no BOS: the Llama 3 pre-tokenizer with a ByteLevel-only post-processor
        t = load_tok('llama')
        t['post_processor'] = {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True}
        cfg = {'backend': 'tokenizers', 'bos_token': None, 'eos_token': '<|end_of_text|>', 'pad_token': '<|end_of_text|>',
               'model_input_names': ['input_ids', 'attention_mask'], 'model_max_length': 512,
               'tokenizer_class': 'PreTrainedTokenizerFast'}
        return t, cfg, "shared tiny llama's byte-level BPE, Llama 3 layout, no BOS (as Qwen2's)", \
            dict(bos_token_id=None, eos_token_id=3001, pad_token_id=3001)
    raise ValueError(kind)


# ------------------------------------------------------------------------------------------------------------------
# the fixtures

ENC, DEC = 'encoder', 'decoder'
BERT_FFN = ('encoder.layer.{i}.intermediate.dense', None, 'encoder.layer.{i}.output.dense')
LLAMA_FFN = ('layers.{i}.mlp.gate_proj', 'layers.{i}.mlp.up_proj', 'layers.{i}.mlp.down_proj')

FIXTURES = [
    dict(name='xlm-roberta', cls='XLMRobertaForMaskedLM', config='XLMRobertaConfig', kind=ENC, prefix='roberta',
         tok='sentencepiece', dtype='float32', ffn=BERT_FFN,
         cfg=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, intermediate_size=88, hidden_act='gelu',
                  max_position_embeddings=520, type_vocab_size=1, layer_norm_eps=1e-5, tie_word_embeddings=True),
         why='SentencePiece words on a BERT-like encoder; positions from input_ids offset by pad_token_id + 1 = 6'),
    dict(name='camembert', cls='CamembertForMaskedLM', config='CamembertConfig', kind=ENC, prefix='roberta',
         tok='roberta', dtype='bfloat16', ffn=BERT_FFN,
         cfg=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=176, hidden_act='gelu',
                  max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5, tie_word_embeddings=True),
         why='bfloat16 checkpoint of a RoBERTa-like encoder'),
    dict(name='electra', cls='ElectraForPreTraining', config='ElectraConfig', kind=ENC, prefix='electra',
         tok='bert', dtype='float16', ffn=BERT_FFN,
         cfg=dict(embedding_size=32, hidden_size=48, num_hidden_layers=3, num_attention_heads=4, intermediate_size=88,
                  hidden_act='gelu', max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12),
         why='embedding_size 32 != hidden_size 48: hidden state 0 is the projected embedding (embeddings_project)'),
    dict(name='gpt_neox', cls='GPTNeoXForCausalLM', config='GPTNeoXConfig', kind=DEC, prefix='gpt_neox',
         tok='gpt2', dtype='float16',
         ffn=('layers.{i}.mlp.dense_h_to_4h', None, 'layers.{i}.mlp.dense_4h_to_h'),
         cfg=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=176, hidden_act='gelu',
                  rotary_pct=0.25, rotary_emb_base=10000, use_parallel_residual=True, max_position_embeddings=512,
                  layer_norm_eps=1e-5, tie_word_embeddings=False),
         why='Pythia layout: parallel residual, partial rotary (0.25 of head_dim 16 = 4 dims), float16'),
    dict(name='gpt_neox-sequential', cls='GPTNeoXForCausalLM', config='GPTNeoXConfig', kind=DEC, prefix='gpt_neox',
         tok='gpt2', dtype='float32',
         ffn=('layers.{i}.mlp.dense_h_to_4h', None, 'layers.{i}.mlp.dense_4h_to_h'),
         cfg=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, intermediate_size=88, hidden_act='gelu',
                  rotary_pct=0.5, rotary_emb_base=10000, use_parallel_residual=False, max_position_embeddings=512,
                  layer_norm_eps=1e-5, tie_word_embeddings=True),
         why='sequential residual (use_parallel_residual false), rotary_pct 0.5 of head_dim 12 = 6 dims'),
    dict(name='opt', cls='OPTForCausalLM', config='OPTConfig', kind=DEC, prefix='model',
         tok='opt', dtype='float16', ffn=('decoder.layers.{i}.fc1', None, 'decoder.layers.{i}.fc2'),
         cfg=dict(hidden_size=48, word_embed_proj_dim=48, num_hidden_layers=2, num_attention_heads=4, ffn_dim=88,
                  activation_function='relu', do_layer_norm_before=True, max_position_embeddings=512,
                  tie_word_embeddings=True),
         why='learned positions offset by 2, </s> as BOS, ReLU MLP, float16'),
    dict(name='mistral', cls='MistralForCausalLM', config='MistralConfig', kind=DEC, prefix='model',
         tok='llama', dtype='bfloat16', ffn=LLAMA_FFN,
         cfg=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                  intermediate_size=176, hidden_act='silu', max_position_embeddings=512, sliding_window=4096,
                  rms_norm_eps=1e-5, tie_word_embeddings=False, rope_parameters={'rope_type': 'default', 'rope_theta': 10000.0}),
         why='GQA 4/2, SwiGLU, bfloat16 (sliding window 4096: longer than any sentence)'),
    dict(name='qwen2', cls='Qwen2ForCausalLM', config='Qwen2Config', kind=DEC, prefix='model',
         tok='llama-nobos', dtype='float16', ffn=LLAMA_FFN,
         cfg=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  intermediate_size=88, hidden_act='silu', max_position_embeddings=512, rms_norm_eps=1e-6,
                  tie_word_embeddings=True, use_sliding_window=False,
                  rope_parameters={'rope_type': 'default', 'rope_theta': 1000000.0}),
         why='q/k/v biases, GQA 4/2 with head_dim 12, no BOS, float16'),
    dict(name='qwen3', cls='Qwen3ForCausalLM', config='Qwen3Config', kind=DEC, prefix='model',
         tok='llama', dtype='float32', ffn=LLAMA_FFN,
         cfg=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                  intermediate_size=88, hidden_act='silu', max_position_embeddings=512, rms_norm_eps=1e-6,
                  tie_word_embeddings=True, use_sliding_window=False,
                  rope_parameters={'rope_type': 'default', 'rope_theta': 1000000.0}),
         why='q/k RMSNorm per head, head_dim 16 given explicitly (4 x 16 = 64 != hidden 48), GQA 4/2'),
    dict(name='gemma', cls='GemmaForCausalLM', config='GemmaConfig', kind=DEC, prefix='model',
         tok='llama', dtype='bfloat16', ffn=LLAMA_FFN,
         cfg=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1, head_dim=16,
                  intermediate_size=88, hidden_activation='gelu_pytorch_tanh', max_position_embeddings=512,
                  rms_norm_eps=1e-6, tie_word_embeddings=True,
                  rope_parameters={'rope_type': 'default', 'rope_theta': 10000.0}),
         why='GeGLU (tanh approximation), (1 + w) RMSNorm, embeddings scaled by sqrt(48), multi-query 4/1, bfloat16'),
    dict(name='gemma2', cls='Gemma2ForCausalLM', config='Gemma2Config', kind=DEC, prefix='model',
         tok='llama', dtype='float32', ffn=LLAMA_FFN,
         cfg=dict(hidden_size=48, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                  intermediate_size=88, hidden_activation='gelu_pytorch_tanh', max_position_embeddings=512,
                  rms_norm_eps=1e-6, tie_word_embeddings=True, query_pre_attn_scalar=24,
                  attn_logit_softcapping=4.0, final_logit_softcapping=30.0, sliding_window=512,
                  layer_types=['sliding_attention', 'full_attention', 'sliding_attention'],
                  rope_parameters={'rope_type': 'default', 'rope_theta': 10000.0}),
         why='pre/post attention and feed-forward norms, attention logit soft-capping at 4.0 (small so that it acts), '
             'query_pre_attn_scalar 24 != head_dim 16, sliding window 512 (longer than any sentence)'),
    dict(name='llama3-rope', cls='LlamaForCausalLM', config='LlamaConfig', kind=DEC, prefix='model',
         tok='llama', dtype='bfloat16', ffn=LLAMA_FFN,
         cfg=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=12,
                  intermediate_size=88, hidden_act='silu', max_position_embeddings=512, rms_norm_eps=1e-5,
                  tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
                  rope_parameters={'rope_type': 'llama3', 'rope_theta': 500000.0, 'factor': 8.0, 'low_freq_factor': 1.0,
                                   'high_freq_factor': 4.0, 'original_max_position_embeddings': 64}),
         why='Llama 3 rope scaling (factor 8, original 64 positions: every frequency band is hit), head_dim 12, bfloat16'),
]

DTYPES = {'float32': torch.float32, 'float16': torch.float16, 'bfloat16': torch.bfloat16}

# ------------------------------------------------------------------------------------------------------------------
# sentences


def conllu_blocks(path):
    blocks, cur = [], []
    for line in path.read_text(encoding='utf-8').split('\n'):
        if line.strip() == '':
            if cur:
                blocks.append(cur)
                cur = []
        else:
            cur.append(line)
    if cur:
        blocks.append(cur)
    return blocks


def block_words(block):
    words = []
    for line in block:
        if line.startswith('#'):
            continue
        cols = line.split('\t')
        if cols[0].isdigit():
            words.append(cols[1])
    return words


def block_meta(block, key):
    for line in block:
        if line.startswith(f'# {key} = '):
            return line[len(f'# {key} = '):]
    return None


# ------------------------------------------------------------------------------------------------------------------
# weights


def perturb(model, gen):
    """Non-trivial weights as shared tiny's: N(0, 0.2) noise on every norm weight and every bias, token embeddings N(0, 0.5)."""
    n = 0
    emb = model.get_input_embeddings().weight
    with torch.no_grad():
        emb.copy_(torch.randn(emb.shape, generator=gen) * EMBED_STD)
        seen = set()
        for mname, mod in model.named_modules():
            is_norm = 'norm' in type(mod).__name__.lower()
            for pname, p in mod.named_parameters(recurse=False):
                if id(p) in seen:
                    continue
                if pname == 'bias' or (is_norm and pname == 'weight'):
                    seen.add(id(p))
                    p.add_(torch.randn(p.shape, generator=gen) * NOISE_STD)
                    n += 1
    return n


def seed_of(name):
    return zlib.crc32(name.encode()) % 100_000_000


# ------------------------------------------------------------------------------------------------------------------
# node helpers (hdf5 writing, ONNX check)


def write_hdf5(path, arrays, keys_json):
    with tempfile.TemporaryDirectory() as td:
        raw = Path(td) / 'raw.f32'
        datasets, off = [], 0
        with open(raw, 'wb') as f:
            for i, a in enumerate(arrays):
                a = np.ascontiguousarray(a, dtype='<f4')
                f.write(a.tobytes())
                datasets.append({'name': str(i), 'shape': list(a.shape), 'offset': off})
                off += a.size
        man = Path(td) / 'manifest.json'
        man.write_text(json.dumps({'out': str(path), 'raw': str(raw), 'datasets': datasets, 'sentence_to_index': keys_json}))
        subprocess.run(['node', str(REPO / 'scripts' / 'write-neurox-hdf5.mjs'), str(man)], check=True, cwd=REPO)


ORT_SCRIPT = r"""
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const s = await ort.InferenceSession.create(job.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const feeds = {};
for (const [k, v] of Object.entries(job.feeds)) feeds[k] = new ort.Tensor('int64', BigInt64Array.from(v.data.map(BigInt)), v.shape);
const out = (await s.run(feeds)).last_hidden_state;
writeFileSync(job.out, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
"""


def run_onnx(model_path, feeds, shape):
    with tempfile.TemporaryDirectory() as td:
        script = Path(td) / 'ort.mjs'
        script.write_text(ORT_SCRIPT)
        out = Path(td) / 'out.f32'
        job = Path(td) / 'job.json'
        job.write_text(json.dumps({'model': str(model_path), 'out': str(out),
                                   'feeds': {k: {'data': v.reshape(-1).tolist(), 'shape': list(v.shape)} for k, v in feeds.items()}}))
        env = dict(os.environ, NODE_PATH=str(REPO / 'node_modules'))
        # resolve onnxruntime-node from the repo: run the script from inside it
        local = REPO / 'node_modules' / '.make-tiny-ort.mjs'
        shutil.copy(script, local)
        try:
            subprocess.run(['node', str(local), str(job)], check=True, cwd=REPO, env=env)
        finally:
            local.unlink()
        return np.fromfile(out, dtype='<f4').reshape(shape)


# ------------------------------------------------------------------------------------------------------------------


def pad_batch(encs, side, pad_id, decoder):
    n = max(len(e['input_ids']) for e in encs)
    feeds = {k: [] for k in encs[0]}
    for e in encs:
        m = len(e['input_ids'])
        for k in encs[0]:
            fill = pad_id if k == 'input_ids' else 0
            row = list(e[k])
            feeds[k].append(row + [fill] * (n - m) if side == 'right' else [fill] * (n - m) + row)
    feeds = {k: np.array(v, dtype=np.int64) for k, v in feeds.items()}
    if decoder:
        am = feeds['attention_mask']
        feeds['position_ids'] = np.where(am == 1, np.cumsum(am, axis=1) - 1, 0).astype(np.int64)
    return feeds


def make(fx):
    name = fx['name']
    out = OUT / name
    seed = seed_of(name)
    print(f'== {name} (seed {seed})', flush=True)
    if out.exists():
        shutil.rmtree(out)
    (out / 'onnx').mkdir(parents=True)
    (out / 'reference').mkdir()

    tok_json, tok_config, tok_desc, special_ids = tokenizer_files(fx['tok'])
    (out / 'tokenizer.json').write_text(json.dumps(tok_json, ensure_ascii=False, indent=2) + '\n', encoding='utf-8')
    (out / 'tokenizer_config.json').write_text(json.dumps(tok_config, indent=2) + '\n')
    # transformers 5 may run its own tokenizer class for the model_type (e.g. Qwen2Tokenizer: NFC, one digit per
    # piece, <|endoftext|> added) instead of tokenizer.json as written: keep the tokenizer it actually runs
    Config = getattr(T, fx['config'])
    (out / 'config.json').write_text(json.dumps({'model_type': Config.model_type}))
    tok0 = T.AutoTokenizer.from_pretrained(out)
    runs = json.loads(tok0.backend_tokenizer.to_str())
    runs['padding'], runs['truncation'] = None, None
    notes = []
    if runs != tok_json:
        (out / 'tokenizer.json').write_text(json.dumps(runs, ensure_ascii=False, indent=2) + '\n', encoding='utf-8')
        notes.append(f'tokenizer.json rewritten as transformers runs it ({type(tok0).__name__} for model_type {Config.model_type})')
        tok_desc += f'; as {type(tok0).__name__} rebuilds it'
    vocab = len(tok0)
    del tok0

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    cfg = Config(vocab_size=vocab, initializer_range=INIT_RANGE, **special_ids, **fx['cfg'])
    cfg.architectures = [fx['cls']]
    model = getattr(T, fx['cls'])(cfg).eval()
    perturbed = perturb(model, gen)
    dtype = DTYPES[fx['dtype']]
    model.to(dtype)
    model.config.dtype = dtype
    model.save_pretrained(out)

    tok = T.AutoTokenizer.from_pretrained(out)
    base = T.AutoModel.from_pretrained(out, dtype=torch.float32, attn_implementation='eager').eval()
    decoder = fx['kind'] == DEC
    L = base.config.num_hidden_layers
    pre_m, lin_m, post_m = fx['ffn']
    mods = dict(base.named_modules())
    caps = {'pre': [None] * L, 'lin': [None] * L, 'post': [None] * L}

    def flat(t):  # [1, seq, d], or [seq, d] where the module runs on flattened tokens (OPT)
        return t.detach().reshape(-1, t.shape[-1]).double().numpy()

    def out_hook(kind, i):
        return lambda m, a, o: caps[kind].__setitem__(i, flat(o))

    def in_hook(i):
        return lambda m, a: caps['post'].__setitem__(i, flat(a[0]))

    for i in range(L):
        mods[pre_m.format(i=i)].register_forward_hook(out_hook('pre', i))
        if lin_m:
            mods[lin_m.format(i=i)].register_forward_hook(out_hook('lin', i))
        mods[post_m.format(i=i)].register_forward_pre_hook(in_hook(i))

    # sentences
    blocks = conllu_blocks(SHARED_TINY / 'roberta' / 'reference' / 'sentences.conllu')
    chosen = [blocks[i] for i in SENTENCES]
    (out / 'reference' / 'sentences.conllu').write_text('\n\n'.join('\n'.join(b) for b in chosen) + '\n\n', encoding='utf-8')

    from tokenizers import Encoding, Tokenizer
    raw_tok = Tokenizer.from_file(str(out / 'tokenizer.json'))
    agg = {'first': [], 'last': [], 'average': []}
    ffn = {'post': [], 'pre': [], 'lin': []}
    sentences, keys, all_h, all_f = [], {}, [[] for _ in range(L + 1)], [[] for _ in range(L)]
    tok_ok = True
    encs = []
    last_equal = True
    for idx, b in enumerate(chosen):
        words = block_words(b)
        enc = tok(words, is_split_into_words=True, return_tensors='pt')
        wid = enc.word_ids()
        ids = enc['input_ids'][0].tolist()
        # the same ids from the tokenizers library: each word alone, no special tokens, concatenated, post-processed
        pieces = [raw_tok.encode(w, add_special_tokens=False) for w in words]
        cat = Encoding.merge(pieces, growing_offsets=True)
        post = raw_tok.post_process(cat, None, add_special_tokens=True)
        if post.ids != ids:
            tok_ok = False
        feeds = {k: v for k, v in enc.items()}
        encs.append({k: v[0].tolist() for k, v in enc.items()})
        with torch.no_grad():
            res = base(**feeds, output_hidden_states=True)
        hs = [h[0].double().numpy() for h in res.hidden_states]
        if not np.array_equal(hs[-1], res.last_hidden_state[0].double().numpy()):
            last_equal = False
        groups = [[t for t, w in enumerate(wid) if w == k] for k in range(len(words))]
        assert all(groups), f'{name}: a word without pieces in sentence {idx}'
        for a in agg:
            if a == 'first':
                sel = lambda x: np.stack([x[g[0]] for g in groups])
            elif a == 'last':
                sel = lambda x: np.stack([x[g[-1]] for g in groups])
            else:
                sel = lambda x: np.stack([x[g].mean(axis=0) for g in groups])
            agg[a].append(np.stack([sel(h) for h in hs]).astype(np.float32))
        for kind in ffn:
            if kind == 'lin' and not lin_m:
                continue
            ffn[kind].append(np.stack([caps[kind][i][[g[-1] for g in groups]] for i in range(L)]).astype(np.float32))
        for l in range(L + 1):
            all_h[l].append(hs[l])
        for l in range(L):
            all_f[l].append(caps['post'][l])
        key = ' '.join(words)
        k2, occ = key, 1
        while k2 in keys:
            occ += 1
            k2 = f'{key} (Occurrence {occ})'
        keys[k2] = str(idx)
        s = {'index': idx, 'sent_id': block_meta(b, 'sent_id'), 'source': 'en_ewt-ud-dev.conllu', 'key': k2, 'words': words,
             'input_ids': ids, 'word_ids': wid, 'tokens': enc.tokens()}
        if 'token_type_ids' in enc:
            s['token_type_ids'] = enc['token_type_ids'][0].tolist()
        s.update(num_tokens=len(ids), max_abs_hidden=float(max(np.abs(h).max() for h in hs)),
                 max_abs_ffn=float(max(np.abs(caps['post'][l]).max() for l in range(L))))
        sentences.append(s)

    keys_json = json.dumps(keys)
    files = {'first': 'reference/reference_first.hdf5', 'last': 'reference/reference_last.hdf5',
             'average': 'reference/reference_average.hdf5', 'ffn_last': 'reference/ffn_last.hdf5',
             'ffn_pre_last': 'reference/ffn_pre_last.hdf5'}
    for a in agg:
        write_hdf5(out / files[a], agg[a], keys_json)
    write_hdf5(out / files['ffn_last'], ffn['post'], keys_json)
    write_hdf5(out / files['ffn_pre_last'], ffn['pre'], keys_json)
    if lin_m:
        files['ffn_pre_linear_last'] = 'reference/ffn_pre_linear_last.hdf5'
        write_hdf5(out / files['ffn_pre_linear_last'], ffn['lin'], keys_json)
    files['conllu'] = 'reference/sentences.conllu'

    # ONNX: the bare model, one output
    input_names = ['input_ids', 'attention_mask'] + (['token_type_ids'] if 'token_type_ids' in encs[0] else []) + \
        (['position_ids'] if decoder else [])

    class Bare(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *args):
            kw = dict(zip(input_names, args))
            return self.m(**kw).last_hidden_state

    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    trace = pad_batch([encs[1], encs[0]], 'right', pad_id, decoder)
    torch.onnx.export(Bare(base), tuple(torch.from_numpy(trace[k]) for k in input_names), str(out / 'onnx' / 'model.onnx'),
                      input_names=input_names, output_names=['last_hidden_state'], opset_version=14, dynamo=False,
                      do_constant_folding=True,
                      dynamic_axes={**{k: {0: 'batch_size', 1: 'sequence_length'} for k in input_names},
                                    'last_hidden_state': {0: 'batch_size', 1: 'sequence_length'}})
    import onnx
    om = onnx.load(str(out / 'onnx' / 'model.onnx'))
    nodes = len(om.graph.node)
    del om

    # ONNX check with onnxruntime-node: every sentence alone, and a padded batch on both sides
    onnx_info = {'path': 'onnx/model.onnx', 'exporter': f'torch.onnx.export (TorchScript, dynamo=False), torch {torch.__version__}',
                 'attention': 'eager', 'opset': 14, 'inputs': input_names, 'outputs': ['last_hidden_state'], 'nodes': nodes,
                 'dynamic_axes': {'batch_size': 0, 'sequence_length': 1}}
    worst = 0.0
    for idx, e in enumerate(encs):
        f = pad_batch([e], 'right', pad_id, decoder)
        got = run_onnx(out / 'onnx' / 'model.onnx', {k: f[k] for k in input_names}, (1, len(e['input_ids']), base.config.hidden_size))
        worst = max(worst, float(np.abs(got[0] - all_h[-1][idx]).max()))
    onnx_info['max_abs_diff_tokens_vs_torch'] = worst
    batch_ids = [5, 0, 1, 2]
    for side in ('right', 'left'):
        f = pad_batch([encs[i] for i in batch_ids], side, pad_id, decoder)
        n = f['input_ids'].shape[1]
        got = run_onnx(out / 'onnx' / 'model.onnx', {k: f[k] for k in input_names}, (len(batch_ids), n, base.config.hidden_size))
        d = 0.0
        for r, i in enumerate(batch_ids):
            m = len(encs[i]['input_ids'])
            rows = got[r, :m] if side == 'right' else got[r, n - m:]
            d = max(d, float(np.abs(rows - all_h[-1][i]).max()))
        onnx_info[f'padded_{side}_vs_unpadded_max_abs_diff'] = d
    onnx_info['padded_batch_sentences'] = batch_ids
    if decoder:
        onnx_info['position_ids'] = 'int64 [batch, seq]: cumsum(attention_mask) - 1, 0 at padding'
    onnx_ok = worst <= 2e-5 and onnx_info['padded_right_vs_unpadded_max_abs_diff'] <= 2e-5

    # default attention vs eager, for the record
    dflt = T.AutoModel.from_pretrained(out, dtype=torch.float32).eval()
    with torch.no_grad():
        e0 = {k: torch.tensor([v]) for k, v in encs[5].items()}
        d_attn = float(np.abs(dflt(**e0).last_hidden_state[0].double().numpy() - all_h[-1][5]).max())
    del dflt

    st_files = sorted(p.name for p in out.glob('*.safetensors'))
    from safetensors import safe_open
    st_dtypes = {}
    for p in st_files:
        with safe_open(str(out / p), 'pt') as f:
            for k in f.keys():
                dt = str(f.get_slice(k).get_dtype())
                st_dtypes[dt] = st_dtypes.get(dt, 0) + 1
    c = base.config
    ffn_info = {'module': post_m, 'checkpoint_module': f"{fx['prefix']}.{post_m}",
                'captured': 'input of this module (forward pre-hook) = MLP activations after the nonlinearity' +
                            (' (act(gate) * up)' if lin_m else ''),
                'pre_module': pre_m, 'pre_captured': 'output of this module (forward hook) = MLP pre-activation' +
                                                      (' (the gate)' if lin_m else ''),
                'aggregation': 'last piece', 'shape': '[num_layers, num_words, intermediate]'}
    if lin_m:
        ffn_info.update(pre_linear_module=lin_m, pre_linear_captured='output of this module (forward hook) = the up projection')
    ref = {
        'fixture': name, 'generator': 'scripts/make-tiny-fixtures.py', 'seed': seed, 'why': fx['why'],
        'versions': {'transformers': T.__version__, 'torch': torch.__version__, 'numpy': np.__version__,
                     'tokenizers': __import__('tokenizers').__version__, 'onnx': onnx.__version__,
                     'safetensors': __import__('safetensors').__version__, 'python': sys.version.split()[0]},
        'model_type': c.model_type, 'architectures': [fx['cls']], 'base_model_class': type(base).__name__,
        'checkpoint_prefix': fx['prefix'], 'checkpoint_dtype': fx['dtype'], 'safetensors_dtypes': st_dtypes,
        'reference_dtype': 'float32', 'reference_upcast': fx['dtype'] != 'float32', 'sharded': False,
        'weight_files': st_files, 'num_layers': L, 'num_hidden_states': L + 1, 'hidden_size': c.hidden_size,
        'intermediate_size': getattr(c, 'intermediate_size', None) or getattr(c, 'ffn_dim', None),
        'num_attention_heads': c.num_attention_heads, 'num_key_value_heads': getattr(c, 'num_key_value_heads', None),
        'head_dim': getattr(c, 'head_dim', None), 'vocab_size': c.vocab_size,
        'tokenizer_class': tok_config['tokenizer_class'], 'tokenizer_python_class': type(tok).__name__, 'tokenizer': tok_desc,
        'tokenizer_model_input_names': list(tok.model_input_names), 'padding_side': tok.padding_side,
        'special_tokens': {k: v for k, v in tok.special_tokens_map.items() if isinstance(v, str)},
        'hidden_states': 'tuple(transformers output_hidden_states): [embeddings output] + one per layer; the last entry is '
                         'what transformers returns (for pre-norm decoders it has the final norm applied)',
        'last_hidden_state_equals_last_hidden_states_entry': last_equal,
        'ffn': ffn_info,
        'alignment': "tokenizer(words, is_split_into_words=True, return_tensors='pt').word_ids(); special tokens (word id None) "
                     'dropped; one sentence per forward pass, no padding',
        'aggregations': {'first': 'first piece', 'last': 'last piece',
                         'average': "mean over the word's pieces (accumulated in float64, stored float32)"},
        'hidden_state_std': [float(np.concatenate(h).std()) for h in all_h],
        'ffn_std': [float(np.concatenate(f).std()) for f in all_f],
        'init': {'initializer_range': INIT_RANGE, 'norm_and_bias_noise_std': NOISE_STD, 'input_embedding_std': EMBED_STD,
                 'perturbed_tensors': perturbed},
        'tolerance': TOL, 'onnx': onnx_info, 'notes': notes, 'files': files,
        'self_check': {'tokenization_matches_all_sentences': tok_ok, 'hdf5_sentence_to_index_entries': len(keys),
                       'reference_attention': 'eager', 'eager_vs_default_max_abs_diff_sentence_5': d_attn,
                       'onnx_ok': onnx_ok, 'ok': tok_ok and onnx_ok and last_equal},
        'sentences': sentences,
    }
    (out / 'reference' / 'reference.json').write_text(json.dumps(ref, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    size = sum(p.stat().st_size for p in out.rglob('*') if p.is_file())
    print(f'   {name}: {size / 1e6:.2f} MB, tokens ok {tok_ok}, onnx {worst:.2e}, '
          f"padded right {onnx_info['padded_right_vs_unpadded_max_abs_diff']:.2e} left {onnx_info['padded_left_vs_unpadded_max_abs_diff']:.2e}, "
          f'last==entry {last_equal}, eager vs default {d_attn:.2e}', flush=True)
    return ref


if __name__ == '__main__':
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    bad = []
    for fx in FIXTURES:
        if ONLY and fx['name'] not in ONLY:
            continue
        r = make(fx)
        if not r['self_check']['ok']:
            bad.append(fx['name'])
    if bad:
        print('self-check failed:', bad)
        sys.exit(1)
