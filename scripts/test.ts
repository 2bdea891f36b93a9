// `npm test`: finds (or starts) PostgreSQL and NATS, makes sure the browser the
// end-to-end tests drive is installed, then runs the whole vitest suite against them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { discoverInfrastructure } from '@fundtrace/devstack';

const root = join(import.meta.dirname, '..');
const chromium = '/usr/bin/chromium';

function ensureChromium(): void {
  const cjkFonts = '/usr/share/fonts/opentype/noto';
  if ((existsSync(chromium) && existsSync(cjkFonts)) || process.env.FUNDTRACE_SKIP_BROWSER_INSTALL) return;
  if (process.getuid?.() !== 0) {
    console.log(
      `${chromium} is missing and we are not root: install it with "sudo apt-get install -y chromium".`,
    );
    return;
  }
  console.log(
    'installing Debian chromium and CJK fonts for the browser tests (apt-get install -y chromium fonts-noto-cjk)',
  );
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', '-qq', 'chromium', 'fonts-noto-cjk'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

const infra = await discoverInfrastructure({
  dataDir: join(root, '.data', 'test'),
  startIfMissing: true,
  log: (line) => console.log(line),
});
for (const note of infra.notes) console.log(note);
ensureChromium();

const vitest = spawn(
  process.execPath,
  [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, DATABASE_URL: infra.databaseServerUrl, NATS_URL: infra.natsUrl },
  },
);
const stopAll = () => vitest.kill('SIGTERM');
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
const code: number = await new Promise((resolve) => vitest.on('exit', (c) => resolve(c ?? 1)));
await infra.stop();
process.exit(code);
