/** Writes the generated schema files (services/schema/*.json); `make schema`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths.js';
import { GENERATED_SCHEMA_FILES, renderSchemaFile } from '../services/shared/event-schema.js';

for (const [path, make] of Object.entries(GENERATED_SCHEMA_FILES)) {
  writeFileSync(join(repoRoot(), path), renderSchemaFile(make));
  console.log(`wrote ${path}`);
}
