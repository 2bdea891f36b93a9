import { adminCodeSchema, clientIdSchema } from '@fundtrace/events';
import { findRule, latestRules, type Rule, ruleSet } from '@fundtrace/rules';
import { type App, currentUser, errorResponseSchema, Rejection, requireRole } from '@fundtrace/service-kit';
import { z } from 'zod';
import type { RuleRunner } from '../rules/runner';
import { auditRejections, fenSchema } from './shared';

const ruleRefSchema = z.object({ id: z.string().max(64), version: z.number().int().min(1).optional() });

const runBodySchema = z.strictObject({
  partition: adminCodeSchema,
  asOf: z.iso.date().optional(),
  rules: z.array(ruleRefSchema).max(100).optional(),
  dryRun: z.boolean().default(false),
  correlationId: clientIdSchema.optional(),
});

export function ruleRoutes(app: App, runner: RuleRunner, today: () => string): void {
  app.get(
    '/v1/rules',
    {
      onRequest: requireRole(['inspector']),
      schema: {
        summary: 'Every rule version (预警规则) with its description and default parameters',
        tags: ['rules'],
        security: [{ bearerAuth: [] }],
        response: {
          200: z.object({
            rules: z.array(
              z.object({
                id: z.string(),
                version: z.number().int(),
                latest: z.boolean(),
                description: z.string(),
                defaults: z.record(z.string(), z.string()),
              }),
            ),
          }),
        },
      },
    },
    async () => {
      const latest = new Set(latestRules().map((r) => `${r.id}@${r.version}`));
      return {
        rules: ruleSet.map((r) => ({
          id: r.id,
          version: r.version,
          latest: latest.has(`${r.id}@${r.version}`),
          description: r.description,
          defaults: Object.fromEntries(Object.entries(r.defaults as object).map(([k, v]) => [k, String(v)])),
        })),
      };
    },
  );

  app.post(
    '/v1/rules/run',
    {
      onRequest: requireRole(['inspector']),
      // A dry run reads the books and the writer's memory and appends nothing: it keeps answering
      // while NATS is away; a real run raises findings, so it is refused then like any command.
      // Asked after validation, so the body is the parsed one (dryRun defaulted).
      config: { natsOptional: (request) => (request.body as z.output<typeof runBodySchema>).dryRun },
      schema: {
        summary:
          'Run the rules over a partition now (as of a business date; default today) and raise the findings not yet raised. A re-run of a rule version over the same data raises nothing new.',
        tags: ['rules'],
        security: [{ bearerAuth: [] }],
        body: runBodySchema,
        response: {
          200: z.object({
            partition: z.string(),
            asOf: z.string(),
            dryRun: z.boolean(),
            rules: z.array(z.object({ id: z.string(), version: z.number().int() })),
            raised: z.array(z.object({ findingId: z.string(), seq: z.number().int() })),
            known: z.array(z.string()),
            findings: z.array(
              z.object({
                findingId: z.string(),
                ruleId: z.string(),
                ruleVersion: z.number().int(),
                severity: z.string(),
                summary: z.string(),
                amounts: z.array(z.object({ label: z.string(), amountFen: fenSchema })),
                evidence: z.array(z.object({ stream: z.string(), seq: z.number().int(), type: z.string() })),
              }),
            ),
          }),
          403: errorResponseSchema,
          404: errorResponseSchema,
          422: errorResponseSchema,
          503: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const body = request.body;
      const user = currentUser(request);
      if (!user.partitions.includes('*') && !user.partitions.includes(body.partition)) {
        throw new Rejection(
          'forbidden',
          `Partition ${body.partition} is outside your scope`,
          { partition: body.partition },
          403,
        );
      }
      if (!runner.serves(body.partition)) {
        throw auditRejections.reject(
          'partition_not_served',
          `This audit-api does not write AUDIT_${body.partition}`,
          {
            partition: body.partition,
          },
        );
      }
      let rules: Rule<never>[] | undefined;
      if (body.rules !== undefined) {
        rules = body.rules.map((ref) => {
          const rule = findRule(ref.id, ref.version);
          if (rule === undefined) {
            throw auditRejections.reject(
              'unknown_rule',
              `No rule ${ref.id}${ref.version ? ` v${ref.version}` : ''}`,
              { ...ref },
            );
          }
          return rule;
        });
      }
      const asOf = body.asOf ?? today();
      const report = await runner.run({
        partition: body.partition,
        asOf,
        ...(rules === undefined ? {} : { rules }),
        dryRun: body.dryRun,
        correlationId: body.correlationId ?? `rules-run-${body.partition}-${asOf}`,
      });
      return { ...report, dryRun: body.dryRun, findings: [...report.findings] };
    },
  );
}
