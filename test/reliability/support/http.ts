import { request } from 'node:http';

/** Bodies above this are sent after a pause for an early refusal (every default body limit is 1 MiB). */
const earlyAnswerBytes = 1_048_576;
const earlyAnswerWaitMs = 1_000;

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/**
 * One HTTP request on its own connection (no keep-alive), for hostile input. Unlike fetch it reads
 * the server's answer even when the server refuses a huge body before the client has finished
 * sending it (the upload then fails with EPIPE/ECONNRESET, which is the server doing its job), and
 * a connection a previous hostile request made the server close is never reused.
 */
export function rawRequest(
  url: string,
  options: {
    method: string;
    headers?: Record<string, string>;
    body?: string | Uint8Array;
    timeoutMs?: number;
    /** Client address on the loopback (127.0.0.0/8): per-address limits see each as another reader. */
    localAddress?: string;
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let writeError: Error | undefined;
    let answered = false;
    const req = request(
      url,
      {
        method: options.method,
        headers: options.headers,
        agent: false,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          settled = true;
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', (error) => {
          if (!settled) reject(error);
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 60_000, () =>
      req.destroy(new Error('timed out waiting for an answer')),
    );
    req.on('error', (error) => {
      // The server may answer (413) and close while the body is still being written: wait for the
      // answer a moment before calling it a dropped connection.
      writeError = error;
      setTimeout(() => {
        if (!answered) reject(new Error(`no answer: ${writeError?.message}`));
      }, 2_000);
    });
    const body = options.body;
    if (body === undefined || body.length <= earlyAnswerBytes) {
      if (body !== undefined) req.write(body);
      req.end();
      return;
    }
    // A body far above any limit: send the headers alone first. A server that refuses by
    // Content-Length answers now, and its answer is read before the upload could be cut off.
    req.setHeader('content-length', String(Buffer.byteLength(body)));
    req.flushHeaders();
    setTimeout(() => {
      if (answered || writeError !== undefined) return;
      req.write(body);
      req.end();
    }, earlyAnswerWaitMs);
  });
}

/** encodeURIComponent that also encodes lone surrogates (as the bytes a careless client would send). */
export function encodePathSegment(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) {
      out +=
        `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase();
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

/** An HTML form body (application/x-www-form-urlencoded) of an object's fields. */
export function formBody(value: object): string {
  return new URLSearchParams(
    Object.entries(value).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
}
