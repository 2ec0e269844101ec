import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config';
import { createCreditsClient, type CreditsClientTls } from '../src/grpc/client';
import { createServerTls } from '../src/grpc/tls';
import { createCertificateAuthority, issueCertificate, type KeyAndCertificate } from '../scripts/dev-certificates';
import { makeDevCertificates, type DevCertificateFiles } from '../scripts/make-dev-certs';
import { call, startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { createTestDatabase, type TestDatabase } from './support/database';
import { deliver, startEdge, WEBHOOK_SECRET } from './support/edge-harness';
import { LogAudit } from './support/log-audit';
import { captureLogs } from './support/log-capture';
import { migrateUp } from '../src/db/migrations';
import { initORM } from '../src/db/orm';
import { startCreditsProcess, type CreditsProcess } from './support/service-process';
import { checkoutSession, stripeEvent, stripeId } from './support/stripe-events';

// Certificates are made in the test run, in Node (scripts/dev-certificates.ts): no OpenSSL needed.
let dir: string;
let files: DevCertificateFiles;
let otherCa: KeyAndCertificate;
let otherClient: KeyAndCertificate;
const audit = new LogAudit();
const read = (file: string) => readFileSync(file);

/** Every base64 line of a PEM: none may appear in a log. */
function rememberPem(pem: string): void {
  for (const line of pem.split('\n')) if (/^[A-Za-z0-9+/=]{40,}$/.test(line)) audit.rememberToken(line);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'credits-tls-'));
  files = makeDevCertificates(dir);
  otherCa = createCertificateAuthority('some other CA');
  otherClient = issueCertificate(otherCa, { commonName: 'edge', usage: 'client' });
  for (const file of Object.values(files)) rememberPem(readFileSync(file, 'utf8'));
  rememberPem(otherClient.key);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'tls-test-token-0123456789abcdef0123456789';
audit.rememberToken(TOKEN);

const bearer = () => {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  return metadata;
};

/** GetBalance of an unknown email: NOT_FOUND means the call got through TLS and auth. */
async function probe(address: string, tls: CreditsClientTls | undefined): Promise<string> {
  const client = createCreditsClient(address, { tls, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
  try {
    const result = await call(client, client.GetBalance, { identifier: 'nobody@example.com' }, bearer());
    return result.ok ? 'OK' : `${grpc.status[result.error.code]}${result.errorCode ? ` ${result.errorCode}` : ''}`;
  } finally {
    client.close();
  }
}

describe('TLS', () => {
  let h: CreditsHarness;
  beforeAll(async () => {
    h = await startCreditsHarness({ token: TOKEN, tls: { certFile: files.serverCert, keyFile: files.serverKey } });
    audit.watch('TLS server', h.logs.text);
  });
  afterAll(() => h?.close());

  it('when a client trusts the CA, then its calls go through', async () => {
    expect(await probe(h.address, { ca: read(files.caCert) })).toBe('NOT_FOUND USER_NOT_FOUND');
    expect(h.logs.text()).toContain('"transport":"TLS"');
  });

  it('when a client speaks plaintext, or trusts another CA, then it never reaches the service', async () => {
    expect(await probe(h.address, undefined)).toBe('UNAVAILABLE');
    expect(await probe(h.address, { ca: Buffer.from(otherCa.cert) })).toBe('UNAVAILABLE');
  });
});

describe('mutual TLS', () => {
  let h: CreditsHarness;
  beforeAll(async () => {
    h = await startCreditsHarness({
      token: TOKEN,
      tls: { certFile: files.serverCert, keyFile: files.serverKey, clientCaFile: files.caCert },
    });
    audit.watch('mTLS server', h.logs.text);
  });
  afterAll(() => h?.close());

  it('when a client presents a certificate from the CA, then its calls go through, named by the token', async () => {
    const tls = { ca: read(files.caCert), cert: read(files.clientCert), key: read(files.clientKey) };
    expect(await probe(h.address, tls)).toBe('NOT_FOUND USER_NOT_FOUND');
    expect(h.logs.text()).toContain('"transport":"mutual TLS"');
    expect(h.logs.text()).toContain('"caller":"default"');
  });

  it('when a client presents no certificate, or one from another CA, then it is refused at the handshake', async () => {
    expect(await probe(h.address, { ca: read(files.caCert) })).toBe('UNAVAILABLE');
    expect(await probe(h.address, { ca: read(files.caCert), cert: Buffer.from(otherClient.cert), key: Buffer.from(otherClient.key) })).toBe('UNAVAILABLE');
    expect(await probe(h.address, undefined)).toBe('UNAVAILABLE');
  });

  it('when no token is configured, then the caller is named by its certificate CN', async () => {
    const open = await startCreditsHarness({ tokens: [], tls: { certFile: files.serverCert, keyFile: files.serverKey, clientCaFile: files.caCert } });
    try {
      const tls = { ca: read(files.caCert), cert: read(files.clientCert), key: read(files.clientKey) };
      const client = createCreditsClient(open.address, { tls });
      const result = await call(client, client.GetBalance, { identifier: 'nobody@example.com' }, new grpc.Metadata());
      client.close();
      expect(!result.ok && result.errorCode).toBe('USER_NOT_FOUND');
      expect(open.logs.text()).toContain('"caller":"edge"');
    } finally {
      await open.close();
    }
  });
});

describe('certificate files at start', () => {
  it('when a file is missing or the key does not match the certificate, then the server refuses to start (ConfigError) naming the file', async () => {
    const logs = captureLogs();
    const start = (tls: { certFile: string; keyFile: string; clientCaFile?: string }) => () => createServerTls(tls, logs.logger);
    expect(start({ certFile: path.join(dir, 'nope.crt'), keyFile: files.serverKey })).toThrow(ConfigError);
    expect(start({ certFile: path.join(dir, 'nope.crt'), keyFile: files.serverKey })).toThrow(/GRPC_TLS_CERT_FILE.*nope\.crt \(ENOENT\)/);
    expect(start({ certFile: files.serverCert, keyFile: files.clientKey })).toThrow(/unusable/);
    expect(start({ certFile: files.serverCert, keyFile: files.serverKey, clientCaFile: files.serverKey })).toThrow(/unusable/);
    const tls = start({ certFile: files.serverCert, keyFile: files.serverKey, clientCaFile: files.caCert })();
    tls.close();
    expect(logs.text()).toContain('certificates loaded');
    expect(logs.text()).not.toContain('PRIVATE KEY');
  });
});

describe('a CreditsService process with mutual TLS and the edge', () => {
  const EDGE_TOKEN = 'edge-apply-token-0123456789abcdef01234567';
  audit.rememberToken(EDGE_TOKEN);
  audit.rememberToken(WEBHOOK_SECRET);
  let database: TestDatabase;
  let credits: CreditsProcess;
  let serverFiles: { cert: string; key: string; clientCa: string };

  beforeAll(async () => {
    database = await createTestDatabase();
    const orm = await initORM({ url: database.url, poolMax: 1, echo: false, logger: captureLogs().logger });
    await migrateUp(orm);
    await orm.close();
    // Copies the process reads, so the rotation below can replace them.
    serverFiles = { cert: path.join(dir, 'live-server.crt'), key: path.join(dir, 'live-server.key'), clientCa: path.join(dir, 'live-client-ca.crt') };
    writeFileSync(serverFiles.cert, read(files.serverCert));
    writeFileSync(serverFiles.key, read(files.serverKey), { mode: 0o600 });
    writeFileSync(serverFiles.clientCa, read(files.caCert));
    credits = await startCreditsProcess('credits (mTLS)', {
      databaseUrl: database.url,
      token: '',
      env: {
        CREDITS_API_TOKENS: JSON.stringify([{ name: 'edge', token: EDGE_TOKEN, scopes: ['stripe:apply'] }, { name: 'reader', token: TOKEN, scopes: ['credits:read'] }]),
        GRPC_TLS_CERT_FILE: serverFiles.cert,
        GRPC_TLS_KEY_FILE: serverFiles.key,
        GRPC_TLS_CLIENT_CA_FILE: serverFiles.clientCa,
        GRPC_TLS_RELOAD_INTERVAL_S: '0', // only SIGHUP re-reads, so the test shows SIGHUP did it
      },
      healthTls: { ca: read(files.caCert), cert: read(files.clientCert), key: read(files.clientKey) },
    });
    audit.watch('credits process', credits.output);
  }, 120_000);

  afterAll(async () => {
    await credits?.stop();
    await database?.drop();
  }, 60_000);

  it('when the edge has its client certificate, then a signed purchase is credited end to end', async () => {
    const edge = await startEdge(credits.url, {
      CREDITS_API_TOKEN: EDGE_TOKEN,
      CREDITS_GRPC_CA_FILE: files.caCert,
      CREDITS_GRPC_CERT_FILE: files.clientCert,
      CREDITS_GRPC_KEY_FILE: files.clientKey,
    });
    audit.watch('edge', edge.logs.text);
    try {
      const email = `mtls-${stripeId('u')}@example.com`;
      audit.rememberEmail(email);
      const event = stripeEvent('checkout.session.completed', checkoutSession({ email, metadata: { credits: '100' } }));
      expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: 100 } });
      const ready = await fetch(`${edge.url}/readyz`);
      expect(ready.status).toBe(200);
      const line = credits.output().split('\n').find((text) => text.includes('"method":"ApplyCheckout"') && text.includes('"grpc call"'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ caller: 'edge', code: 'OK', outcome: 'applied' });
    } finally {
      await edge.close();
    }
  });

  it('when the edge has no client certificate, then nothing reaches CreditsService and Stripe is told to retry', async () => {
    const edge = await startEdge(credits.url, { CREDITS_API_TOKEN: EDGE_TOKEN, CREDITS_GRPC_CA_FILE: files.caCert, CREDITS_GRPC_DEADLINE_MS: '1000' });
    audit.watch('edge without a certificate', edge.logs.text);
    try {
      const event = stripeEvent('checkout.session.completed', checkoutSession({ email: 'nobody@example.com', metadata: { credits: '1' } }));
      expect((await deliver(edge.url, event)).status).toBe(503);
    } finally {
      await edge.close();
    }
  });

  it('when the certificates are replaced and the process gets SIGHUP, then new connections use them, without a restart', async () => {
    const nextCa = createCertificateAuthority('next CA');
    const nextServer = issueCertificate(nextCa, { commonName: 'credits', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    const nextClient = issueCertificate(nextCa, { commonName: 'edge', usage: 'client' });
    rememberPem(nextServer.key);
    rememberPem(nextClient.key);
    const oldTls = { ca: read(files.caCert), cert: read(files.clientCert), key: read(files.clientKey) };
    const nextTls = { ca: Buffer.from(nextCa.cert), cert: Buffer.from(nextClient.cert), key: Buffer.from(nextClient.key) };
    expect(await probe(credits.url, oldTls)).toBe('NOT_FOUND USER_NOT_FOUND');
    expect(await probe(credits.url, nextTls)).toBe('UNAVAILABLE');

    // As a secret mount or cert-manager does it: each file replaced whole (write aside, rename over).
    const replace = (file: string, content: string) => {
      writeFileSync(`${file}.new`, content, { mode: 0o600 });
      renameSync(`${file}.new`, file);
    };
    replace(serverFiles.cert, nextServer.cert);
    replace(serverFiles.key, nextServer.key);
    replace(serverFiles.clientCa, nextCa.cert);
    // Not re-read yet: the reload interval is off.
    expect(await probe(credits.url, oldTls)).toBe('NOT_FOUND USER_NOT_FOUND');

    const pid = credits.pid;
    credits.kill('SIGHUP');
    const until = Date.now() + 10_000;
    while (!credits.output().includes('certificates reloaded') && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(credits.output()).toContain('certificates reloaded');
    expect(await probe(credits.url, nextTls)).toBe('NOT_FOUND USER_NOT_FOUND');
    expect(await probe(credits.url, oldTls)).toBe('UNAVAILABLE');
    expect(credits.isRunning()).toBe(true);
    expect(credits.pid).toBe(pid);
  });

  it('logs hold no token, key or certificate of this file', () => {
    expect(audit.counts.sources).toBeGreaterThanOrEqual(4);
    expect(audit.findLeaks()).toEqual([]);
  });
});
