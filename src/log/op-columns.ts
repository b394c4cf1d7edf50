/**
 * The kind, position and token columns of the ops collected for one native `submit`, kept in typed
 * arrays that live as long as the engine and are handed over as views of their first `length`
 * entries.
 *
 * Why not fresh arrays per submit (`Uint8Array.from(...)`): napi's typed-array argument conversion
 * asks for the backing ArrayBuffer, which makes JSC move a small array's inline bytes into a new
 * ArrayBuffer object. Three of those per submit, about a thousand submits a second at one
 * partition with fsync, measurably lengthened every young-generation collection (each one then
 * has to sweep those buffers; bench/RESULTS.md, session 10). Arrays created over an ArrayBuffer
 * have nothing to move, and a view of them is one small object.
 *
 * The native side reads the columns only during the call, so they are reused right after it.
 */
export class OpColumns {
  private kinds = new Uint8Array(new ArrayBuffer(256));
  private positions = new Float64Array(new ArrayBuffer(256 * 8));
  private tokens = new Uint32Array(new ArrayBuffer(256 * 4));
  /** Ops collected so far. */
  length = 0;

  push(kind: number, position: number, token: number): void {
    if (this.length === this.kinds.length) this.grow();
    const i = this.length++;
    this.kinds[i] = kind;
    this.positions[i] = position;
    this.tokens[i] = token;
  }

  /** Views of the collected entries, valid until the next `push` after `clear`. */
  views(): { kinds: Uint8Array; positions: Float64Array; tokens: Uint32Array } {
    const n = this.length;
    return { kinds: this.kinds.subarray(0, n), positions: this.positions.subarray(0, n), tokens: this.tokens.subarray(0, n) };
  }

  clear(): void {
    this.length = 0;
  }

  private grow(): void {
    const n = this.kinds.length * 2;
    const kinds = new Uint8Array(new ArrayBuffer(n));
    const positions = new Float64Array(new ArrayBuffer(n * 8));
    const tokens = new Uint32Array(new ArrayBuffer(n * 4));
    kinds.set(this.kinds);
    positions.set(this.positions);
    tokens.set(this.tokens);
    this.kinds = kinds;
    this.positions = positions;
    this.tokens = tokens;
  }
}
