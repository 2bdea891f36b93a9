import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDir, endpointsPath } from '../src/context';

// `npm start` with FUNDTRACE_DATA_DIR writes endpoints.json and secrets.json there; the CLI must look
// in the same place, or it calls the services with another stack's tokens.
const root = resolve(import.meta.dirname, '..', '..', '..');

describe('where the CLI finds npm start’s state', () => {
  it('defaults to .data/ in the workspace', () => {
    expect(dataDir({})).toBe(join(root, '.data'));
    expect(endpointsPath({})).toBe(join(root, '.data', 'endpoints.json'));
  });

  it('follows FUNDTRACE_DATA_DIR, resolved like npm start resolves it', () => {
    expect(dataDir({ FUNDTRACE_DATA_DIR: '/tmp/stack-2' })).toBe('/tmp/stack-2');
    expect(endpointsPath({ FUNDTRACE_DATA_DIR: 'rel/dir' })).toBe(join(resolve('rel/dir'), 'endpoints.json'));
  });

  it('lets FUNDTRACE_ENDPOINTS name the file itself', () => {
    expect(endpointsPath({ FUNDTRACE_DATA_DIR: '/tmp/stack-2', FUNDTRACE_ENDPOINTS: '/etc/e.json' })).toBe(
      '/etc/e.json',
    );
  });
});
