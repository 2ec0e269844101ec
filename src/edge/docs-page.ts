import { status as grpcStatus } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY, ERROR_CODES, type ErrorCode } from '../contract/error-codes.js';
import { CreditsCallError } from './credits-gateway.js';
import { answerForError } from './http-answers.js';
import { buildOpenApiDocument, type JsonSchema, type OpenApiDocument, type OpenApiOperation, type OpenApiResponse } from './openapi.js';
import { loadProtoDocs, type ProtoDocs, type ProtoEnum, type ProtoMessage, type ProtoService } from './proto-docs.js';

/** HTML that is safe as it is; everything else interpolated into `html` is escaped. */
class Html {
  constructor(readonly text: string) {}
}

type Content = Html | string | number | null | undefined | false | readonly Content[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

function toHtml(content: Content): string {
  if (content instanceof Html) return content.text;
  if (Array.isArray(content)) return content.map(toHtml).join('');
  if (content === null || content === undefined || content === false) return '';
  return escapeHtml(String(content));
}

function html(strings: TemplateStringsArray, ...values: Content[]): Html {
  return new Html(strings.reduce((out, text, i) => out + text + (i < values.length ? toHtml(values[i]) : ''), ''));
}

/** Escaped first, so backticks can only ever wrap escaped text in <code>. */
const inline = (text: string): Html => new Html(escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>'));

/** Comments and descriptions: paragraphs, `- ` lists and `code`; wrapped lines are joined. */
function prose(text: string | undefined): Html {
  const blocks = (text ?? '').trim().split(/\n\s*\n/).filter(Boolean);
  return html`${blocks.map((block) => {
    const lines = block.split('\n').map((line) => line.trim());
    if (lines.every((line) => line.startsWith('- '))) return html`<ul>${lines.map((line) => html`<li>${inline(line.slice(2))}</li>`)}</ul>`;
    return html`<p>${inline(lines.join(' '))}</p>`;
  })}`;
}

const anchor = (...parts: string[]): string => parts.join('-').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

// ---- the webhook API, from the OpenAPI document

const schemaName = (schema: JsonSchema): string | undefined =>
  typeof schema.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : undefined;

function typeLabel(schema: JsonSchema): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  const limits = [typeof schema.minimum === 'number' ? `≥ ${schema.minimum}` : '', schema.minLength === 1 ? 'non-empty' : ''].filter(Boolean);
  return `${String(schema.type ?? 'any')}${limits.length > 0 ? ` (${limits.join(', ')})` : ''}`;
}

interface SchemaRow {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

function schemaRows(schema: JsonSchema, prefix = ''): SchemaRow[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(properties).flatMap(([key, property]) => {
    const row = { name: `${prefix}${key}`, type: typeLabel(property), required: required.has(key), description: String(property.description ?? '') };
    const nested = Object.keys(property.properties ?? {}).length > 0 ? schemaRows(property, `${row.name}.`) : [];
    return [row, ...nested];
  });
}

function schemaTable(schema: JsonSchema): Html {
  return html`<table class="fields"><thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>${schemaRows(schema).map(
    (row) => html`<tr><td><code>${row.name}</code></td><td>${row.type.split(' | ').map((type, i) => html`${i > 0 ? ' | ' : ''}<code class="nowrap">${type}</code>`)}</td><td>${row.required ? 'yes' : 'no'}</td><td>${inline(row.description)}</td></tr>`,
  )}</tbody></table>`;
}

const schemaLink = (schema: JsonSchema): Html => {
  const name = schemaName(schema);
  return name ? html`<a href="#${anchor('schema', name)}">${name}</a>` : html`<code>${typeLabel(schema)}</code>`;
};

function answerOf(value: unknown): Html {
  const body = value as { error?: { code?: string }; outcome?: string; reason?: string };
  if (body.error?.code) return html`<code>${body.error.code}</code>`;
  if (body.outcome) return html`<code>${body.outcome}</code>${body.reason ? html` <span class="muted">(${body.reason})</span>` : ''}`;
  return html`<code>${JSON.stringify(value)}</code>`;
}

function responseRows(status: string, response: OpenApiResponse, stripeColumn: boolean): Html {
  const [mediaType, media] = Object.entries(response.content ?? {})[0] ?? [];
  const examples = Object.values(media?.examples ?? {});
  const rows =
    examples.length > 0
      ? examples.map((example) => ({ answer: answerOf(example.value), when: example.summary }))
      : [{ answer: media ? html`${schemaLink(media.schema)} <span class="muted">${mediaType}</span>` : html`—`, when: response.description }];
  const retries = response['x-stripe-retries'];
  const stripe = retries === undefined ? '—' : retries ? 'retries' : 'done';
  return html`${rows.map(
    (row, i) => html`<tr class="${i === 0 ? 'first' : ''}">${
      i === 0
        ? html`<td rowspan="${rows.length}" class="status s${status.charAt(0)}"><strong>${status}</strong>${examples.length > 0 ? html`<div class="muted">${inline(response.description)}</div>` : ''}</td>`
        : ''
    }<td>${row.answer}</td><td>${inline(row.when)}</td>${stripeColumn && i === 0 ? html`<td rowspan="${rows.length}" class="stripe ${stripe}">${stripe}</td>` : ''}</tr>`,
  )}`;
}

function renderOperation(path: string, method: string, operation: OpenApiOperation): Html {
  const id = anchor('op', method, path);
  const title = html`<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>`;
  const aliasOf = operation['x-alias-of'];
  if (aliasOf) {
    return html`<article class="operation alias" id="${id}">${title}<p>Alias of <a href="#${anchor('op', method, aliasOf)}">${method.toUpperCase()} ${aliasOf}</a>.</p>${prose(operation.description)}</article>`;
  }
  const stripeColumn = Object.values(operation.responses).some((response) => response['x-stripe-retries'] !== undefined);
  const parameters = operation.parameters ?? [];
  const body = operation.requestBody;
  const bodySchema = body ? Object.values(body.content)[0]?.schema : undefined;
  return html`<article class="operation" id="${id}">${title}
<p class="summary">${operation.summary}</p>${prose(operation.description)}
${parameters.length > 0 ? html`<h4>Headers</h4><table class="fields"><thead><tr><th>Header</th><th>Required</th><th>Description</th></tr></thead><tbody>${parameters.map(
    (parameter) => html`<tr><td><code>${parameter.name}</code></td><td>${parameter.required ? 'yes' : 'no'}</td><td>${inline(parameter.description)}${parameter.example ? html`<div class="muted">e.g. <code>${parameter.example}</code></div>` : ''}</td></tr>`,
  )}</tbody></table>` : ''}
${body && bodySchema ? html`<h4>Request body: ${schemaLink(bodySchema)}</h4>${prose(body.description)}` : ''}
<h4>Responses</h4>
<table class="responses"><thead><tr><th>Status</th><th>Answer</th><th>When</th>${stripeColumn ? html`<th>Stripe then</th>` : ''}</tr></thead><tbody>${Object.entries(operation.responses).map(([status, response]) => responseRows(status, response, stripeColumn))}</tbody></table>
</article>`;
}

function renderSchemas(openapi: OpenApiDocument): Html {
  return html`${Object.entries(openapi.components.schemas).map(
    ([name, schema]) => html`<article class="schema" id="${anchor('schema', name)}"><h3>${name}</h3>${prose(String(schema.description ?? ''))}${schemaTable(schema)}</article>`,
  )}`;
}

function renderOperations(openapi: OpenApiDocument, tag: string): Html {
  return html`${Object.entries(openapi.paths).flatMap(([path, item]) =>
    (['post', 'get'] as const).flatMap((method) => {
      const operation = item[method];
      return operation?.tags.includes(tag) ? [renderOperation(path, method, operation)] : [];
    }),
  )}`;
}

// ---- the gRPC contract, from the proto

const typeLink = (type: string, typeRef: string | undefined): Html => (typeRef ? html`<a href="#${anchor('proto', typeRef)}"><code>${type}</code></a>` : html`<code>${type}</code>`);
const shortName = (fullName: string): string => fullName.slice(fullName.lastIndexOf('.') + 1);

function renderService(service: ProtoService): Html {
  return html`<article class="service" id="${anchor('proto', service.fullName)}"><h3>service <code>${service.fullName}</code></h3>${prose(service.comment)}
${service.methods.map(
  (method) => html`<section class="rpc" id="${anchor('rpc', service.fullName, method.name)}"><h4>rpc <code>${method.name}</code>(${method.requestStream ? 'stream ' : ''}${typeLink(shortName(method.request), method.request)}) returns (${method.responseStream ? 'stream ' : ''}${typeLink(shortName(method.response), method.response)})</h4>${prose(method.comment)}</section>`,
)}</article>`;
}

function renderMessage(message: ProtoMessage): Html {
  return html`<article class="message" id="${anchor('proto', message.fullName)}"><h4>message <code>${message.name}</code></h4>${prose(message.comment)}
<table class="fields"><thead><tr><th>#</th><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>${message.fields.map(
    (field) => html`<tr><td class="num">${field.number}</td><td><code>${field.name}</code></td><td>${typeLink(field.type, field.typeRef)}</td><td>${inline(field.comment)}</td></tr>`,
  )}</tbody></table></article>`;
}

function renderEnum(protoEnum: ProtoEnum): Html {
  return html`<article class="enum" id="${anchor('proto', protoEnum.fullName)}"><h4>enum <code>${protoEnum.name}</code></h4>${prose(protoEnum.comment)}
<table class="fields"><thead><tr><th>#</th><th>Value</th><th>Description</th></tr></thead><tbody>${protoEnum.values.map(
    (value) => html`<tr><td class="num">${value.number}</td><td><code>${value.name}</code></td><td>${inline(value.comment || (value.number === 0 ? 'Not set.' : ''))}</td></tr>`,
  )}</tbody></table></article>`;
}

const ERROR_MEANINGS: Record<ErrorCode, string> = {
  IDENTIFIER_PLACEHOLDER: 'The identifier is a placeholder (empty, `null`, `undefined`, `<user_id>`, `{{email}}`, …), not a value.',
  IDENTIFIER_INVALID: 'The identifier is not an email, a UUID or an integer id between 1 and 2^63-1.',
  REQUEST_INVALID:
    'The request is malformed; the message names the field, e.g. `event_json` is not the event `event_id` names, `amount` is not positive, `idempotency_key` is missing, `page_token` was not issued for this identifier.',
  USER_NOT_FOUND: 'No user matches the identifier.',
  STRIPE_SIGNATURE_INVALID: 'CreditsService has STRIPE_WEBHOOK_SECRET and `stripe_signature` is missing, stale or not a signature of `event_json` by one of its secrets: nothing is applied.',
  INSUFFICIENT_CREDITS: 'The user has fewer available credits (balance − held) than the operation takes; nothing was written.',
  IDEMPOTENCY_KEY_REUSED: 'The `idempotency_key` was used before for another user or another amount; nothing was written. Use a new key for a new operation.',
  RESERVATION_NOT_FOUND: 'No reservation has that `reservation_id`.',
  RESERVATION_RELEASED: 'The reservation was released, so it cannot be captured; nothing was taken.',
  RESERVATION_EXPIRED: 'The reservation expired (its `expire_time` passed while held), so it cannot be captured; nothing was taken.',
  RESERVATION_CAPTURED: 'The reservation was captured, so it cannot be released; its credits were taken.',
  AUTH_TOKEN_MISSING: 'No `authorization: Bearer <token>` metadata.',
  AUTH_TOKEN_INVALID: 'The bearer token is none of the tokens CreditsService accepts (`CREDITS_API_TOKENS`, `CREDITS_API_TOKEN`).',
  SCOPE_MISSING: 'The token is valid but lacks the scope the method needs (`credits:read`, `credits:spend` or `stripe:apply`).',
  REQUEST_TOO_LARGE: 'The request message is larger than the method accepts (64 KiB; 2 MiB for ApplyCheckout).',
  DATABASE_UNAVAILABLE: 'The database cannot be reached; retry later.',
  SHUTTING_DOWN: 'The server is shutting down; retry, on another replica if there is one.',
  TRANSACTION_CONFLICT: 'The transaction lost a race with another; retry.',
  DEADLINE_EXCEEDED: 'The call’s deadline passed before it started, or a database statement timed out.',
  INTERNAL: 'An unexpected failure; the details are in the server’s logs.',
};

function renderErrorCodes(): Html {
  const rows = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => {
    const statusName = ERROR_CODES[code].toUpperCase();
    // What the edge answers Stripe when ApplyCheckout fails with this code: the edge's own mapping says it.
    const answer = answerForError(new CreditsCallError(grpcStatus[statusName as keyof typeof grpcStatus], code, ''));
    const edgeCode = 'error' in answer.body ? answer.body.error.code : '';
    return html`<tr><td><code>${code}</code></td><td><code>${statusName}</code></td><td>${answer.status} <code>${edgeCode}</code></td><td>${inline(ERROR_MEANINGS[code])}</td></tr>`;
  });
  return html`<table class="fields"><thead><tr><th>Code</th><th>gRPC status</th><th>Edge answers Stripe</th><th>Meaning</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// ---- the page

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --line: #d1d9e0; --link: #0969da;
  --get: #1a7f37; --post: #0550ae; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --line: #3d444d; --link: #4493f8;
  --get: #3fb950; --post: #58a6ff; --ok: #3fb950; --warn: #d29922; --bad: #f85149; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif; }
header, main, nav { max-width: 76rem; margin: 0 auto; padding: 0 1.5rem; }
header { padding-top: 2rem; }
h1 { font-size: 2rem; margin: 0 0 .25rem; }
h2 { font-size: 1.5rem; margin: 2.5rem 0 1rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.2rem; margin: 1.75rem 0 .5rem; }
h4 { font-size: 1rem; margin: 1.25rem 0 .4rem; }
p, ul { margin: .4rem 0 .8rem; }
a { color: var(--link); text-decoration: none; } a:hover { text-decoration: underline; }
code { font: .88em/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: .05em .3em; overflow-wrap: break-word; }
td:first-child > code, code.nowrap { white-space: nowrap; }
h3 code, h4 code { font-size: .95em; }
nav ul { display: flex; flex-wrap: wrap; gap: .4rem 1.25rem; list-style: none; padding: .75rem 1rem; margin: 1rem 0; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
.muted { color: var(--muted); font-size: .9em; }
.operation, .service, .schema, .message, .enum { border: 1px solid var(--line); border-radius: 8px; padding: .25rem 1.25rem 1rem; margin: 1rem 0 1.5rem; }
.operation.alias { padding-bottom: .25rem; }
.summary { font-weight: 600; }
.method { display: inline-block; min-width: 3.6rem; text-align: center; color: #fff; border-radius: 4px; padding: .1rem .5rem; font-size: .85rem; letter-spacing: .03em; vertical-align: middle; }
.method.get { background: var(--get); } .method.post { background: var(--post); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .94rem; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border: 1px solid var(--line); }
th { background: var(--panel); font-weight: 600; }
td.num { text-align: right; width: 2.5rem; color: var(--muted); }
td.status { width: 12rem; } td.status strong { font-size: 1.05rem; }
td.s2 strong { color: var(--ok); } td.s4 strong { color: var(--warn); } td.s5 strong { color: var(--bad); }
td.stripe { width: 6.5rem; font-weight: 600; } td.stripe.done { color: var(--ok); } td.stripe.retries { color: var(--warn); }
tr.first td { border-top-width: 2px; }
footer { max-width: 76rem; margin: 3rem auto 2rem; padding: 0 1.5rem; color: var(--muted); font-size: .9rem; }
`;

/** One self-contained page: inline CSS, no scripts, nothing fetched from anywhere. */
export function renderDocsPage(openapi: OpenApiDocument, proto: ProtoDocs): string {
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Credits service API</title><style>${new Html(STYLE)}</style></head>
<body>
<header><h1>Credits service API</h1>
<p class="muted">The webhook API (OpenAPI ${openapi.openapi}, machine-readable at <a href="openapi.json">/openapi.json</a>), generated from the zod schemas the edge validates and answers with, and the gRPC contract of CreditsService, read from the comments in <code>${proto.file}</code>.</p></header>
<nav><ul>
<li><a href="#webhook-api">Stripe webhook</a></li><li><a href="#operations">Operations</a></li><li><a href="#schemas">Schemas</a></li>
<li><a href="#grpc">gRPC contract</a></li><li><a href="#messages">Messages</a></li><li><a href="#enums">Enums</a></li><li><a href="#error-codes">Error codes</a></li>
</ul></nav>
<main>
<section id="webhook-api"><h2>Stripe webhook</h2>${prose(openapi.info.description)}${renderOperations(openapi, 'Stripe webhook')}</section>
<section id="operations"><h2>Operations</h2>${renderOperations(openapi, 'Operations')}${renderOperations(openapi, 'Documentation')}</section>
<section id="schemas"><h2>Schemas</h2>${renderSchemas(openapi)}</section>
<section id="grpc"><h2>gRPC contract</h2>
<p>int64 fields travel as decimal strings in this project's clients (proto-loader <code>longs: String</code>), and enums as their names. The server also serves <code>grpc.health.v1.Health</code> and server reflection.</p>
${proto.services.map(renderService)}</section>
<section id="messages"><h2>Messages</h2>${proto.messages.map(renderMessage)}</section>
<section id="enums"><h2>Enums</h2>${proto.enums.map(renderEnum)}</section>
<section id="error-codes"><h2>Error codes</h2>
<p>A failed CreditsService call carries a stable code in the trailing metadata key <code>${ERROR_CODE_METADATA_KEY}</code>. Codes are never renamed.</p>
${renderErrorCodes()}</section>
</main>
<footer>Generated at build time by <code>npm run generate:api-docs</code>.</footer>
</body></html>
`;
  return page.text;
}

export interface ApiDocs {
  openapi: OpenApiDocument;
  openapiJson: string;
  html: string;
}

/** Everything /openapi.json and /docs serve; written to docs/api/ at build time by scripts/generate-api-docs.ts. */
export function buildApiDocs(webhookPaths: readonly string[]): ApiDocs {
  const openapi = buildOpenApiDocument(webhookPaths);
  return { openapi, openapiJson: `${JSON.stringify(openapi, null, 2)}\n`, html: renderDocsPage(openapi, loadProtoDocs()) };
}

export const API_DOCS_FILES = { html: 'index.html', openapiJson: 'openapi.json' } as const;

/** The page needs nothing but its own inline styles; the policy makes sure of it. */
export const DOCS_PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};
