// A running sum of floats that values can be added to and taken out of without error: the sum is
// kept exactly as non-overlapping partials (Shewchuk's adaptive-precision addition, the algorithm
// behind Python's math.fsum), so a window's mean read from it is the correctly rounded sum of what
// the window holds, however long the window has slid. A plain running sum would drift, and would
// report 85.50000000000001 where the points' mean is 85.5.

export class ExactSum {
  /** Non-overlapping, increasing in magnitude; their exact sum is the sum. Only the first `count` are live. */
  private readonly partials: number[] = [];
  /**
   * The live partials (usually one to three). The array keeps its length: shortening it on every
   * add was a call into V8's runtime, per alarm and sample.
   */
  private count = 0;

  add(value: number): void {
    const partials = this.partials;
    let x = value;
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      let y = partials[i]!;
      if (Math.abs(x) < Math.abs(y)) {
        const larger = y;
        y = x;
        x = larger;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[kept++] = lo;
      x = hi;
    }
    if (x !== 0) partials[kept++] = x;
    this.count = kept;
  }

  subtract(value: number): void {
    this.add(-value);
  }

  clear(): void {
    this.count = 0;
  }

  /** The exact sum, rounded once to the nearest float (ties to even, as math.fsum). */
  get value(): number {
    const partials = this.partials;
    let n = this.count;
    if (n === 0) return 0;
    let hi = partials[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = partials[--n]!;
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // Half-way case: the partials below decide which way the tie goes.
    if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }
}
