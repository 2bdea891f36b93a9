/**
 * What must never appear outside the encrypted events: the clear personal data of the product's
 * households (ID numbers, bank accounts, phones, health conditions, full names) and its secrets
 * (JWT secret, PII keys, HMAC key, log signing key). `findLeaks` greps any text for them.
 */
import { registry } from '@fundtrace/events';
import { recordReliability } from '@fundtrace/testkit';
import type { Product, ServiceName } from './services';

export interface Needle {
  /** What kind of secret or personal datum, never the value itself (reports must not leak either). */
  readonly kind: string;
  readonly value: string;
  /**
   * For values that are also words of a closed list (a health condition): an occurrence among all
   * of these, close together, is the list itself (a validation message naming the allowed
   * values, a template's help text), not a person's datum.
   */
  readonly listedWith?: readonly string[];
}

/** How close the words of a closed list stand when a message enumerates them. */
const listWindowChars = 160;

export interface Leak {
  readonly where: string;
  readonly kind: string;
}

/** The clear values of the product's households and its secrets. */
export function needlesOf(product: Product): Needle[] {
  const needles: Needle[] = [];
  for (const household of product.households) {
    if (household.phone) needles.push({ kind: 'phone number', value: household.phone });
    if (household.account) needles.push({ kind: 'bank account', value: household.account.number });
    for (const member of household.members) {
      needles.push({ kind: 'ID number', value: member.idNumber });
      if (/x$/i.test(member.idNumber))
        needles.push({ kind: 'ID number', value: member.idNumber.toLowerCase() });
      // Two-character names are common words too ("张伟" is also in a sentence); three and more are not.
      if (Array.from(member.name).length >= 3) needles.push({ kind: 'full name', value: member.name });
      if (member.health !== 'healthy' && member.health !== 'disabled') {
        // "disabled" is also an HTML attribute; the label of a disability is also a programme name.
        needles.push({
          kind: 'health condition',
          value: member.health,
          listedWith: registry.healthConditions,
        });
        needles.push({
          kind: 'health condition',
          value: registry.healthConditionLabels[member.health],
          listedWith: Object.values(registry.healthConditionLabels),
        });
      }
    }
  }
  const { JWT_SECRET, PII_KEYS, PII_HMAC_KEY, LOG_SIGNING_KEY } = product.secrets;
  needles.push({ kind: 'JWT secret', value: JWT_SECRET });
  for (const entry of PII_KEYS.split(',')) needles.push({ kind: 'PII key', value: entry.split(':')[1]! });
  needles.push({ kind: 'PII HMAC key', value: PII_HMAC_KEY });
  needles.push({ kind: 'log signing key', value: LOG_SIGNING_KEY });
  return dedupe(needles);
}

function dedupe(needles: Needle[]): Needle[] {
  const seen = new Set<string>();
  return needles.filter((n) => !seen.has(n.value) && seen.add(n.value));
}

/** Every needle found in every text, as `where: kind` (the value is not repeated in the report). */
export function findLeaks(
  texts: Iterable<{ where: string; text: string }>,
  needles: readonly Needle[],
): Leak[] {
  const leaks: Leak[] = [];
  for (const { where, text } of texts) {
    for (const needle of needles) if (occursAsDatum(text, needle)) leaks.push({ where, kind: needle.kind });
  }
  return leaks;
}

/** Every service's log and /metrics, as texts to grep. */
export async function serviceTexts(product: Product): Promise<Array<{ where: string; text: string }>> {
  const texts: Array<{ where: string; text: string }> = [];
  for (const [name, log] of Object.entries(product.logs()) as [ServiceName, string][]) {
    texts.push({ where: `${name} log`, text: log });
    const metrics = await fetch(`${product.urls[name]}/metrics`);
    texts.push({ where: `${name} /metrics`, text: await metrics.text() });
  }
  return texts;
}

/**
 * The privacy check that closes a run against the product: every service log and /metrics and the
 * run's error bodies grepped for the households' clear personal data and the secrets, recorded as
 * the privacy suite's `run`. Returns the leaks (the caller expects none).
 */
export async function recordLeakCheck(
  product: Product,
  run: string,
  errorBodies: ReadonlyArray<{ where: string; text: string }>,
): Promise<Leak[]> {
  const texts = [...errorBodies, ...(await serviceTexts(product))];
  const leaks = findLeaks(texts, needlesOf(product));
  recordReliability({
    suite: 'privacy',
    name: run,
    injected: "the households' clear ID numbers, accounts, phones, health, names and the secrets, looked for",
    iterations: texts.length,
    checked: `every service log and /metrics, ${errorBodies.length} error bodies: none found`,
    result: leaks.length === 0 ? 'passed' : 'failed',
    details: { leaks },
  });
  return leaks;
}

function occursAsDatum(text: string, needle: Needle): boolean {
  for (let at = text.indexOf(needle.value); at >= 0; at = text.indexOf(needle.value, at + 1)) {
    if (needle.listedWith === undefined) return true;
    const window = text.slice(Math.max(0, at - listWindowChars), at + needle.value.length + listWindowChars);
    if (!needle.listedWith.every((word) => window.includes(word))) return true;
  }
  return false;
}
