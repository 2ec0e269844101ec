/**
 * An operation that was refused or found nothing to act on: the CLI prints the message (no stack)
 * and exits 1. The message is safe to show: it never carries an email.
 */
export class OperationRefused extends Error {
  override name = 'OperationRefused';
}
