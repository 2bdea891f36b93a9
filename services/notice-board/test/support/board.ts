import type { App } from '@fundtrace/service-kit';
import { type BuildOptions, buildApp } from '../../src/app';
import { readConfig } from '../../src/config';
import type { CountyFixture } from './county';

/** A notice board over the fixture's books, in process (tests use app.inject). */
export async function boardFor(
  fixture: CountyFixture,
  options: BuildOptions = {},
  env: Record<string, string> = {},
): Promise<App> {
  const config = readConfig({ ...fixture.boardEnv, PORT: '0', ...env });
  return buildApp(config, options);
}
