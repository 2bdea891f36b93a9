import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';

/**
 * Personal data never reaches a log (national rules forbid publishing ID numbers, phone
 * numbers, bank accounts and health conditions; logs are read by more people than the books).
 * Two layers:
 * 1. keys: any field whose name looks sensitive is replaced, at any depth ({@link isSensitiveKey});
 *    the fixed paths in {@link redactPaths} also go through pino's own redaction.
 * 2. text: every string value and message is scrubbed of resident-ID, bank-account and mobile
 *    number patterns ({@link scrubText}), for data that arrives inside free text.
 */

export const redacted = '[REDACTED]';

/**
 * Key names treated as sensitive wherever they appear, compared lower-cased with `_` and `-`
 * removed (so `idNumber`, `id_number` and `ID-Number` are one key). Long distinctive words match
 * anywhere in the key (`householdPhone`, `refreshToken`); short ones only as the whole key, so
 * `hotel` or `pinyin` stay visible. Internal ids (`accountId`, `householdId`) are not personal.
 */
const sensitiveKeyParts: readonly string[] = [
  'authorization',
  'cookie',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'idnumber',
  'idcard',
  'identitynumber',
  'identitycard',
  'residentid',
  'citizenid',
  'nationalid',
  'shenfenzheng',
  'bankaccount',
  'bankcard',
  'accountnumber',
  'cardnumber',
  'phone',
  'mobile',
  'health',
  'medical',
  'disease',
  'disability',
  'illness',
  'diagnosis',
];
const sensitiveKeysExact: ReadonlySet<string> = new Set([
  'pin',
  'tel',
  'sfz',
  'iban',
  'idno',
  'cardno',
  'accountno',
]);

export function isSensitiveKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[-_]/g, '');
  return sensitiveKeysExact.has(normalized) || sensitiveKeyParts.some((part) => normalized.includes(part));
}

/**
 * Fixed paths for pino's own redaction: headers, in case a custom serializer or a handler logs
 * them (the kit's request serializer never does). Sensitive keys anywhere else are caught by the
 * key walk ({@link isSensitiveKey}), which unlike wildcard paths has no depth limit and costs one
 * pass over the object instead of one per path.
 */
export const redactPaths: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/**
 * Text patterns, most specific first so an 18-character resident ID is not reported as an account.
 * - resident ID (GB 11643): 17 digits and a check character (digit or X).
 * - mobile (China): 11 digits starting 13–19, optionally +86 and separators 3-4-4.
 * - bank account / 一卡通 card: 12–19 digits, plain or in groups of four.
 * A digit run of 12+ that is not personal (a 13-digit millisecond timestamp in a message) is
 * scrubbed too: a false positive costs a log line's detail, a false negative leaks a person.
 */
const textPatterns: readonly [RegExp, string][] = [
  [
    /(?<![0-9A-Za-z])\d{6}(19|20)\d{2}(0[1-9]|1[0-2])\d{2}\d{3}[0-9Xx](?![0-9A-Za-z])/g,
    '[REDACTED:id_number]',
  ],
  [/(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])/g, '[REDACTED:id_number]'],
  [/(?<![0-9])(\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])/g, '[REDACTED:phone]'],
  [/(?<![0-9])\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?(?![0-9])/g, '[REDACTED:account]'],
  [/(?<![0-9])\d{12,19}(?![0-9])/g, '[REDACTED:account]'],
];

/**
 * Every pattern above starts with three digits followed by eight more digits, spaces or dashes;
 * a string without such a run (nearly every log string) skips the five scans.
 */
const mayHoldNumber = /\d{3}[\d -]{8}/;

/** Removes resident-ID, mobile and account-number patterns from free text. */
export function scrubText(text: string): string {
  if (!mayHoldNumber.test(text)) return text;
  let result = text;
  for (const [pattern, replacement] of textPatterns) result = result.replace(pattern, replacement);
  return result;
}

/** Nesting below which log objects are cut: a log line is not a data dump, and cycles must end. */
export const scrubDepthMax = 8;

/**
 * A copy of `value` with sensitive keys replaced and strings scrubbed, at any depth. Errors become
 * pino's serialized form first (type, message, stack, own fields) so their text is scrubbed too.
 */
export function scrubValue(value: unknown, depth = 0): unknown {
  // Class instances (a request, a Map) are walked through their own enumerable fields like plain
  // objects: JSON.stringify would print those fields anyway.
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= scrubDepthMax) return '[TRUNCATED]';
  if (value instanceof Error) return scrubValue(pino.stdSerializers.err(value), depth);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = isSensitiveKey(key) ? redacted : scrubValue(inner, depth + 1);
  }
  return copy;
}

export interface LoggerOptions {
  /** Service name, on every line. */
  name: string;
  level?: LogLevel;
  /** Where lines go; default stdout. Tests pass a stream they read back. */
  destination?: DestinationStream;
}

interface RequestLike {
  id?: string;
  method?: string;
  url?: string;
  ip?: string;
  routeOptions?: { url?: string };
}
interface ReplyLike {
  statusCode?: number;
}

/**
 * What a request and a reply log as: method, scrubbed URL (query strings carry search terms),
 * route pattern and client address, never headers or bodies.
 */
const serializers = {
  req: (req: RequestLike) => ({
    method: req.method,
    url: typeof req.url === 'string' ? scrubText(req.url) : req.url,
    route: req.routeOptions?.url,
    remoteAddress: req.ip,
  }),
  res: (reply: ReplyLike) => ({ statusCode: reply.statusCode }),
  err: (error: unknown) => scrubValue(error instanceof Error ? pino.stdSerializers.err(error) : error),
  error: (error: unknown) => scrubValue(error),
};
const serializedKeys: ReadonlySet<string> = new Set(Object.keys(serializers));

/** A pino logger with both redaction layers. createApp uses it unless given its own. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: [...redactPaths], censor: redacted },
      formatters: {
        log: (object) => {
          const scrubbed: Record<string, unknown> = {};
          for (const [key, value] of Object.entries(object)) {
            // Keys with a serializer are scrubbed by it: fastify's request and reply objects must
            // reach their serializers intact (their fields are getters a copy would lose).
            if (serializedKeys.has(key)) scrubbed[key] = value;
            else scrubbed[key] = isSensitiveKey(key) ? redacted : scrubValue(value, 1);
          }
          return scrubbed;
        },
      },
      serializers,
      hooks: {
        // The message string (and printf-style arguments) bypass formatters.log.
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
    },
    options.destination,
  );
}
