import type { AnyEvent } from '@fundtrace/events';
import { describe, expect, it } from 'vitest';
import { applyRegistryEvent } from '../src/writer/registry-tail';

/** The household facts ledger-api keeps from the registry, event by event (no NATS). */

const member = (memberNo: number) => ({ memberNo });
const ev = (type: string, data: Record<string, unknown>) => ({ type, data }) as unknown as AnyEvent;

describe('applyRegistryEvent', () => {
  it('counts living members: registered, added, recorded dead (once)', () => {
    const facts = new Map();
    applyRegistryEvent(
      facts,
      ev('HouseholdRegistered', { householdId: 'H1', members: [member(1), member(2)] }),
    );
    expect(facts.get('H1')).toMatchObject({ livingMembers: 2, deceased: undefined });
    applyRegistryEvent(facts, ev('MemberAdded', { householdId: 'H1', member: member(3) }));
    applyRegistryEvent(facts, ev('MemberDeceased', { householdId: 'H1', memberNo: 2, diedOn: '2024-05-02' }));
    // A repeated death of the same member (registry-api refuses it) must not count twice.
    applyRegistryEvent(facts, ev('MemberDeceased', { householdId: 'H1', memberNo: 2, diedOn: '2024-05-02' }));
    expect(facts.get('H1')).toMatchObject({
      livingMembers: 2,
      deceased: [{ memberNo: 2, diedOn: '2024-05-02' }],
    });
    applyRegistryEvent(facts, ev('MemberDeceased', { householdId: 'H1', memberNo: 1, diedOn: '2024-06-01' }));
    applyRegistryEvent(facts, ev('MemberDeceased', { householdId: 'H1', memberNo: 3, diedOn: '2024-06-02' }));
    expect(facts.get('H1')).toMatchObject({ livingMembers: 0 });
    expect(facts.get('H1').deceased).toHaveLength(3);
  });
  it('ignores facts about households it never saw registered', () => {
    const facts = new Map();
    applyRegistryEvent(
      facts,
      ev('MemberDeceased', { householdId: 'NOPE', memberNo: 1, diedOn: '2024-05-02' }),
    );
    applyRegistryEvent(facts, ev('MemberAdded', { householdId: 'NOPE', member: member(1) }));
    expect(facts.size).toBe(0);
  });
});
