/**
 * The kind, position and token columns of the ops collected for one native `submit`, kept in typed
 * arrays that live as long as the engine and are handed over as views of their first `length`
 * entries.
 *
 * Why not fresh arrays per submit (`Uint8Array.from(...)`): napi's typed-array argument conversion
 * asks for the backing ArrayBuffer, which makes JSC move a small array's inline bytes into a new
 * ArrayBuffer object. Three of those per submit, about a thousand submits a second at one
 * partition with fsync, measurably lengthened the young-generation collections
 * (bench/RESULTS.md, session 10). Arrays created over an ArrayBuffer have nothing to move, and a
 * view of them is one small object.
 *
 * The native side reads the columns only during the call, so they are reused right after it.
 */
interface Columns {
  kinds: Uint8Array;
  positions: Float64Array;
  tokens: Uint32Array;
}

/** Columns for `n` ops, each array over an ArrayBuffer of its own. */
function columnsFor(n: number): Columns {
  return {
    kinds: new Uint8Array(new ArrayBuffer(n)),
    positions: new Float64Array(new ArrayBuffer(n * Float64Array.BYTES_PER_ELEMENT)),
    tokens: new Uint32Array(new ArrayBuffer(n * Uint32Array.BYTES_PER_ELEMENT)),
  };
}

export class OpColumns {
  private columns = columnsFor(256);
  /** Ops collected so far. */
  length = 0;

  push(kind: number, position: number, token: number): void {
    if (this.length === this.columns.kinds.length) this.grow();
    const c = this.columns;
    const i = this.length++;
    c.kinds[i] = kind;
    c.positions[i] = position;
    c.tokens[i] = token;
  }

  /** Views of the collected entries, valid until the next `push` after `clear`. */
  views(): Columns {
    const { kinds, positions, tokens } = this.columns;
    const n = this.length;
    return { kinds: kinds.subarray(0, n), positions: positions.subarray(0, n), tokens: tokens.subarray(0, n) };
  }

  clear(): void {
    this.length = 0;
  }

  private grow(): void {
    const next = columnsFor(this.columns.kinds.length * 2);
    next.kinds.set(this.columns.kinds);
    next.positions.set(this.columns.positions);
    next.tokens.set(this.columns.tokens);
    this.columns = next;
  }
}
