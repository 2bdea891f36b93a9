import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where the CLI finds services and credentials: flags first, then environment
 * variables, then `.data/endpoints.json` written by `npm start`.
 */
export interface Endpoints {
  services: Record<string, string>;
  tokens: Record<string, string>;
}

const workspaceRoot = resolve(import.meta.dirname, '..', '..', '..');

/** Where `npm start` keeps its state: FUNDTRACE_DATA_DIR, as for `npm start`, else `.data/`. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FUNDTRACE_DATA_DIR ? resolve(env.FUNDTRACE_DATA_DIR) : join(workspaceRoot, '.data');
}

export function endpointsPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FUNDTRACE_ENDPOINTS ?? join(dataDir(env), 'endpoints.json');
}

export function loadEndpoints(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const path = endpointsPath(env);
  if (!existsSync(path)) return { services: {}, tokens: {} };
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Endpoints>;
  return { services: parsed.services ?? {}, tokens: parsed.tokens ?? {} };
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** The base URL of a service: `--url`, then `<SERVICE>_URL`, then endpoints.json. */
export function serviceUrl(service: string, override?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[`${service.toUpperCase().replaceAll('-', '_')}_URL`];
  const url = override ?? fromEnv ?? loadEndpoints(env).services[service];
  if (!url) {
    throw new UsageError(
      `不知道 ${service} 在哪里运行：请用 --url 指定，或设置 ${service.toUpperCase().replaceAll('-', '_')}_URL，或先运行 npm start（它会写入 ${endpointsPath(env)}）。`,
    );
  }
  return url.replace(/\/+$/, '');
}

/** A bearer token: `--token`, then FUNDTRACE_TOKEN, then the demo token of `role` from endpoints.json. */
export function bearerToken(role: string, override?: string, env: NodeJS.ProcessEnv = process.env): string {
  const token = override ?? env.FUNDTRACE_TOKEN ?? loadEndpoints(env).tokens[role];
  if (!token) {
    throw new UsageError(
      `没有令牌：请用 --token 指定，或设置 FUNDTRACE_TOKEN，或先运行 npm start 取得演示令牌（${role}）。`,
    );
  }
  return token;
}
