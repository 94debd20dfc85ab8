// Jest runs on the Node major Lambda runs, like everything else here (Makefile NODE_VERSION). Under
// `make` it is .cache/node/bin/node; `npx jest` from a shell with another major stops here with
// one line saying how, instead of every SDK test failing on the SDK's NodeVersionSupportWarning.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

module.exports = async () => {
  const root = join(__dirname, '..', '..');
  const wanted = /^NODE_VERSION := (\d+)\./m.exec(readFileSync(join(root, 'Makefile'), 'utf8'))?.[1];
  const running = process.versions.node.split('.')[0];
  if (running !== wanted)
    throw new Error(
      `the tests run on Node.js ${wanted} (Lambda's major), this is ${process.version}: run them through make, or \`make node\` and export PATH="${join(root, '.cache', 'node', 'bin')}:$PATH"`,
    );
};
