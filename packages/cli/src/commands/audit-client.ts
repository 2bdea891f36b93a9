import { writeFileSync } from 'node:fs';
import { bearerToken, serviceUrl } from '../context';
import { ApiError, callApi, requestTimeoutMs, unreachable } from '../http';

/** Where the trace, findings and rules commands reach audit-api, as an inspector. */
export interface AuditTarget {
  readonly url?: string | undefined;
  readonly token?: string | undefined;
}

export function auditCall<T>(target: AuditTarget, path: string, body?: unknown): Promise<T> {
  return callApi<T>({
    baseUrl: serviceUrl('audit-api', target.url),
    path,
    token: bearerToken('inspector', target.token),
    ...(body === undefined ? {} : { body }),
  });
}

/** Downloads a non-JSON answer (SVG, CSV, XLSX) to a file. */
export async function auditDownload(target: AuditTarget, path: string, file: string): Promise<number> {
  const baseUrl = serviceUrl('audit-api', target.url);
  const response = await fetch(`${baseUrl}${path}`, {
    headers: { authorization: `Bearer ${bearerToken('inspector', target.token)}` },
    signal: AbortSignal.timeout(requestTimeoutMs),
  }).catch((error: unknown) => {
    throw new ApiError(0, 'unreachable', unreachable(baseUrl, error), null);
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  if (!response.ok) {
    const parsed = (() => {
      try {
        return JSON.parse(bytes.toString('utf8')) as {
          error?: { code?: string; message?: string; details?: unknown };
        };
      } catch {
        return {};
      }
    })();
    throw new ApiError(
      response.status,
      parsed.error?.code ?? `http_${response.status}`,
      parsed.error?.message ?? response.statusText,
      parsed.error?.details ?? null,
    );
  }
  writeFileSync(file, bytes);
  return bytes.length;
}

/** 元 from a string of fen digits, for people (the API carries fen). */
export function yuanText(fen: string): string {
  const negative = fen.startsWith('-');
  const digits = (negative ? fen.slice(1) : fen).padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${digits.slice(-2)}`;
}
