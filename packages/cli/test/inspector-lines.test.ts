import { factsOf, notChinese } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import { checkLine } from '../src/commands/check';
import { findingLine, findingLines, stepRecorded } from '../src/commands/findings';
import { runSummary } from '../src/commands/rules';
import { runCli } from './run-cli';

/**
 * What `findings`, `rules` and `check` print for the inspector (0135): Chinese words, ids, dates and
 * 元 as they are. The commands themselves run against a real audit-api in audit-api's county test.
 */
const chinese = (line: string, facts: readonly unknown[]) => notChinese(line, factsOf(facts));

describe('findings', () => {
  const finding = {
    findingId: 'idle_funds-1-0a1b2c3d',
    ruleId: 'idle_funds',
    ruleVersion: 1,
    severity: 'high',
    status: 'open',
    raisedOn: '2026-11-23',
    summary: '资金滞留：财农〔2024〕33号 的 200,000.00 元在账户 PRJ-ROAD 中闲置 959 天。',
    recoveredFen: '0',
  };

  it('lists a finding with its status and severity in words: 待复核, 高', () => {
    const line = findingLine(finding);
    expect(line).toBe(`idle_funds-1-0a1b2c3d  待复核  高  2026-11-23  ${finding.summary}`);
    expect(
      chinese(line, [finding.findingId, finding.raisedOn, 'PRJ-ROAD', '财农〔2024〕33号']),
    ).toBeUndefined();
    expect(findingLine({ ...finding, status: 'closed', severity: 'low' })).toContain('  已销号  低  ');
  });

  it('shows one finding line by line, every step in the inspector’s words', () => {
    const lines = findingLines({
      ...finding,
      status: 'closed',
      reviewOutcome: 'confirmed',
      resolution: 'rectified',
      recoveredFen: '12345600',
      closedOn: '2026-11-30',
      subjects: [{ context: 'ledger', partition: '411325', entity: 'account', id: 'PRJ-ROAD' }],
      evidence: [{ stream: 'LEDGER_411325', seq: 12, type: 'TrancheCredited' }],
      history: [
        { seq: 1, type: 'FindingRaised', recordedAt: '2026-11-23T02:00:00Z', actor: 'rules' },
        { seq: 2, type: 'FindingReviewed', recordedAt: '2026-11-24T02:00:00Z', actor: 'inspector-1' },
      ],
    });
    expect(lines).toContain('  状态：已销号');
    expect(lines).toContain('  复核结论：属实');
    expect(lines).toContain('  销号方式：已整改');
    expect(lines).toContain('  追回金额：123,456.00 元');
    expect(lines).toContain('  涉及：账户 PRJ-ROAD（411325）');
    const ids = [
      finding.findingId,
      'idle_funds@1',
      'PRJ-ROAD',
      '财农〔2024〕33号',
      'LEDGER_411325',
      'TrancheCredited',
      'FindingRaised',
      'FindingReviewed',
      '2026-11-23T02:00:00Z',
      '2026-11-24T02:00:00Z',
      'inspector-1',
      'rules',
    ];
    for (const line of lines.slice(1)) expect(chinese(line, ids)).toBeUndefined();
  });

  it('says which step was recorded, and that a repeat recorded nothing', () => {
    const done = stepRecorded('review', finding.findingId, '411325', { seq: 7, duplicate: false });
    expect(done).toBe('复核已记录：预警 idle_funds-1-0a1b2c3d，AUDIT_411325 第 7 条');
    expect(chinese(done, [finding.findingId, 'AUDIT_411325', 7])).toBeUndefined();
    expect(stepRecorded('close', finding.findingId, '411325', { seq: 7, duplicate: true })).toMatch(
      /^销号此前已记录，本次未重复记录：/,
    );
  });
});

describe('rules run', () => {
  it('counts the warnings found, new and raised before', () => {
    const line = runSummary(2, 2, 0, false);
    expect(line).toBe('共发现 2 条预警：本次新记录 2 条，此前已记录 0 条');
    expect(chinese(line, [2, 0])).toBeUndefined();
    expect(chinese(runSummary(3, 0, 1, true), [3, 1])).toBeUndefined();
  });
});

describe('check', () => {
  it('says each check passed or not, and what it asserts, in Chinese', () => {
    const line = checkLine({ name: 'payments_rooted', rule: 'every payment …', violations: 2 });
    expect(line).toBe(
      '不通过 payments_rooted：每笔补贴发放沿每条来源路径都能追溯到一笔源头资金下达（2 处违反）',
    );
    expect(chinese(line, ['payments_rooted', 2])).toBeUndefined();
  });
});

describe('a service that does not answer', () => {
  it('says in Chinese which one could not be reached, the system’s reason and the code after it', async () => {
    // Port 9 (discard) answers nothing.
    const run = await runCli([
      'trace',
      'household',
      '411325',
      'H1',
      '--url',
      'http://127.0.0.1:9',
      '--token',
      'x',
    ]);
    expect(run.code).toBe(3);
    const said = run.stderr.trimEnd();
    const reason = /^无法连接 http:\/\/127\.0\.0\.1:9：(.+)（unreachable）$/.exec(said);
    expect(reason, said).not.toBeNull();
    expect(notChinese(said, ['http://127.0.0.1:9', reason![1]!, 'unreachable'])).toBeUndefined();
  });
});
