/**
 * GET /v1/events of the fake Stripe API: the filters, order and cursor pagination of
 * https://docs.stripe.com/api/events/list, as far as the project uses them.
 */

export interface StoredEvent {
  event: Record<string, unknown> & { id: string; created: number; type: string };
  /** False: still pending or failed for some webhook endpoint (what delivery_success=false lists). */
  delivered: boolean;
  /** Insertion order, the tie-breaker after `created`. */
  seq: number;
}

export interface FakeAnswer {
  status: number;
  body: unknown;
}

const MAX_TYPES = 20;

export const invalidRequest = (status: number, message: string, extra: Record<string, unknown> = {}): FakeAnswer => ({
  status,
  body: { error: { type: 'invalid_request_error', message, ...extra } },
});

const unknownParameter = (param: string) =>
  invalidRequest(400, `Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });

/** The values of an array parameter however it is spelled: `types`, `types[]` or `types[0]` (stripe-node's spelling). */
function arrayParam(params: URLSearchParams, name: string): string[] | undefined {
  const indexed: [number, string][] = [];
  const plain: string[] = [];
  let seen = false;
  for (const [key, value] of params) {
    if (key === name || key === `${name}[]`) {
      plain.push(value);
      seen = true;
      continue;
    }
    const match = /^(.+)\[(\d+)\]$/.exec(key);
    if (match?.[1] === name) {
      indexed.push([Number(match[2]), value]);
      seen = true;
    }
  }
  return seen ? [...indexed.sort(([a], [b]) => a - b).map(([, value]) => value), ...plain] : undefined;
}

type Range = { gt?: number; gte?: number; lt?: number; lte?: number; eq?: number };

function integerParam(value: string): number | undefined {
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Newest first, as Stripe lists: `created` descending, then most recently added first. */
export function newestFirst(events: Iterable<StoredEvent>): StoredEvent[] {
  return [...events].sort((a, b) => b.event.created - a.event.created || b.seq - a.seq);
}

const typePattern = (type: string) => new RegExp(`^${type.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

export function listEvents(events: Iterable<StoredEvent>, params: URLSearchParams): FakeAnswer {
  let limit = 10;
  let startingAfter: string | undefined;
  let deliverySuccess: boolean | undefined;
  let type: string | undefined;
  const created: Range = {};
  for (const [key, value] of params) {
    if (key === 'limit') {
      const n = integerParam(value);
      if (n === undefined || n < 1 || n > 100) return invalidRequest(400, 'This value must be between 1 and 100.', { param: 'limit' });
      limit = n;
    } else if (key === 'starting_after') {
      startingAfter = value;
    } else if (key === 'delivery_success') {
      if (value !== 'true' && value !== 'false') return invalidRequest(400, 'Invalid boolean: ' + value, { param: key });
      deliverySuccess = value === 'true';
    } else if (key === 'type') {
      type = value;
    } else if (key === 'created' || /^created\[(gt|gte|lt|lte)\]$/.test(key)) {
      const n = integerParam(value);
      if (n === undefined) return invalidRequest(400, 'Invalid integer: ' + value, { param: key });
      const op = (key === 'created' ? 'eq' : key.slice('created['.length, -1)) as keyof Range;
      created[op] = n;
    } else if (!/^types(\[\d*\])?$/.test(key)) {
      return unknownParameter(key);
    }
  }
  const types = arrayParam(params, 'types');
  if (types && type !== undefined) return invalidRequest(400, 'You may pass either `type` or `types`, but not both.', { param: 'types' });
  if (types && (types.length === 0 || types.length > MAX_TYPES)) return invalidRequest(400, `types: at most ${MAX_TYPES} event types`, { param: 'types' });

  const all = newestFirst(events);
  let after = all;
  if (startingAfter !== undefined) {
    const index = all.findIndex((stored) => stored.event.id === startingAfter);
    if (index < 0) return invalidRequest(404, `No such event: '${startingAfter}'`, { code: 'resource_missing', param: 'starting_after' });
    after = all.slice(index + 1);
  }
  const pattern = type === undefined ? undefined : typePattern(type);
  const matching = after.filter(({ event, delivered }) => {
    const at = event.created;
    return (
      (!types || types.includes(event.type)) &&
      (!pattern || pattern.test(event.type)) &&
      (deliverySuccess === undefined || delivered === deliverySuccess) &&
      (created.eq === undefined || at === created.eq) &&
      (created.gt === undefined || at > created.gt) &&
      (created.gte === undefined || at >= created.gte) &&
      (created.lt === undefined || at < created.lt) &&
      (created.lte === undefined || at <= created.lte)
    );
  });
  return {
    status: 200,
    body: { object: 'list', data: matching.slice(0, limit).map(({ event }) => event), has_more: matching.length > limit, url: '/v1/events' },
  };
}
