import { loadOrCreateDevSecrets } from '@fundtrace/devstack';
import { signToken, type TokenClaims } from '@fundtrace/service-kit';
import { Command, Option } from 'commander';
import { dataDir, UsageError } from '../context';

/** `fundtrace token`: signs a bearer token for a role and its partitions (development and operators). */
export function tokenCommand(): Command {
  return new Command('token')
    .description(
      'sign a bearer token (uses JWT_SECRET, or the development secret in .data/secrets.json or $FUNDTRACE_DATA_DIR)',
    )
    .addOption(
      new Option('--role <role>', 'role').choices(['finance', 'registry', 'inspector']).makeOptionMandatory(),
    )
    .option('--partition <codes...>', 'administrative codes the holder may act on ("*" for all)', ['*'])
    .option('--sub <user>', 'user id', 'cli-user')
    .option('--org <org>', 'organisation', 'fundtrace')
    .option('--ttl <ttl>', 'lifetime: seconds, or with a unit (30m, 8h, 7d)', '8h')
    .action(async (options: { role: string; partition: string[]; sub: string; org: string; ttl: string }) => {
      const secret = process.env.JWT_SECRET ?? loadOrCreateDevSecrets(dataDir()).JWT_SECRET;
      const token = await signToken(
        secret,
        {
          sub: options.sub,
          role: options.role as TokenClaims['role'],
          org: options.org,
          partitions: options.partition,
        },
        parseDuration(options.ttl),
      );
      process.stdout.write(`${token}\n`);
    });
}

const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90", "30m", "8h", "7d" → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`--ttl must be seconds or a number with s, m, h or d (got "${text}")`);
  return Number(match[1]) * unitSeconds[match[2] || 's']!;
}
