import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterSites, parseSitePatterns, siteOrder, sortSites } from './sites.js';
import { InputError } from '../util/errors.js';

const L = 3;
const names = ['embeddings'];
for (let l = 0; l < L; l++) names.push(`blocks.${l}.hook_resid_post`, `blocks.${l}.mlp.hook_pre`, `blocks.${l}.mlp.hook_pre_linear`, `blocks.${l}.mlp.hook_post`);
const sites = names.map((name) => ({ name }));

test('filterSites: names and globs, each site once, in layer order (MLP sites of block l before its resid_post)', () => {
  assert.deepEqual(filterSites(sites, ['blocks.*.mlp.hook_post']).map((s) => s.name), ['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post', 'blocks.2.mlp.hook_post']);
  assert.deepEqual(
    filterSites(sites, ['blocks.2.hook_resid_post', 'embeddings', 'blocks.1.mlp.hook_pre*', 'blocks.1.mlp.hook_pre']).map((s) => s.name),
    ['embeddings', 'blocks.1.mlp.hook_pre', 'blocks.1.mlp.hook_pre_linear', 'blocks.2.hook_resid_post'],
  );
  assert.equal(filterSites(sites, ['*']).length, sites.length);
  assert.deepEqual(filterSites(sites, ['blocks.?.hook_resid_post']).map((s) => s.name), ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post']);
  // the dot is literal, not a regex wildcard
  assert.throws(() => filterSites(sites, ['blocks.0xhook_resid_post']), InputError);
});

test('filterSites: a pattern that selects nothing is an InputError naming it; accepted extras are skipped', () => {
  assert.throws(() => filterSites(sites, ['blocks.9.*']), (e: unknown) => e instanceof InputError && /blocks\.9\.\*/.test(e.message));
  assert.deepEqual(filterSites(sites, ['/raw/tensor', 'embeddings'], { extra: (p) => p.startsWith('/') }).map((s) => s.name), ['embeddings']);
  assert.throws(() => filterSites(sites, ['/raw/*'], { extra: () => true }), InputError); // globs must match sites
});

test('site order and --sites parsing', () => {
  assert.deepEqual(siteOrder('blocks.10.mlp.hook_post'), [10, 2]);
  assert.equal(siteOrder('something.else'), null);
  assert.deepEqual(sortSites([{ name: 'x' }, { name: 'blocks.1.hook_resid_post' }, { name: 'embeddings' }]).map((s) => s.name), ['embeddings', 'blocks.1.hook_resid_post', 'x']);
  assert.deepEqual(parseSitePatterns(" blocks.*.mlp.hook_post, embeddings ,,"), ['blocks.*.mlp.hook_post', 'embeddings']);
});
