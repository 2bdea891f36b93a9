import { Command, Option } from 'commander';
import { loadOrCreateDevSecrets } from '@fundtrace/devstack';
import { signToken } from '@fundtrace/service-kit';
import { join, resolve } from 'node:path';

/** `fundtrace token`: signs a bearer token for a role and its partitions (development and operators). */
export function tokenCommand(): Command {
  return new Command('token')
    .description('sign a bearer token (uses JWT_SECRET, or the development secret in .data/secrets.json)')
    .addOption(new Option('--role <role>', 'role').choices(['finance', 'registry', 'inspector']).makeOptionMandatory())
    .option('--partition <codes...>', 'administrative codes the holder may act on ("*" for all)', ['*'])
    .option('--sub <user>', 'user id', 'cli-user')
    .option('--org <org>', 'organisation', 'fundtrace')
    .option('--ttl <ttl>', 'lifetime (e.g. 8h, 30m)', '8h')
    .action(async (options: { role: string; partition: string[]; sub: string; org: string; ttl: string }) => {
      const secret =
        process.env.JWT_SECRET ??
        loadOrCreateDevSecrets(join(resolve(import.meta.dirname, '..', '..', '..', '..'), '.data')).JWT_SECRET;
      const token = await signToken(
        secret,
        { sub: options.sub, role: options.role, org: options.org, partitions: options.partition },
        options.ttl,
      );
      process.stdout.write(`${token}\n`);
    });
}
