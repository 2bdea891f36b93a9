// Rewrites docs/events.md from the catalogue. Run: pnpm --filter @fundtrace/events run catalog-doc
import { writeFileSync } from 'node:fs';
import { catalog } from '../src/catalog';
import { renderCatalogDoc } from '../src/catalog-doc';
import { catalogDocPath } from '../test/catalog-doc-path';

writeFileSync(catalogDocPath, renderCatalogDoc(catalog));
console.log(`wrote ${catalogDocPath}`);
