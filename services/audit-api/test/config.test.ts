import { signerFromSeed } from '@fundtrace/merkle';
import { ConfigError } from '@fundtrace/service-kit';
import { describe, expect, it } from 'vitest';
import { loadAuditConfig } from '../src/config';

const key = signerFromSeed('fundtrace.test', new Uint8Array(32).fill(1)).verifierKey;
const base = { JWT_SECRET: 'x'.repeat(40), LOG_VERIFIER_KEY: key };

describe('audit-api config', () => {
  it('reads partitions, schedule and rule parameters', () => {
    const config = loadAuditConfig({
      ...base,
      AUDIT_PARTITIONS: '411325, 410300,411325',
      RULES_PARAMS: '{"idle_funds":{"idleDaysMax":90}}',
    });
    expect(config.env.AUDIT_PARTITIONS).toEqual(['411325', '410300']);
    expect(config.env.RULES_PARAMS).toEqual({ idle_funds: { idleDaysMax: 90 } });
    expect(config.env.PORT).toBe(4105);
    expect(config.verifierKey).toBe(key);
  });

  it('reports every problem at once', () => {
    try {
      loadAuditConfig({
        JWT_SECRET: 'x'.repeat(40),
        LOG_VERIFIER_KEY: 'not-a-key',
        AUDIT_PARTITIONS: '999999',
        RULES_INTERVAL_MS: '10',
        RULES_PARAMS: '[1]',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join('\n');
      for (const name of ['LOG_VERIFIER_KEY', 'AUDIT_PARTITIONS', 'RULES_INTERVAL_MS', 'RULES_PARAMS'])
        expect(text).toContain(name);
    }
  });
});
