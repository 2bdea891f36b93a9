#!/usr/bin/env node
// First step of `npm start` and `npm test` on any machine: make sure pnpm and the
// workspace's dependencies are there. Plain Node.js, no dependencies, because
// nothing is installed yet when it runs.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pnpmVersion = '12.21.0';
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`fundtrace needs Node.js 20 or newer; this is ${process.version}.`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  return result.status === 0;
}

function has(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

if (!has('pnpm')) {
  console.log(`pnpm not found: installing pnpm@${pnpmVersion} with npm`);
  if (!run('npm', ['install', '--global', `pnpm@${pnpmVersion}`]) || !has('pnpm')) {
    console.error(
      `Could not install pnpm. Install it yourself (npm install -g pnpm@${pnpmVersion}) and run again.`,
    );
    process.exit(1);
  }
}

// Install when node_modules is missing or older than the lockfile.
const marker = join(root, 'node_modules', '.modules.yaml');
const lock = join(root, 'pnpm-lock.yaml');
const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  console.log('installing dependencies (pnpm install --frozen-lockfile)');
  if (!run('pnpm', ['install', '--frozen-lockfile'])) {
    // A lockfile that disagrees with a package.json is a mistake to fix, but not a
    // reason to leave a machine without dependencies: say so loudly and resolve again.
    console.error(
      'pnpm-lock.yaml does not match the package.json files; resolving again (commit the updated lockfile).',
    );
    if (!run('pnpm', ['install', '--no-frozen-lockfile'])) {
      console.error('pnpm install failed; see the messages above.');
      process.exit(1);
    }
  }
}
