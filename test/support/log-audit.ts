import fs from 'node:fs';
import path from 'node:path';

/**
 * Scenario 9: what the suite sent that must never be logged (customer emails, Stripe-Signature
 * values, tokens), and every log it captured (child processes' output, in-process loggers).
 */
export class LogAudit {
  private readonly emails = new Set<string>();
  /** The hex digests of signature headers, and whole headers that hold none (malformed ones). */
  private readonly signatures = new Set<string>();
  private readonly otherHeaders = new Set<string>();
  private readonly tokens = new Set<string>();
  private readonly sources = new Map<string, () => string>();

  rememberEmail(email: string | null | undefined): void {
    const value = email?.trim();
    // Very short values ("a@b.c") could match by accident; the suite's emails are all longer.
    if (value && value.length >= 6) this.emails.add(value);
  }

  /** The whole header and each hex signature in it. */
  rememberSignature(header: string | undefined): void {
    if (!header) return;
    const digests = [...header.matchAll(/v[01]=([0-9a-f]{32,})/g)].map((match) => match[1]!);
    for (const digest of digests) this.signatures.add(digest);
    if (digests.length === 0 && header.trim().length >= 6) this.otherHeaders.add(header);
  }

  rememberToken(token: string): void {
    if (token.length >= 8) this.tokens.add(token);
  }

  /** A log source, read when the audit runs (so a process's whole output, to its last line). */
  watch(name: string, text: () => string): void {
    this.sources.set(name, text);
  }

  /** RELIABILITY_LOG_DIR=dir keeps every captured log as a file, for reading after a failed run. */
  dumpTo(dir: string | undefined, prefix: string): void {
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, read] of this.sources) {
      fs.writeFileSync(path.join(dir, `${prefix}-${name.replace(/[^a-z0-9-]+/gi, '_')}.log`), read());
    }
  }

  get counts() {
    return {
      emails: this.emails.size,
      signatures: this.signatures.size + this.otherHeaders.size,
      tokens: this.tokens.size,
      sources: this.sources.size,
    };
  }

  /** Every leak found, as "source: kind" lines (never the value itself, so the report does not leak). */
  findLeaks(): string[] {
    const leaks: string[] = [];
    for (const [name, read] of this.sources) {
      const text = read();
      const lower = text.toLowerCase();
      // Emails: only lines with an '@' can hold one, which keeps thousands of checks cheap.
      const atLines = lower.split('\n').filter((line) => line.includes('@'));
      for (const email of this.emails) {
        const forms = new Set([email.toLowerCase(), JSON.stringify(email.toLowerCase()).slice(1, -1)]);
        if (atLines.some((line) => [...forms].some((form) => line.includes(form)))) leaks.push(`${name}: a customer email`);
      }
      // Digests can only hide in long hex runs, which logs hold few of: look there, not in the whole text.
      for (const run of text.match(/[0-9a-f]{32,}/g) ?? []) {
        for (const digest of this.signatures) if (run.includes(digest)) leaks.push(`${name}: a Stripe-Signature value`);
      }
      for (const header of this.otherHeaders) if (text.includes(header)) leaks.push(`${name}: a Stripe-Signature value`);
      for (const token of this.tokens) if (text.includes(token)) leaks.push(`${name}: a token`);
    }
    return [...new Set(leaks)];
  }
}
