import { z } from 'zod';

/** Client errors a rejection may carry; 5xx is never a rejection, it is a bug or an outage. */
export type RejectionStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 422 | 423 | 429;

const snakeCase = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

export type RejectionDetails = Readonly<Record<string, unknown>>;

/**
 * An expected refusal (STYLE 6): a named snake_case code, a message for humans, structured
 * details for machines, and the 4xx status the HTTP edge answers with. Throw it from a handler
 * or hook; the one error handler of {@link createApp} turns it into
 * `{ "error": { "code", "message", "details" } }`.
 */
export class Rejection<TCode extends string = string> extends Error {
  override readonly name = 'Rejection';
  constructor(
    readonly code: TCode,
    message: string,
    readonly details: RejectionDetails = {},
    readonly status: RejectionStatus = 400,
    /** Response headers the refusal requires (e.g. WWW-Authenticate on a 401). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    if (!snakeCase.test(code)) throw new Error(`Rejection code ${JSON.stringify(code)} is not snake_case`);
    if (status < 400 || status > 499) throw new Error(`Rejection status ${status} is not a 4xx status`);
  }
}

export function isRejection(value: unknown): value is Rejection {
  return value instanceof Rejection;
}

/** Shorthand for `new Rejection(...)`. */
export function rejection<TCode extends string>(
  code: TCode,
  message: string,
  details?: RejectionDetails,
  status?: RejectionStatus,
): Rejection<TCode> {
  return new Rejection(code, message, details, status);
}

/** The codes the kit itself answers with; service catalogues must not reuse them with another status. */
export const kitRejections = {
  validation_failed: 400,
  malformed_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
} as const satisfies Record<string, RejectionStatus>;

/** The code of every unexpected failure; its message never carries internals. */
export const internalErrorCode = 'internal_error';

/**
 * A service's closed union of rejection codes with their HTTP statuses, declared once:
 *
 * ```ts
 * export const ledgerRejections = defineRejections({ insufficient_funds: 409, purpose_not_allowed: 422 });
 * throw ledgerRejections.reject('insufficient_funds', 'Account 41 has 120.00 元', { availableFen: '12000' });
 * ```
 *
 * `reject` only accepts declared codes (a typo is a type error) and takes the status from the
 * table, so one code can never answer with two statuses. `schema` documents the error body in
 * OpenAPI with the code as an enum.
 */
export function defineRejections<const TStatuses extends Record<string, RejectionStatus>>(
  statuses: TStatuses,
) {
  for (const [code, status] of Object.entries(statuses)) {
    // Constructing one validates the code's spelling and the status range.
    new Rejection(code, code, {}, status);
    const kitStatus = (kitRejections as Record<string, RejectionStatus>)[code];
    if (kitStatus !== undefined && kitStatus !== status) {
      throw new Error(`Rejection code ${code} is the kit's with status ${kitStatus}, not ${status}`);
    }
  }
  type Code = keyof TStatuses & string;
  const codes = Object.freeze(Object.keys(statuses)) as readonly Code[];
  return Object.freeze({
    statuses: Object.freeze({ ...statuses }) as Readonly<TStatuses>,
    codes,
    reject<C extends Code>(code: C, message: string, details?: RejectionDetails): Rejection<C> {
      const status = statuses[code];
      if (status === undefined) throw new Error(`Rejection code ${code} is not declared`);
      return new Rejection(code, message, details, status);
    },
    is(value: unknown): value is Rejection<Code> {
      return value instanceof Rejection && Object.hasOwn(statuses, value.code);
    },
    schema: errorBodySchema(z.enum(codes as [Code, ...Code[]])),
  });
}

function errorBodySchema<TCode extends z.ZodType<string>>(code: TCode) {
  return z
    .object({
      error: z.object({
        code,
        message: z.string(),
        details: z.record(z.string(), z.unknown()),
      }),
    })
    .meta({ description: 'A refusal: a snake_case code, a message, and structured details.' });
}

/** The error body every failure answers with. Routes may list it under their 4xx responses. */
export const errorResponseSchema = errorBodySchema(z.string());
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

/** One validation problem: where (a JSON-pointer-like path into the request part) and what. */
export interface ValidationIssue {
  /** `body`, `params`, `querystring` or `headers`. */
  in: string;
  path: string;
  message: string;
  code: string;
}
