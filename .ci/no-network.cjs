// CI guard, preloaded with NODE_OPTIONS=--require during installs: if onnxruntime-node's install script (run with
// its package folder as the working directory) tries the network, fail loudly instead of waiting on DNS. Every
// other process (npm itself, node-gyp, our own scripts) is left alone.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const inOrt = process.cwd().split(path.sep).join('/').includes('node_modules/onnxruntime-node');
if (inOrt) {
  const marker = process.env.NEUROPROBE_CI_NETWORK_MARKER;
  const refuse = (what) => {
    const msg =
      `\n*** neuroprobe CI: onnxruntime-node's install script tried the network (${what}).\n` +
      `*** The project .npmrc (onnxruntime-node-install=skip) is no longer honoured by this npm/onnxruntime-node;\n` +
      `*** set ONNXRUNTIME_NODE_INSTALL=skip (README, Troubleshooting) and fix the .npmrc.\n`;
    process.stderr.write(msg);
    if (marker) fs.appendFileSync(marker, `${what} (cwd ${process.cwd()})\n`);
    throw new Error(`network access from onnxruntime-node's install script: ${what}`);
  };
  const dns = require('node:dns');
  for (const k of ['lookup', 'resolve', 'resolve4', 'resolve6']) dns[k] = () => refuse(`dns.${k}`);
  dns.promises.lookup = async () => refuse('dns.promises.lookup');
  const net = require('node:net');
  net.Socket.prototype.connect = function () {
    refuse('net.Socket.connect');
  };
  for (const mod of ['node:http', 'node:https']) {
    const m = require(mod);
    m.request = () => refuse(`${mod}.request`);
    m.get = () => refuse(`${mod}.get`);
  }
  globalThis.fetch = async (url) => refuse(`fetch ${String(url)}`);
}
