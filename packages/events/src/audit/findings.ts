import { fenSchema } from '@fundtrace/money';
import { z } from 'zod';
import { adminCodeSchema } from '../admin-codes';
import { defineEvent } from '../define';
import { eventTypeSchema } from '../envelope';
import { entityIdSchema, entityNameSchema, parseStreamName } from '../subjects';
import { defineUpcaster } from '../upcasters';

/**
 * Findings (预警 / 问题线索): a rule's warning about the books, and the steps an
 * inspector takes on it — review (复核), trace (溯源), rectification (整改),
 * close — each an event on the partition's AUDIT stream, entity `finding`.
 * The envelope's partition is the books under supervision; subjects and
 * evidence name their own partitions, because a finding such as 截留 (money
 * passed to a lower level and not passed on) spans two.
 */

/** A rule raising more subjects than this should raise several findings; also bounds the event size. */
export const findingSubjectsMax = 100;
/**
 * Evidence events cited by one finding: a duplicate-payment (虚报冒领) or split-payment finding
 * over a whole roster cites many payments; 1,000 refs stay well under `eventBytesMax`.
 */
export const findingEvidenceMax = 1_000;
/** Named amounts on a finding (paid, standard, excess, idle, …); a handful is all a reader can take in. */
export const findingAmountsMax = 20;
/** One-line summary shown in lists: about two lines of Chinese text on an A4 report. */
export const findingSummaryCharsMax = 500;
/** An inspector's note for one step; long enough for a paragraph of reasoning, short enough to stay a note. */
export const inspectorNoteCharsMax = 4_000;
/** A rectification document number (整改通知 文号), e.g. 内纪整〔2019〕12号. */
export const documentNumberCharsMax = 100;

const noControlCharactersExceptNewlines = /^[^\u0000-\u0009\u000b-\u001f\u007f]*$/;

function textSchema(charsMax: number) {
  return z
    .string()
    .max(charsMax, `must be at most ${charsMax} characters`)
    .regex(noControlCharactersExceptNewlines, 'must not contain control characters other than new lines')
    .refine((text) => text.trim() !== '', 'must not be blank');
}

export const inspectorNoteSchema = textSchema(inspectorNoteCharsMax);

/** Rule ids are stable snake_case names (`idle_funds`, `duplicate_payment`); the version says which revision fired. */
export const ruleIdSchema = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9_]*$/, 'rule id must be snake_case');

export const findingSeverities = ['low', 'medium', 'high'] as const;

/** An entity the finding is about, anywhere in the books. */
export const entityRefSchema = z.strictObject({
  context: z.enum(['ledger', 'registry', 'audit']),
  partition: adminCodeSchema,
  entity: entityNameSchema,
  id: entityIdSchema,
});

/**
 * An event cited as evidence, by position in its stream. `stream` is the name
 * without namespace (`LEDGER_411325`): namespaces are a test and benchmark
 * device and never enter event bytes.
 */
export const eventRefSchema = z.strictObject({
  stream: z.string().refine((name) => parseStreamName(name)?.namespace === '', {
    message: 'stream must be a stream name without namespace, e.g. LEDGER_411325',
  }),
  seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  type: eventTypeSchema,
});

export const findingAmountSchema = z.strictObject({
  label: z
    .string()
    .max(32)
    .regex(/^[a-z][a-z0-9_]*$/, 'amount label must be snake_case, e.g. paid, standard, excess'),
  amountFen: fenSchema,
});

function unique<T>(key: (item: T) => string, what: string) {
  return (items: readonly T[], ctx: z.core.$RefinementCtx<readonly T[]>) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const k = key(item);
      if (seen.has(k)) ctx.addIssue({ code: 'custom', message: `duplicate ${what} ${k}`, path: [index] });
      seen.add(k);
    });
  };
}

const refKey = (ref: z.output<typeof entityRefSchema>) =>
  `${ref.context}.${ref.partition}.${ref.entity}.${ref.id}`;
const evidenceKey = (ref: z.output<typeof eventRefSchema>) => `${ref.stream}#${ref.seq}`;

const findingIdOf = (data: { findingId: string }) => data.findingId;

export const findingRaised = defineEvent({
  type: 'FindingRaised',
  version: 1,
  context: 'audit',
  entity: 'finding',
  description: 'A warning rule (预警规则) found a suspected violation and cites its evidence.',
  data: z.strictObject({
    findingId: entityIdSchema,
    ruleId: ruleIdSchema,
    ruleVersion: z.int().min(1).max(9_999),
    severity: z.enum(findingSeverities),
    subjects: z.array(entityRefSchema).min(1).max(findingSubjectsMax).superRefine(unique(refKey, 'subject')),
    evidence: z
      .array(eventRefSchema)
      .min(1)
      .max(findingEvidenceMax)
      .superRefine(unique(evidenceKey, 'evidence')),
    amounts: z
      .array(findingAmountSchema)
      .max(findingAmountsMax)
      .superRefine(unique((amount) => amount.label, 'amount label')),
    summary: textSchema(findingSummaryCharsMax),
  }),
  entityId: findingIdOf,
});

/** v1 (superseded): the review was a free-text note, so lists could not tell confirmed findings from dismissed ones. */
export const findingReviewedV1 = defineEvent({
  type: 'FindingReviewed',
  version: 1,
  context: 'audit',
  entity: 'finding',
  description: 'An inspector reviewed (复核) a finding (v1: note only).',
  data: z.strictObject({
    findingId: entityIdSchema,
    note: inspectorNoteSchema,
  }),
  entityId: findingIdOf,
});

export const reviewOutcomes = ['confirmed', 'dismissed', 'needs_trace'] as const;

export const findingReviewed = defineEvent({
  type: 'FindingReviewed',
  version: 2,
  context: 'audit',
  entity: 'finding',
  description: 'An inspector reviewed (复核) a finding: confirmed, dismissed, or needs tracing (溯源).',
  data: z.strictObject({
    findingId: entityIdSchema,
    outcome: z.enum(reviewOutcomes),
    note: inspectorNoteSchema,
  }),
  entityId: findingIdOf,
});

/**
 * A v1 review said nothing machine-readable, so it cannot claim the finding was
 * confirmed or dismissed: it becomes `needs_trace`, the outcome that keeps the
 * finding open for an inspector to decide, and the note is kept word for word.
 */
export const findingReviewedV1ToV2 = defineUpcaster(findingReviewedV1, findingReviewed, (data) => ({
  findingId: data.findingId,
  outcome: 'needs_trace' as const,
  note: data.note,
}));

export const findingTraced = defineEvent({
  type: 'FindingTraced',
  version: 1,
  context: 'audit',
  entity: 'finding',
  description: 'An inspector traced (溯源) a finding to its source and may cite further entities and events.',
  data: z.strictObject({
    findingId: entityIdSchema,
    subjects: z.array(entityRefSchema).max(findingSubjectsMax).superRefine(unique(refKey, 'subject')),
    evidence: z.array(eventRefSchema).max(findingEvidenceMax).superRefine(unique(evidenceKey, 'evidence')),
    note: inspectorNoteSchema,
  }),
  entityId: findingIdOf,
});

export const findingRectified = defineEvent({
  type: 'FindingRectified',
  version: 1,
  context: 'audit',
  entity: 'finding',
  description: 'The responsible unit rectified (整改) a finding; money recovered (追回) is recorded in fen.',
  data: z.strictObject({
    findingId: entityIdSchema,
    /** 0 when the rectification was procedural and no money had to come back. */
    recoveredFen: fenSchema,
    documentNumber: textSchema(documentNumberCharsMax).optional(),
    note: inspectorNoteSchema,
  }),
  entityId: findingIdOf,
});

export const closeResolutions = ['rectified', 'dismissed', 'referred'] as const;

export const findingClosed = defineEvent({
  type: 'FindingClosed',
  version: 1,
  context: 'audit',
  entity: 'finding',
  description:
    'An inspector closed a finding: rectified, dismissed, or referred (移送) to discipline or judicial bodies.',
  data: z.strictObject({
    findingId: entityIdSchema,
    resolution: z.enum(closeResolutions),
    note: inspectorNoteSchema,
  }),
  entityId: findingIdOf,
});

export const findingReopened = defineEvent({
  type: 'FindingReopened',
  version: 1,
  context: 'audit',
  entity: 'finding',
  description: 'An inspector reopened a closed finding (e.g. the rectification did not hold).',
  data: z.strictObject({
    findingId: entityIdSchema,
    note: inspectorNoteSchema,
  }),
  entityId: findingIdOf,
});
