import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The CI dependency audit (scripts/audit-prod.ts) against a loopback server that speaks the
 * registry's bulk advisory protocol (POST /-/npm/v1/security/advisories/bulk, `{ name: [versions] }`
 * in, `{ name: [advisory] }` out): the registry this workplace reaches answers 405 there, so the
 * failing and passing paths can only be exercised this way. The script runs as CI runs it.
 */

const root = join(import.meta.dirname, '..', '..');
let server: Server;
let registry: string;
let answer: { status: number; body: unknown } = { status: 200, body: {} };
let received: Record<string, string[]> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/-/npm/v1/security/advisories/bulk')
        received = JSON.parse(text);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  registry = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function audit(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts', 'audit-prod.ts'), '--registry', registry],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('dependency audit (scripts/audit-prod.ts)', () => {
  it('sends every production package with its installed versions, and fails on a high advisory', async () => {
    answer = {
      status: 200,
      body: {
        fastify: [
          {
            id: 1,
            title: 'request smuggling',
            severity: 'high',
            url: 'https://example.invalid/1',
            vulnerable_versions: '<99',
          },
        ],
        zod: [
          {
            id: 2,
            title: 'slow regex',
            severity: 'moderate',
            url: 'https://example.invalid/2',
            vulnerable_versions: '<99',
          },
        ],
      },
    };
    const { code, output } = await audit();
    expect(code, output).toBe(1);
    expect(output).toMatch(/high\s+fastify@5\.6\.1/);
    expect(output).toContain('1 high or critical');
    // What the services run on, with the lockfile's versions; test tooling and workspace links are not deployed.
    expect(received.fastify).toEqual(['5.6.1']);
    expect(received.pg).toContain('8.16.3');
    expect(received.vitest).toBeUndefined();
    expect(received['playwright-core']).toBeUndefined();
    expect(Object.keys(received).some((name) => name.startsWith('@fundtrace/'))).toBe(false);
  });

  it('passes with only moderate advisories, listing them', async () => {
    answer = {
      status: 200,
      body: { zod: [{ id: 2, title: 'slow regex', severity: 'moderate', vulnerable_versions: '<99' }] },
    };
    const { code, output } = await audit();
    expect(code, output).toBe(0);
    expect(output).toContain('moderate');
    expect(output).toContain('0 high or critical');
  });

  it('says plainly that it did not run when the advisory endpoint refuses, and does not block the build', async () => {
    answer = { status: 405, body: { error: 'Method Not Allowed' } };
    const { code, output } = await audit();
    expect(code, output).toBe(0);
    expect(output).toMatch(/DEPENDENCY AUDIT DID NOT RUN: .* answered 405/);
    expect(output).toMatch(/\d+ production packages .* were NOT checked/);
  });
});
