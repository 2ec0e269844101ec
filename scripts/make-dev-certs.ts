/**
 * Makes a development certificate authority, a CreditsService server certificate and an edge client
 * certificate, and prints the variables that turn on TLS and mutual TLS:
 *   npx tsx scripts/make-dev-certs.ts .data/certs
 * Files already present are kept (delete the directory to start over); the CA key never leaves `dir`.
 * Development only: the keys are unencrypted and the CA is trusted by nothing but this service.
 */
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCertificateAuthority, issueCertificate, type KeyAndCertificate } from './dev-certificates.js';

export interface DevCertificateFiles {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export interface DevCertificateOptions {
  /** Extra server names beyond localhost, 127.0.0.1, ::1 and credits (the compose service name). */
  serverNames?: string[];
  /** The client certificate's subject CN: the caller's name under mutual TLS. */
  clientName?: string;
}

function write(file: string, content: string, mode: number): void {
  fs.writeFileSync(file, content, { mode });
}

function load(cert: string, key: string): KeyAndCertificate | undefined {
  return fs.existsSync(cert) && fs.existsSync(key) ? { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') } : undefined;
}

/** Writes ca.crt/ca.key, server.crt/server.key and client.crt/client.key under `dir` (keys mode 0600). */
export function makeDevCertificates(dir: string, options: DevCertificateOptions = {}): DevCertificateFiles {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: DevCertificateFiles = {
    caCert: path.resolve(dir, 'ca.crt'),
    caKey: path.resolve(dir, 'ca.key'),
    serverCert: path.resolve(dir, 'server.crt'),
    serverKey: path.resolve(dir, 'server.key'),
    clientCert: path.resolve(dir, 'client.crt'),
    clientKey: path.resolve(dir, 'client.key'),
  };
  let ca = load(files.caCert, files.caKey);
  if (!ca) {
    ca = createCertificateAuthority('credits-service development CA');
    write(files.caKey, ca.key, 0o600);
    write(files.caCert, ca.cert, 0o644);
  }
  if (!load(files.serverCert, files.serverKey)) {
    const extra = options.serverNames ?? [];
    const dnsNames = ['localhost', 'credits', ...extra.filter((name) => !isIP(name))];
    const ipAddresses = ['127.0.0.1', '::1', ...extra.filter((name) => isIP(name))];
    const server = issueCertificate(ca, { commonName: 'credits', dnsNames, ipAddresses, usage: 'server' });
    write(files.serverKey, server.key, 0o600);
    write(files.serverCert, server.cert, 0o644);
  }
  if (!load(files.clientCert, files.clientKey)) {
    const client = issueCertificate(ca, { commonName: options.clientName ?? 'edge', usage: 'client' });
    write(files.clientKey, client.key, 0o600);
    write(files.clientCert, client.cert, 0o644);
  }
  return files;
}

function main(): void {
  const [dir, ...serverNames] = process.argv.slice(2);
  if (!dir || dir.startsWith('-')) {
    console.error('usage: npx tsx scripts/make-dev-certs.ts <dir> [extra server name or IP ...]');
    process.exit(2);
  }
  const files = makeDevCertificates(dir, { serverNames });
  console.log(`Certificates in ${path.resolve(dir)} (CA key: ${files.caKey}; keep it out of images and git).

# CreditsService: TLS, and mutual TLS (clients must present a certificate from this CA)
GRPC_TLS_CERT_FILE=${files.serverCert}
GRPC_TLS_KEY_FILE=${files.serverKey}
GRPC_TLS_CLIENT_CA_FILE=${files.caCert}

# The edge and other clients (scripts/get-balance.ts): trust the CA, present the client certificate (CN edge)
CREDITS_GRPC_CA_FILE=${files.caCert}
CREDITS_GRPC_CERT_FILE=${files.clientCert}
CREDITS_GRPC_KEY_FILE=${files.clientKey}

# Rotate: replace the files, then \`kill -HUP <pid>\` (or wait for GRPC_TLS_RELOAD_INTERVAL_S).`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
