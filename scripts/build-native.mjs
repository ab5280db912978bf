#!/usr/bin/env node
/**
 * `npm ci` / `npm install` step: build the optional native kernels (native/qgemm.cc → build/Release/
 * neuroprobe_native.node) with node-gyp, the builder bundled with npm. They are optional: without a C++ compiler,
 * or when the build fails, this prints a warning and succeeds, and the probe passes run on ONNX Runtime instead
 * (the same results, more slowly). NEUROPROBE_SKIP_NATIVE=1 skips the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

if (process.env.NEUROPROBE_SKIP_NATIVE === '1') {
  console.log('neuroprobe: NEUROPROBE_SKIP_NATIVE=1, native kernels not built (ONNX Runtime is used instead)');
  process.exit(0);
}

/** node-gyp's entry point: the one npm names for its scripts, else npm's bundled copy, else an installed one. */
function nodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package
  }
  return candidates.find((c) => existsSync(c));
}

const gyp = nodeGyp();
if (!gyp) {
  console.warn('neuroprobe: node-gyp not found; native kernels not built (ONNX Runtime is used instead)');
  process.exit(0);
}
// headers: npm passes its nodedir setting as npm_config_nodedir; outside npm, the headers installed with Node
const args = [gyp, 'rebuild'];
const nodedir = process.env.npm_config_nodedir ?? (existsSync(join(dirname(process.execPath), '..', 'include', 'node', 'node_api.h')) ? join(dirname(process.execPath), '..') : undefined);
if (nodedir) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status === 0) {
  console.log('neuroprobe: native kernels built (build/Release/neuroprobe_native.node)');
} else {
  const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
  console.warn(`neuroprobe: native kernels not built (ONNX Runtime is used instead):\n${tail}`);
}
