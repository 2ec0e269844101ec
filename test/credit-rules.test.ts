import { describe, expect, it } from 'vitest';
import { CheckoutRejected } from '../src/credits/errors';
import { purchaseCredits } from '../src/credits/credit-rules';

const rules = { priceCredits: { price_small: 100, price_big: 1_000 }, maxPerPurchase: 5_000 };
const reasonOf = (run: () => number) => {
  try {
    return run();
  } catch (error) {
    return error instanceof CheckoutRejected ? error.reason : 'other';
  }
};

describe('purchaseCredits', () => {
  it('when every line item has a price in the table, then credits are Σ credits × quantity', () => {
    expect(purchaseCredits([{ priceId: 'price_small', quantity: 2 }, { priceId: 'price_big', quantity: 3 }], { credits: '1' }, rules)).toBe(3_200);
  });

  it('when a line item has an unknown price, then the metadata decides', () => {
    expect(purchaseCredits([{ priceId: 'price_other', quantity: 1 }], { credits: '30' }, rules)).toBe(30);
  });

  it.each([
    [{ credits: '25' }, 25],
    [{ credit_amount: '26' }, 26],
    [{ credits_to_add: ' 27 ' }, 27],
    [{ credits: '', credit_amount: '28' }, 28],
  ])('reads metadata %j', (metadata, expected) => {
    expect(purchaseCredits([], metadata, rules)).toBe(expected);
  });

  it.each([
    [{}, 'credits_unknown'],
    [{ credits: '0' }, 'credits_invalid'],
    [{ credits: '-1' }, 'credits_invalid'],
    [{ credits: '1.5' }, 'credits_invalid'],
    [{ credits: '1e3' }, 'credits_invalid'],
    [{ credits: 'ten' }, 'credits_invalid'],
    [{ credits: '5001' }, 'credits_invalid'],
    [{ credits: '99999999999999999999' }, 'credits_invalid'],
  ])('rejects metadata %j as %s', (metadata, reason) => {
    expect(reasonOf(() => purchaseCredits([], metadata, rules))).toBe(reason);
  });

  it('rejects line items whose total exceeds the maximum', () => {
    expect(reasonOf(() => purchaseCredits([{ priceId: 'price_big', quantity: 6 }], {}, rules))).toBe('credits_invalid');
  });
});
