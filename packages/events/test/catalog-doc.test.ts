import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalog } from '../src';
import { renderCatalogDoc } from '../src/catalog-doc';
import { catalogDocPath } from './catalog-doc-path';

describe('docs/events.md', () => {
  it('is in sync with the catalogue (run `pnpm --filter @fundtrace/events run catalog-doc` when this fails)', () => {
    const rendered = renderCatalogDoc(catalog);
    let onDisk = '';
    try {
      onDisk = readFileSync(catalogDocPath, 'utf8');
    } catch {
      // Missing file: the comparison below fails with the whole expected text.
    }
    expect(onDisk, 'docs/events.md is stale: run `pnpm --filter @fundtrace/events run catalog-doc`').toBe(
      rendered,
    );
  });

  it('lists every type and version with its context, entity and description', () => {
    const doc = renderCatalogDoc(catalog);
    for (const definition of catalog.definitions) {
      expect(doc).toContain(`| [${definition.type}](#${definition.type.toLowerCase()}) |`);
      expect(doc).toContain(definition.description);
    }
    expect(doc).toContain('| [FindingReviewed](#findingreviewed) | v1, v2 | audit | finding |');
    expect(doc).toContain('## FindingReviewed v1 (superseded)');
    expect(doc).toContain('| `recoveredFen` | fen (string of digits) | yes |');
    expect(doc).toContain('| `documentNumber` | string | no |');
  });
});
