import http from 'node:http';

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
}

export interface RawAnswer {
  /** 0 when no answer came: the connection was cut or the client gave up. */
  status: number;
  body: string;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Sends exactly the given method, path, headers and bytes (fetch would normalise some of them)
 * and reads the whole answer. Never throws.
 */
export function sendRaw(baseUrl: string, agent: http.Agent, request: RawRequest, timeoutMs = 60_000): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        agent,
        timeout: timeoutMs,
        headers: { ...request.headers, ...(body && !request.chunked ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: 0, body: '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    if (body && request.chunked) {
      for (let offset = 0; offset < body.length; offset += CHUNK_BYTES) req.write(body.subarray(offset, offset + CHUNK_BYTES));
    }
    req.end(body && !request.chunked ? body : undefined);
  });
}
