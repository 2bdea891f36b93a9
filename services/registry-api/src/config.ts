import { isAdminCode, levelOf } from '@fundtrace/events';
import { type Keyring, KeyringConfigError, parseKeyring } from '@fundtrace/pii';
import { commonEnv, loadConfigWith, port, streamWriterEnv } from '@fundtrace/service-kit';
import { z } from 'zod';

/**
 * registry-api configuration, read once from the environment (STYLE 9). The keyring is parsed
 * here so a bad key fails the start, and the key material never leaves this object.
 */

/** Most counties one registry-api instance writes for: each keeps its households in memory. */
export const partitionsPerInstanceMax = 32;

const partitions = z
  .string()
  .default('411325')
  .transform((text, ctx) => {
    const codes = [
      ...new Set(
        text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ),
    ];
    for (const code of codes) {
      if (!isAdminCode(code) || levelOf(code) !== 'county') {
        ctx.addIssue({
          code: 'custom',
          message: `${code} is not a county code (households live in county books)`,
        });
      }
    }
    if (codes.length === 0 || codes.length > partitionsPerInstanceMax) {
      ctx.addIssue({ code: 'custom', message: `list 1–${partitionsPerInstanceMax} county codes` });
    }
    return codes;
  });

export const registryEnv = z.object({
  ...commonEnv,
  /** STREAM_REPLICAS: replicas of the REGISTRY streams it creates or verifies (3 on a JetStream cluster). */
  ...streamWriterEnv,
  PORT: port(4102),
  /** The counties whose REGISTRY_<code> streams this instance writes (single writer per stream). */
  REGISTRY_PARTITIONS: partitions,
  PII_KEYS: z.string({ error: 'is required (npm start writes development keys to .data/)' }),
  PII_ACTIVE_KEY: z.string({ error: 'is required' }),
  PII_HMAC_KEY: z.string({ error: 'is required' }),
});

export interface RegistryConfig {
  readonly env: Readonly<Omit<z.output<typeof registryEnv>, 'PII_KEYS' | 'PII_ACTIVE_KEY' | 'PII_HMAC_KEY'>>;
  /** Kept out of the frozen env object: key buffers cannot be frozen, and must never be logged. */
  readonly keyring: Keyring;
}

/** Every problem of the environment and of the keys, reported at once; values are never echoed. */
export function loadRegistryConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): RegistryConfig {
  const { parsed, derived: keyring } = loadConfigWith<typeof registryEnv, Keyring>(
    registryEnv,
    env,
    (raw) => {
      if (raw.PII_KEYS === undefined || raw.PII_ACTIVE_KEY === undefined || raw.PII_HMAC_KEY === undefined) {
        return undefined;
      }
      try {
        return {
          value: parseKeyring({
            keys: raw.PII_KEYS,
            activeKeyId: raw.PII_ACTIVE_KEY,
            hmacKey: raw.PII_HMAC_KEY,
          }),
        };
      } catch (error) {
        if (!(error instanceof KeyringConfigError)) throw error;
        return { problems: [...error.problems] };
      }
    },
  );
  const { PII_KEYS: _k, PII_ACTIVE_KEY: _a, PII_HMAC_KEY: _h, ...rest } = parsed;
  return Object.freeze({ env: Object.freeze(rest), keyring });
}
