/**
 * Layers written in the node pattern ONNX Runtime's graph optimizer fuses into one kernel: RMSNorm as
 * `Pow(x, 2) → ReduceMean → Add(eps) → Sqrt → Div → Mul(w)` (fused to SimplifiedLayerNormalization) and the tanh GELU
 * as `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·Pow(x, 3))))` (fused to FastGelu), as in PyTorch's ONNX exports. The values
 * are those of {@link GraphBuilder.rmsNorm} / {@link GraphBuilder.activation} (`x·x` and `x·x·x` there, which the
 * optimizer does not match). Measured on this 2-core machine (noisy), bare session runs over 800 EWT dev sentences
 * against the model's own PyTorch ONNX export in the same run: tiny gpt2 0.81× the export's tokens/s before, 0.93-0.96×
 * after; tiny llama 0.97× before, 0.98× after.
 */
import type { Tensor } from '../checkpoint.js';
import type { GraphBuilder } from '../graph.js';

/** RMSNorm `x / √(mean(x²) + eps) · (offset + w)` over the last axis. */
export function rmsNorm(g: GraphBuilder, x: string, name: string, w: Tensor, eps: number, offset = 0): string {
  const ms = g.op('ReduceMean', [g.op('Pow', [x, g.f32([2], [])])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
  const y = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.f32([eps], [])])])]);
  const scale = offset ? { data: w.data.map((v) => v + offset), shape: w.shape } : w;
  return g.op('Mul', [y, g.weight(`${name}.weight${offset ? `+${offset}` : ''}`, scale)]);
}

const TANH_GELU = new Set(['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'gelu_tanh']);

/** `g.activation(x, act)`, with the tanh GELU in the fusable pattern. */
export function activation(g: GraphBuilder, x: string, act: string): string {
  if (!TANH_GELU.has(act)) return g.activation(x, act);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [g.op('Pow', [x, g.f32([3], [])]), g.f32([0.044715], [])])]), g.f32([Math.sqrt(2 / Math.PI)], [])]);
  return g.op('Mul', [g.op('Mul', [x, g.f32([0.5], [])]), g.op('Add', [g.op('Tanh', [inner]), g.f32([1], [])])]);
}
