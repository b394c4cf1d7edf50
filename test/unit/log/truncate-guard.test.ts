// SegmentFile.truncate only cuts: a negative, fractional or growing size throws RangeError before
// anything is cut, on every backend. The runtime's ftruncate takes a negative length as 0 without
// an error; the mapped backend then stored its next append in front of its mapping (a segfault of
// the test process, found through a test that computed a negative size).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { mappedSegmentFileFactory } from "../../../src/log/mapped-segment-file.ts";
import { segmentIoFor } from "../../../src/log/native-segment-file.ts";
import { fdSegmentFileFactory, type SegmentFileFactory } from "../../../src/log/segment-file.ts";
import { freshSegmentPath } from "./helpers.ts";

const mapped = mappedSegmentFileFactory(true);
const backends: [string, SegmentFileFactory | null][] = [
  ["js", fdSegmentFileFactory],
  ["mapped", mapped],
  ["native pwrite", segmentIoFor("pwrite").files],
];

for (const [name, files] of backends) {
  test(`${name}: a bad cut throws RangeError and cuts nothing; appends go on at the right place`, async () => {
    expect(files).not.toBeNull(); // the mapped backend needs MADV_POPULATE_WRITE (Linux 5.14+)
    const path = freshSegmentPath();
    const f = files!.open(path);
    const first = new Uint8Array(5000).fill(1);
    f.write(first);
    for (const bad of [-1000, -1, 5001, 2.5, Number.NaN]) expect(() => f.truncate(bad)).toThrow(RangeError);
    expect(f.size).toBe(5000);
    f.truncate(4000); // a real cut still works
    const second = new Uint8Array(1000).fill(2);
    f.write(second);
    expect(f.size).toBe(5000);
    await f.datasync();
    const expected = Buffer.concat([first.subarray(0, 4000), second]);
    expect(Buffer.from(f.read(0, 6000)).equals(expected)).toBe(true);
    f.close();
    expect(Buffer.from(readFileSync(path)).equals(expected)).toBe(true);
  });
}
