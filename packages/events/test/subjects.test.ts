import { describe, expect, it } from 'vitest';
import {
  entityIdCharsMax,
  entitySubject,
  namespaceCharsMax,
  parseStreamName,
  parseSubject,
  streamName,
  streamSubjects,
  subjectFor,
} from '../src';

describe('streamName', () => {
  it('is <CONTEXT>_<code>, prefixed by <ns>_ when a namespace is given', () => {
    expect(streamName('ledger', '411325')).toBe('LEDGER_411325');
    expect(streamName('registry', '411325')).toBe('REGISTRY_411325');
    expect(streamName('audit', '000000')).toBe('AUDIT_000000');
    expect(streamName('ledger', '411325', 't_abc-1')).toBe('t_abc-1_LEDGER_411325');
  });

  it('refuses bad contexts, partitions and namespaces', () => {
    expect(() => streamName('finance' as never, '411325')).toThrow(/unknown context/);
    expect(() => streamName('ledger', '41132')).toThrow(/6 digits/);
    expect(() => streamName('ledger', '991325')).toThrow(/province/);
    for (const ns of ['a.b', 'a b', 'a*', 'a>', 'n'.repeat(namespaceCharsMax + 1), '内乡']) {
      expect(() => streamName('ledger', '411325', ns), ns).toThrow(/namespace/);
    }
    expect(streamName('ledger', '411325', 'n'.repeat(namespaceCharsMax))).toHaveLength(
      namespaceCharsMax + 14,
    );
  });
});

describe('parseStreamName', () => {
  it('reads back what streamName writes, including namespaces with underscores', () => {
    for (const ns of ['', 't1', 'test_run_42', 'x_LEDGER']) {
      for (const context of ['ledger', 'registry', 'audit'] as const) {
        expect(parseStreamName(streamName(context, '411325', ns))).toEqual({
          namespace: ns,
          context,
          partition: '411325',
        });
      }
    }
  });

  it('returns null for streams that are not ours', () => {
    for (const name of [
      'KV_config',
      'LEDGER_41132',
      'LEDGER_991325',
      'PAYMENTS_411325',
      'ledger_411325',
      '_LEDGER_411325',
      'a.b_LEDGER_411325',
      'LEDGER_411325_x',
    ]) {
      expect(parseStreamName(name), name).toBeNull();
    }
  });
});

describe('subjects', () => {
  it('streamSubjects covers every entity of the partition', () => {
    expect(streamSubjects('ledger', '411325')).toBe('ledger.411325.>');
    expect(streamSubjects('audit', '411325', 'ns1')).toBe('ns1.audit.411325.>');
  });

  it('entitySubject is <context>.<code>.<entity>.<id>, with <ns>. in front when given', () => {
    const ref = {
      context: 'ledger',
      partition: '411325',
      entity: 'allocation',
      id: '0190b0e6-1d3c-7b4e-9a2b-1234567890ab',
    } as const;
    expect(entitySubject(ref)).toBe('ledger.411325.allocation.0190b0e6-1d3c-7b4e-9a2b-1234567890ab');
    expect(subjectFor(ref, 'ns1')).toBe('ns1.ledger.411325.allocation.0190b0e6-1d3c-7b4e-9a2b-1234567890ab');
  });

  it('refuses ids that are not one safe subject token', () => {
    const ref = { context: 'ledger', partition: '411325', entity: 'allocation' } as const;
    for (const id of [
      '',
      'a.b',
      'a b',
      '*',
      '>',
      'a>b',
      'a\tb',
      '财农〔2018〕12号',
      'x'.repeat(entityIdCharsMax + 1),
    ]) {
      expect(() => entitySubject({ ...ref, id }), JSON.stringify(id)).toThrow(/unsafe entity id/);
    }
    expect(entitySubject({ ...ref, id: 'x'.repeat(entityIdCharsMax) })).toMatch(/x{128}$/);
    expect(() => entitySubject({ ...ref, entity: 'Allocation', id: 'a' })).toThrow(/entity name/);
    expect(() => entitySubject({ ...ref, partition: '4113', id: 'a' })).toThrow(/partition/);
  });

  it('parseSubject reads back entity subjects and refuses others', () => {
    const ref = {
      context: 'registry',
      partition: '411325',
      entity: 'household',
      id: 'H-4113250001',
    } as const;
    expect(parseSubject(entitySubject(ref))).toEqual(ref);
    expect(parseSubject(entitySubject(ref, 'ns1'), 'ns1')).toEqual(ref);
    expect(parseSubject(entitySubject(ref, 'ns1'))).toBeNull();
    expect(parseSubject(entitySubject(ref), 'ns1')).toBeNull();
    for (const subject of [
      'registry.411325.household',
      'registry.411325.household.a.b',
      'finance.411325.x.y',
      'ledger.4113.x.y',
      'ledger.411325.X.y',
      'ledger.411325.x.*',
    ]) {
      expect(parseSubject(subject), subject).toBeNull();
    }
  });
});
