import type { FastifySerializerCompiler, FastifyTypeProvider } from 'fastify';
import { ResponseSerializationError } from 'fastify-type-provider-zod';
import { $ZodType, type output, safeEncode } from 'zod/v4/core';

/**
 * Like fastify-type-provider-zod's provider, but a handler replies with the schema's *output*
 * type (the domain value) and the serializer *encodes* it to the wire form. With zod codecs the
 * same schema then works both ways: `amountFen` arrives as a string of digits and reaches the
 * handler as a bigint, and a bigint in a reply leaves as a string of digits (CONVENTIONS: money
 * is a string of digits in JSON), with no hand-written conversion per route.
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends $ZodType ? output<this['schema']> : unknown;
  serializer: this['schema'] extends $ZodType ? DeepReadonly<output<this['schema']>> : unknown;
}

/**
 * Replies may be deeply readonly: deciders and read models hand out frozen views
 * (`readonly MemberView[]`), and the serializer only reads them. Mutable values still fit.
 */
export type DeepReadonly<T> = T extends bigint | string | number | boolean | null | undefined | Date
  ? T
  : T extends readonly (infer Item)[]
    ? readonly DeepReadonly<Item>[]
    : T extends object
      ? { readonly [Key in keyof T]: DeepReadonly<T[Key]> }
      : T;

/**
 * Encodes a reply with its response schema (which also strips undeclared fields, so internal
 * fields never leak), then JSON-stringifies it. A bigint left in the encoded value (a schema that
 * says z.bigint() rather than a codec) is written as a string of digits, never as a lossy number.
 */
export const serializerCompiler: FastifySerializerCompiler<$ZodType> =
  ({ schema, method, url }) =>
  (data) => {
    if (!(schema instanceof $ZodType))
      throw new Error(`Response schema of ${method} ${url} is not a zod schema`);
    const result = safeEncode(schema, data);
    if (!result.success) throw new ResponseSerializationError(method, url, { cause: result.error });
    return JSON.stringify(result.data, (_key, value) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
  };
