/**
 * The test rig's configuration, read once from the environment (docs/CONVENTIONS.md).
 * Tests run against the machine's services by default.
 */
export const testConfig = Object.freeze({
  /** Any database on the server where test databases are created (its name is replaced). */
  databaseServerUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: process.env.NATS_URL || 'nats://127.0.0.1:4222',
  /** Where private servers look for nats-server when it is not on PATH. */
  natsServerFallback: '/usr/sbin/nats-server',
  /** Where the PostgreSQL 15 server binaries live on Debian. */
  postgresBinDir: process.env.FUNDTRACE_PG_BIN || '/usr/lib/postgresql/15/bin',
});
