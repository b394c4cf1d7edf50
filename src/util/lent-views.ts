/**
 * Views lent out of memory that is reused. The hot cache answers a tail read with a view into one
 * of its slabs (no copy) and, once the slab is evicted, hands it to the next append — which is safe
 * only when no view of it is still in use, or a consumer would be sent bytes a later append wrote.
 * So a slab counts the views it lent, and whoever is done with one gives it back: Fetch framing
 * once it copied the records into the response (src/broker/dispatch.ts), the connection once the
 * socket took a records chunk sent without copying (src/net/connection.ts), the Fetch handler for a
 * read it looked at and dropped.
 *
 * Forgetting to give a view back is safe: its slab is then never reused, only dropped when evicted
 * and left to the garbage collector (what every lent slab did before loans were counted). Giving
 * one back while it is still read from, or twice, is not: only give back where the view provably
 * dies.
 */

/** Memory that lends views of itself: `loans` views are out. */
export interface Lender {
  loans: number;
}

const lenders = new WeakMap<ArrayBufferLike, Lender>();

/** Views into `buffer` are lent by `lender` from now on (call once, when the memory is created). */
export function registerLender(buffer: ArrayBufferLike, lender: Lender): void {
  lenders.set(buffer, lender);
}

/** True when `view` points into memory that lends its views (each such view is one loan). */
export function isLentView(view: Uint8Array): boolean {
  return lenders.has(view.buffer);
}

/** Ends the loan of `view` (nothing when it is not a lent view). Once per view, when it is dead. */
export function giveBack(view: Uint8Array): void {
  const lender = lenders.get(view.buffer);
  if (lender !== undefined && lender.loans > 0) lender.loans--;
}
