import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Development secrets, made once per checkout and kept in `.data/secrets.json`
 * (git-ignored, mode 0600). Production supplies the same variables from its
 * secret store; nothing here is ever used there.
 */
export interface DevSecrets {
  JWT_SECRET: string;
  PII_KEYS: string;
  PII_ACTIVE_KEY: string;
  PII_HMAC_KEY: string;
  /** Ed25519 private key seed (32 bytes, base64) for signing log checkpoints. */
  LOG_SIGNING_KEY: string;
}

export function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  const path = join(dataDir, 'secrets.json');
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as DevSecrets;
  mkdirSync(dataDir, { recursive: true });
  const secrets: DevSecrets = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    PII_KEYS: `dev1:${randomBytes(32).toString('base64')}`,
    PII_ACTIVE_KEY: 'dev1',
    PII_HMAC_KEY: randomBytes(32).toString('base64'),
    LOG_SIGNING_KEY: randomBytes(32).toString('base64'),
  };
  writeFileSync(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
