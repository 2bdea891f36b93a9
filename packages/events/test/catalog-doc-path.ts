import { fileURLToPath } from 'node:url';

/** docs/events.md at the repository root. */
export const catalogDocPath = fileURLToPath(new URL('../../../docs/events.md', import.meta.url));
