/** What a spending call changed, told to observers (metrics) after it committed; replays change nothing and are not told. */
export type SpendingEvent =
  | { kind: 'spent'; credits: number }
  | { kind: 'reserved'; credits: number }
  /** `released`: the part of the reservation the capture did not take. */
  | { kind: 'captured'; credits: number; released: number }
  | { kind: 'released'; credits: number };
