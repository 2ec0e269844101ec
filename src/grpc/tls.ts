import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

export interface CertificateFiles {
  /** PEM certificate chain and its private key: this side's identity. */
  certFile?: string;
  keyFile?: string;
  /** PEM certificate(s) of the CA that signs the other side. */
  caFile?: string;
}

interface Loaded {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
}

const same = (a: Buffer | undefined, b: Buffer | undefined) => (a && b ? a.equals(b) : a === b);

/**
 * Certificates read from files, re-read on `reload()` (SIGHUP) and every refreshIntervalMs, for
 * grpc-js's certificate-provider credentials (server and client), which swap the TLS context of
 * new connections without a restart. A re-read that fails (a file half-written, a key that does not
 * match its certificate) keeps the previous certificates and logs why; only the first read, at
 * start, is fatal (ConfigError).
 *
 * grpc-js ships a FileWatcherCertificateProvider, but it cannot be told to re-read now (SIGHUP),
 * does not check that key and certificate match before using them, and reads asynchronously, so
 * a wrong path would only show as refused connections. This one implements the same interface.
 */
export class ReloadableCertificateProvider implements CertificateProvider {
  private current: Loaded;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: CertificateFiles,
    private readonly options: { logger: Logger; label: string; refreshIntervalMs?: number },
  ) {
    try {
      this.current = this.read();
    } catch (error) {
      throw new ConfigError(`${options.label}: ${(error as Error).message}`);
    }
    this.describe('loaded');
    if (options.refreshIntervalMs) {
      this.timer = setInterval(() => this.reload(), options.refreshIntervalMs);
      this.timer.unref();
    }
  }

  /** Reads and checks every file; throws a message naming the file at fault (never its content). */
  private read(): Loaded {
    const file = (path: string | undefined, what: string) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (error) {
        throw new Error(`cannot read the ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    };
    const loaded: Loaded = {
      cert: file(this.files.certFile, 'certificate'),
      key: file(this.files.keyFile, 'private key'),
      ca: file(this.files.caFile, 'CA certificate'),
    };
    try {
      // Throws if a file is not PEM, or the key does not belong to the certificate.
      createSecureContext({ cert: loaded.cert, key: loaded.key, ca: loaded.ca });
      if (loaded.cert) new X509Certificate(loaded.cert);
      if (loaded.ca) new X509Certificate(loaded.ca);
    } catch (error) {
      const reason = (error as Error).message.replace(/\s+/g, ' ').slice(0, 200);
      throw new Error(`certificate files ${Object.values(this.files).filter(Boolean).join(', ')} are unusable: ${reason}`);
    }
    return loaded;
  }

  /** The subject and expiry of what is loaded: enough to see a rotation happened, no key material. */
  private describe(event: string): void {
    const summary = (pem: Buffer | undefined) => {
      if (!pem) return undefined;
      const cert = new X509Certificate(pem);
      return { subject: cert.subject.replace(/\n/g, ', '), validTo: cert.validTo };
    };
    this.options.logger.info({ certificate: summary(this.current.cert), ca: summary(this.current.ca) }, `${this.options.label}: certificates ${event}`);
  }

  /** What is loaded now (PEM buffers). */
  get certificates(): Readonly<Loaded> {
    return this.current;
  }

  /** Re-reads the files now; new connections use the result. True if anything changed. */
  reload(): boolean {
    let next: Loaded;
    try {
      next = this.read();
    } catch (error) {
      this.options.logger.error({ reason: (error as Error).message }, `${this.options.label}: certificate reload failed; keeping the previous certificates`);
      return false;
    }
    const identityChanged = !same(next.cert, this.current.cert) || !same(next.key, this.current.key);
    const caChanged = !same(next.ca, this.current.ca);
    this.current = next;
    if (!identityChanged && !caChanged) return false;
    this.describe('reloaded');
    if (identityChanged) for (const listener of this.identityListeners) listener(this.identityUpdate());
    if (caChanged) for (const listener of this.caListeners) listener(this.caUpdate());
    return true;
  }

  private identityUpdate() {
    return this.current.cert && this.current.key ? { certificate: this.current.cert, privateKey: this.current.key } : null;
  }

  private caUpdate() {
    return this.current.ca ? { caCertificate: this.current.ca } : null;
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    process.nextTick(() => this.caListeners.has(listener) && listener(this.caUpdate()));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    process.nextTick(() => this.identityListeners.has(listener) && listener(this.identityUpdate()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** Calls `reload` on every SIGHUP until the returned function is called. */
export function reloadOnSighup(reload: () => void): () => void {
  const onSignal = () => reload();
  process.on('SIGHUP', onSignal);
  return () => process.off('SIGHUP', onSignal);
}

export interface ServerTlsOptions {
  certFile: string;
  keyFile: string;
  /** Require client certificates signed by this CA (mutual TLS). */
  clientCaFile?: string | undefined;
  /** Re-read the files this often as well as on SIGHUP; 0 = on SIGHUP only. */
  reloadIntervalMs?: number;
}

export interface ServerTls {
  credentials: grpc.ServerCredentials;
  mutual: boolean;
  provider: ReloadableCertificateProvider;
  close(): void;
}

/** TLS-only server credentials from files; with clientCaFile, clients must present a certificate that CA signed. */
export function createServerTls(options: ServerTlsOptions, logger: Logger): ServerTls {
  const mutual = options.clientCaFile !== undefined;
  const provider = new ReloadableCertificateProvider(
    { certFile: options.certFile, keyFile: options.keyFile, caFile: options.clientCaFile },
    { logger, label: mutual ? 'GRPC_TLS_CERT_FILE/GRPC_TLS_KEY_FILE/GRPC_TLS_CLIENT_CA_FILE' : 'GRPC_TLS_CERT_FILE/GRPC_TLS_KEY_FILE', refreshIntervalMs: options.reloadIntervalMs },
  );
  // grpc-js passes its first argument on as the identity provider and its second (null: no client
  // certificates asked for) as the CA provider, whatever the parameter names in its typings say.
  // One provider serves both, so either reading of the order gives the same credentials.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, mutual ? provider : null, mutual);
  const stopSighup = reloadOnSighup(() => provider.reload());
  return {
    credentials,
    mutual,
    provider,
    close: () => {
      stopSighup();
      provider.close();
    },
  };
}

export interface ClientTlsFiles {
  /** The CA that signed CreditsService's certificate; the system's roots when absent. */
  caFile?: string | undefined;
  /** This client's certificate and key, for mutual TLS. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** The name to expect in the server certificate when it is not the host dialled. */
  serverName?: string | undefined;
}

export interface ClientTls {
  credentials: grpc.ChannelCredentials;
  channelOptions: grpc.ChannelOptions;
  close(): void;
}

/** Client credentials for CreditsService from files; with a CA file, re-read on SIGHUP like the server's. */
export function createClientTls(files: ClientTlsFiles, logger: Logger, options: { refreshIntervalMs?: number } = {}): ClientTls {
  const channelOptions: grpc.ChannelOptions = files.serverName
    ? { 'grpc.ssl_target_name_override': files.serverName, 'grpc.default_authority': files.serverName }
    : {};
  const label = 'CREDITS_GRPC_CA_FILE/CREDITS_GRPC_CERT_FILE/CREDITS_GRPC_KEY_FILE';
  if (files.caFile === undefined) {
    // The system's roots: certificate-provider credentials need a CA file, so read the identity once.
    const provider = new ReloadableCertificateProvider({ certFile: files.certFile, keyFile: files.keyFile }, { logger, label });
    const identity = provider.certificates;
    return { credentials: grpc.credentials.createSsl(null, identity.key ?? null, identity.cert ?? null), channelOptions, close: () => {} };
  }
  const provider = new ReloadableCertificateProvider(files, { logger, label, refreshIntervalMs: options.refreshIntervalMs });
  const withIdentity = files.certFile !== undefined;
  const credentials = grpc.experimental.createCertificateProviderChannelCredentials(provider, withIdentity ? provider : null);
  const stopSighup = reloadOnSighup(() => provider.reload());
  return {
    credentials,
    channelOptions,
    close: () => {
      stopSighup();
      provider.close();
    },
  };
}
