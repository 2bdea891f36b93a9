/** A small JSON client for the services' HTTP APIs, with their error shape made readable. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

/** A command waits this long for a service before giving up (a 50,000-row roster takes seconds). */
export const requestTimeoutMs = 300_000;

export async function callApi<T>(options: {
  baseUrl: string;
  path: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  token?: string;
  body?: unknown;
  timeoutMs?: number;
}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${options.baseUrl}${options.path}`, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? requestTimeoutMs),
    });
  } catch (error) {
    throw new ApiError(0, 'unreachable', unreachable(options.baseUrl, error), null);
  }
  const text = await response.text();
  const payload = text ? safeJson(text) : null;
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string; details?: unknown } } | null)
      ?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? (text.slice(0, 500) || response.statusText),
      error?.details ?? null,
    );
  }
  return payload as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A service that did not answer: where, and the system's reason (kept as it is, for whoever helps). */
export function unreachable(baseUrl: string, error: unknown): string {
  return `无法连接 ${baseUrl}：${(error as Error).message}`;
}

/**
 * Renders an API error for a person: the service's message (Chinese for ledger-api's and
 * registry-api's refusals, 0131) with its code after it, as the imports print refusals, and each
 * detail on its own line by row (0135).
 */
export function describeApiError(error: ApiError): string {
  const lines = [`${error.message}（${error.code}）`];
  const details = error.details as {
    issues?: Array<{ path?: unknown; message?: string; row?: number }>;
  } | null;
  if (details && Array.isArray(details.issues)) {
    for (const issue of details.issues.slice(0, 50)) {
      const where = issue.row !== undefined ? `第 ${issue.row} 行` : JSON.stringify(issue.path ?? '');
      lines.push(`  - ${where}：${issue.message}`);
    }
    if (details.issues.length > 50) lines.push(`  …… 另有 ${details.issues.length - 50} 处`);
  } else if (details) {
    lines.push(`  ${JSON.stringify(details)}`);
  }
  return lines.join('\n');
}
