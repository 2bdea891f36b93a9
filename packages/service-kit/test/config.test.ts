import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnv, loadConfig, loadConfigWith, port, streamWriterEnv } from '../src/index';

const schema = z.object({ ...commonEnv, PORT: port(4101) });
const secret = 'x'.repeat(32);

describe('loadConfig', () => {
  it('applies the development defaults and returns a frozen object', () => {
    const config = loadConfig(schema, { JWT_SECRET: secret });
    expect(config).toEqual({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/fundtrace',
      NATS_URL: 'nats://127.0.0.1:4222',
      FUNDTRACE_NAMESPACE: '',
      JWT_SECRET: secret,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PORT: 4101,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
  });

  it('reports every problem at once, one line per variable, without echoing values', () => {
    const env = {
      JWT_SECRET: 'too-short-secret-value',
      PORT: '70000',
      DATABASE_URL: 'mysql://root@localhost/db',
      NATS_URL: 'http://127.0.0.1:4222',
      LOG_LEVEL: 'loud',
      FUNDTRACE_NAMESPACE: 'has.dot',
    };
    let error: unknown;
    try {
      loadConfig(schema, env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.split('\n')[0]).toBe('Invalid configuration:');
    expect((error as ConfigError).problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'DATABASE_URL',
      'FUNDTRACE_NAMESPACE',
      'JWT_SECRET',
      'LOG_LEVEL',
      'NATS_URL',
      'PORT',
    ]);
    expect(message).toContain('- JWT_SECRET: must be at least 32 bytes');
    expect(message).not.toContain('too-short-secret-value');
  });

  it('says "is required" for a missing variable without a default', () => {
    expect(() => loadConfig(schema, {})).toThrow(
      'Invalid configuration:\n- JWT_SECRET: is required but not set',
    );
  });

  it('accepts the boundaries: port 0 and 65535, a 32-byte secret, several NATS URLs', () => {
    expect(loadConfig(schema, { JWT_SECRET: secret, PORT: '0' }).PORT).toBe(0);
    expect(loadConfig(schema, { JWT_SECRET: secret, PORT: '65535' }).PORT).toBe(65535);
    expect(() => loadConfig(schema, { JWT_SECRET: 'x'.repeat(31) })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig(schema, { JWT_SECRET: secret, PORT: '-1' })).toThrow(/PORT/);
    expect(() => loadConfig(schema, { JWT_SECRET: secret, PORT: '80.5' })).toThrow(/PORT/);
    expect(loadConfig(schema, { JWT_SECRET: secret, NATS_URL: 'nats://a:4222,nats://b:4222' }).NATS_URL).toBe(
      'nats://a:4222,nats://b:4222',
    );
  });

  it("reads a writer's STREAM_REPLICAS: 1 by default, 1 to 5, anything else refused", () => {
    const writer = z.object({ ...commonEnv, ...streamWriterEnv });
    expect(loadConfig(writer, { JWT_SECRET: secret }).STREAM_REPLICAS).toBe(1);
    expect(loadConfig(writer, { JWT_SECRET: secret, STREAM_REPLICAS: '3' }).STREAM_REPLICAS).toBe(3);
    expect(loadConfig(writer, { JWT_SECRET: secret, STREAM_REPLICAS: '5' }).STREAM_REPLICAS).toBe(5);
    for (const bad of ['0', '6', '2.5', 'three']) {
      expect(() => loadConfig(writer, { JWT_SECRET: secret, STREAM_REPLICAS: bad }), bad).toThrow(
        /- STREAM_REPLICAS: /,
      );
    }
  });

  it('counts secret length in bytes, not characters', () => {
    // 11 CJK characters are 33 bytes in UTF-8.
    expect(loadConfig(schema, { JWT_SECRET: '扶贫资金扶贫资金扶贫资' }).JWT_SECRET).toHaveLength(11);
  });
});

describe('loadConfigWith', () => {
  const schema = z.object({ PORT: z.coerce.number().int().min(1) });
  const derive = (raw: Readonly<Record<string, string | undefined>>) => {
    if (raw.SECRET === undefined) return undefined;
    return raw.SECRET.length >= 8
      ? { value: raw.SECRET.length }
      : { problems: ['SECRET: shorter than 8 characters'] };
  };

  it('answers the parsed environment and the derived value', () => {
    expect(loadConfigWith(schema, { PORT: '4101', SECRET: 'abcdefgh' }, derive)).toEqual({
      parsed: { PORT: 4101 },
      derived: 8,
    });
  });

  it("reports the schema's and the derivation's problems in one error, without the secret", () => {
    try {
      loadConfigWith(schema, { PORT: 'x', SECRET: 'hunter2' }, derive);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems.some((p) => p.startsWith('PORT:'))).toBe(true);
      expect(problems).toContain('SECRET: shorter than 8 characters');
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('refuses when the derived value is missing, even if the schema passed', () => {
    expect(() => loadConfigWith(schema, { PORT: '1' }, derive)).toThrow(ConfigError);
  });
});
