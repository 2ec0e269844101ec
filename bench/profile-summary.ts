/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: the hottest functions
 * by self time, and self and inclusive time per area (an npm package, node internals, src/...).
 * Usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Areas grouped into the layers a webhook or a GetBalance call goes through. */
const LAYERS: [string, RegExp][] = [
  ['start-up: module loading, tsx', /^(node:modules|node:deps|node:bootstrap|node:source_map|node:fs|tsx|esbuild|wasm)/],
  ['gRPC (grpc-js, http2, protobufjs)', /^(@grpc\/|node:http2|protobufjs|@protobufjs\/)/],
  ['HTTP (node http, express, body-parser)', /^(node:_http|node:http$|express|router|body-parser|raw-body|on-finished|finalhandler|type-is|content-type|iconv-lite|parseurl|etag)/],
  ['MikroORM, knex, pg', /^(@mikro-orm\/|knex|pg|pg-protocol|tarn|lodash|pg-types|postgres-|dataloader)/],
  ['Stripe signature, crypto', /^(stripe|node:crypto)/],
  ['metrics (prom-client)', /^(prom-client|tdigest|bintrees)/],
  ['logging (pino)', /^(pino|sonic-boom|fast-redact|@pinojs\/|quick-format-unescaped|safe-stable-stringify|thread-stream)/],
  ['validation (zod)', /^zod/],
  ['our code (src/; includes JSON.parse it calls)', /^src\//],
  ['garbage collector', /^\(garbage collector\)/],
  ['promises, async hooks, streams, events, timers', /^(node:async_hooks|node:process|node:streams|node:events|node:stream_base_commons|node:timers|node:net|node:buffer|node:util|node:perf)/],
  ['native: syscalls (socket writes count the wait when the cores are saturated)', /^node internals \/ native/],
];

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  layers: { layer: string; ms: number; share: number }[];
  functions: { name: string; selfMs: number; share: number }[];
  areasSelf: { area: string; ms: number; share: number }[];
  areasInclusive: { area: string; ms: number; share: number }[];
}

/** Which package or part of the program a frame belongs to. */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : 'node internals / native';
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node:${parts[0] === 'internal' && parts.length > 1 ? parts[1]!.replace(/\.js$/, '') : parts[0]}`;
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1).replace(/^file:\/\//, '');
  return url.replace(/^file:\/\//, '');
}

export function summariseProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

  let totalUs = 0;
  let idleUs = 0;
  const functions = new Map<string, number>();
  const areasSelf = new Map<string, number>();
  const areasInclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    totalUs += us;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const area = areaOf(url, functionName);
    const name = `${functionName || '(anonymous)'} ${area}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    areasSelf.set(area, (areasSelf.get(area) ?? 0) + us);
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const frame = byId.get(current)!.callFrame;
      const frameArea = areaOf(frame.url, frame.functionName);
      if (frame.functionName === '(root)' || seen.has(frameArea)) continue;
      seen.add(frameArea);
      areasInclusive.set(frameArea, (areasInclusive.get(frameArea) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const layers = new Map<string, number>();
  for (const [area, us] of areasSelf) {
    const layer = LAYERS.find(([, pattern]) => pattern.test(area))?.[0] ?? 'other';
    layers.set(layer, (layers.get(layer) ?? 0) + us);
  }
  const rank = (map: Map<string, number>, limit = top) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([key, us]) => ({ key, ms: Math.round(us / 100) / 10, share: Math.round((us / busyUs) * 1000) / 10 }));
  return {
    totalMs: Math.round(totalUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    layers: rank(layers, LAYERS.length + 1).map(({ key, ms, share }) => ({ layer: key, ms, share })),
    functions: rank(functions).map(({ key, ms, share }) => ({ name: key, selfMs: ms, share })),
    areasSelf: rank(areasSelf).map(({ key, ms, share }) => ({ area: key, ms, share })),
    areasInclusive: rank(areasInclusive).map(({ key, ms, share }) => ({ area: key, ms, share })),
  };
}

export function renderProfileSummary(title: string, summary: ProfileSummary): string {
  const lines = [`${title}: ${summary.totalMs} ms sampled, ${summary.idleMs} ms idle; shares are of busy time`];
  lines.push('  self time by layer:');
  for (const row of summary.layers) lines.push(`    ${row.share.toFixed(1).padStart(5)}%  ${row.layer}`);
  lines.push('  self time by area:');
  for (const row of summary.areasSelf.slice(0, 12)) lines.push(`    ${row.share.toFixed(1).padStart(5)}%  ${row.area}`);
  lines.push('  inclusive time by area (time with that area on the stack):');
  for (const row of summary.areasInclusive.slice(0, 15)) lines.push(`    ${row.share.toFixed(1).padStart(5)}%  ${row.area}`);
  lines.push('  hottest functions (self):');
  for (const row of summary.functions) lines.push(`    ${row.share.toFixed(1).padStart(5)}%  ${row.name}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  console.log(renderProfileSummary(file, summariseProfile(profile, Number(top ?? 25))));
}
