#!/usr/bin/env node
/**
 * CI packaging check (after `npm ci` and `npm test`): the packed tarball installs and runs outside the repository.
 *
 * 1. `npm pack` (dist/ is already built by `npm ci`); print its size and file count; fail if it carries tests,
 *    fixtures or TypeScript sources.
 * 2. Install it into an empty folder offline. npm's cache holds the tarballs `npm ci` fetched but not the registry's
 *    package documents, so the folder gets a lockfile made from the repository's (production entries only), as an
 *    app that depends on neuroprobe would have; its .npmrc skips onnxruntime-node's GPU download as the README tells
 *    users, and the network guard (.ci/no-network.cjs) fails the step if that install script tries the network.
 * 3. From there: `npx neuroprobe --help`, a small `extract` on the embedded model, and a three-line TypeScript
 *    consumer (`import { ... } from 'neuroprobe'`) compiled with the repository's tsc and run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(new URL('..', import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), 'neuroprobe-pack-'));
const app = join(work, 'app');
const marker = join(work, 'network-attempts.txt');
const guard = `--require ${join(repo, '.ci', 'no-network.cjs')}`;

function run(cmd, args, opts = {}) {
  console.log(`pack-check: $ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return r.stdout ?? '';
}

function fail(msg) {
  console.error(`pack-check: FAIL: ${msg}`);
  process.exit(1);
}

try {
  // 1. the tarball
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repo, capture: true }))[0];
  const tgz = join(work, packed.filename);
  console.log(`pack-check: ${packed.filename}: ${(statSync(tgz).size / 1e6).toFixed(1)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${packed.entryCount} files`);
  const stray = packed.files.map((f) => f.path).filter((p) => /\.test\.|(^|\/)fixtures\/|\.map$/.test(p) || (p.endsWith('.ts') && !p.endsWith('.d.ts')));
  if (stray.length) fail(`the tarball carries tests, fixtures or sources: ${stray.slice(0, 10).join(', ')}${stray.length > 10 ? ' …' : ''}`);
  for (const need of ['bin/neuroprobe.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'assets/models/bert-mini-en/onnx/model.onnx', 'native/qgemm.cc', 'binding.gyp', 'scripts/build-native.mjs']) {
    if (!packed.files.some((f) => f.path === need)) fail(`the tarball lacks ${need}`);
  }

  // 2. an empty folder that depends on the tarball, installed offline
  mkdirSync(app);
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const spec = `file:../${packed.filename}`;
  const packages = {
    '': { name: 'pack-check', version: '1.0.0', dependencies: { neuroprobe: spec } },
    'node_modules/neuroprobe': { version: pkg.version, resolved: spec, license: pkg.license, hasInstallScript: true, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [k, v] of Object.entries(lock.packages)) {
    if (!k.startsWith('node_modules/') || v.dev) continue;
    // entries without "resolved": the registry's tarball URL (npm finds the tarball in its cache by integrity)
    const name = v.name ?? k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages[k] = v.resolved || v.link ? v : { ...v, resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${v.version}.tgz` };
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', version: '1.0.0', private: true, type: 'module', dependencies: { neuroprobe: spec } }, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'pack-check', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
  writeFileSync(join(app, '.npmrc'), 'onnxruntime-node-install=skip\n');
  const env = { ...process.env, NEUROPROBE_CI_NETWORK_MARKER: marker, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${guard}`.trim() };
  run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app, env });
  if (existsSync(marker)) fail(`onnxruntime-node's install script tried the network:\n${readFileSync(marker, 'utf8')}`);

  // 3. the installed package runs, and its types resolve
  const help = run('npx', ['--offline', 'neuroprobe', '--help'], { cwd: app, capture: true });
  if (!/Usage: neuroprobe/.test(help)) fail(`neuroprobe --help printed no usage:\n${help}`);
  writeFileSync(join(app, 'corpus.txt'), 'the cat sat on the mat\na dog barked .\n');
  const model = join('node_modules', 'neuroprobe', 'assets', 'models', 'bert-mini-en');
  const ex = JSON.parse(run('npx', ['--offline', 'neuroprobe', 'extract', '--model', model, '--corpus', 'corpus.txt', '--out', 'acts.hdf5', '--json'], { cwd: app, capture: true }));
  if (ex.words !== 10 || ex.sentences !== 2) fail(`extract wrote ${ex.sentences} sentences, ${ex.words} words (expected 2 and 10)`);
  writeFileSync(
    join(app, 'consumer.ts'),
    "import { openActivations, type ActivationMeta } from 'neuroprobe';\n" +
      "const opened = await openActivations('acts.hdf5');\n" +
      'const meta: ActivationMeta = opened.meta;\n' +
      'console.log(`consumer: ${meta.layers.length} layers, ${opened.source.rows} words`);\n' +
      'opened.close();\n',
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: [] }, files: ['consumer.ts'] }),
  );
  run(join(repo, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: app });
  const out = run(process.execPath, ['consumer.js'], { cwd: app, capture: true });
  if (!/consumer: \d+ layers, 10 words/.test(out)) fail(`the TypeScript consumer printed: ${out}`);
  console.log(out.trim());
  console.log('pack-check: OK (installed offline, --help, extract and a TypeScript consumer ran from the tarball)');
} finally {
  rmSync(work, { recursive: true, force: true });
}
