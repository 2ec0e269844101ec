// Writes docs/api/index.html and docs/api/openapi.json: the page and document the edge serves at
// /docs and /openapi.json, generated from the edge's zod schemas and the proto's comments.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEBHOOK_PATHS } from '../src/edge/app.js';
import { API_DOCS_FILES, buildApiDocs } from '../src/edge/docs-page.js';
import { API_DOCS_DIR } from '../src/paths.js';

const docs = buildApiDocs(WEBHOOK_PATHS);
mkdirSync(API_DOCS_DIR, { recursive: true });
writeFileSync(join(API_DOCS_DIR, API_DOCS_FILES.html), docs.html);
writeFileSync(join(API_DOCS_DIR, API_DOCS_FILES.openapiJson), docs.openapiJson);
console.log(`wrote ${API_DOCS_DIR}/{${API_DOCS_FILES.html},${API_DOCS_FILES.openapiJson}}`);
