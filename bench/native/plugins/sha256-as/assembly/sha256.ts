// SHA-256 (FIPS 180-4) in AssemblyScript: the port of bench/native/sha256/sha256.c (same
// structure). It reads the bytes through raw pointers (`load<u32>` + `bswap`) and the tables with
// `unchecked`, as an AS author who cares about speed writes it: indexing a Uint8Array would add a
// bounds check per byte. No allocation per digest: the schedule and the tail are static buffers.

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const W = new StaticArray<u32>(64);
const H = new StaticArray<u32>(8);
const LAST = new StaticArray<u8>(128);

// A local helper named `rotr` would shadow the builtin (and `rotr<u32>` inside it would then not
// be generic): the builtin is called under another name. It compiles to one `i32.rotr`.
// @ts-ignore: decorator
@inline function ror(x: u32, n: u32): u32 {
  return rotr<u32>(x, n);
}

function compress(block: usize): void {
  const w = changetype<usize>(W);
  for (let i: usize = 0; i < 16; i++) store<u32>(w + (i << 2), bswap<u32>(load<u32>(block + (i << 2))));
  for (let i: usize = 16; i < 64; i++) {
    const w15 = load<u32>(w + ((i - 15) << 2));
    const w2 = load<u32>(w + ((i - 2) << 2));
    const s0 = ror(w15, 7) ^ ror(w15, 18) ^ (w15 >>> 3);
    const s1 = ror(w2, 17) ^ ror(w2, 19) ^ (w2 >>> 10);
    store<u32>(w + (i << 2), load<u32>(w + ((i - 16) << 2)) + s0 + load<u32>(w + ((i - 7) << 2)) + s1);
  }
  let a = unchecked(H[0]), b = unchecked(H[1]), c = unchecked(H[2]), d = unchecked(H[3]);
  let e = unchecked(H[4]), f = unchecked(H[5]), g = unchecked(H[6]), hh = unchecked(H[7]);
  for (let i = 0; i < 64; i++) {
    const t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + unchecked(K[i]) + load<u32>(w + (<usize>i << 2));
    const t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  unchecked((H[0] += a));
  unchecked((H[1] += b));
  unchecked((H[2] += c));
  unchecked((H[3] += d));
  unchecked((H[4] += e));
  unchecked((H[5] += f));
  unchecked((H[6] += g));
  unchecked((H[7] += hh));
}

/** Writes the SHA-256 digest of the `len` bytes at `data` to the 32 bytes at `out`. */
export function sha256(data: usize, len: usize, out: usize): void {
  unchecked((H[0] = 0x6a09e667));
  unchecked((H[1] = 0xbb67ae85));
  unchecked((H[2] = 0x3c6ef372));
  unchecked((H[3] = 0xa54ff53a));
  unchecked((H[4] = 0x510e527f));
  unchecked((H[5] = 0x9b05688c));
  unchecked((H[6] = 0x1f83d9ab));
  unchecked((H[7] = 0x5be0cd19));
  const full = len & ~(<usize>63);
  for (let off: usize = 0; off < full; off += 64) compress(data + off);
  // The tail, the 0x80 marker and the 64-bit bit length: one or two final blocks.
  const last = changetype<usize>(LAST);
  const rest = len - full;
  memory.copy(last, data + full, rest);
  store<u8>(last + rest, 0x80);
  const n: usize = rest < 56 ? 64 : 128;
  memory.fill(last + rest + 1, 0, n - 8 - rest - 1);
  store<u64>(last + n - 8, bswap<u64>(<u64>len * 8));
  compress(last);
  if (n == 128) compress(last + 64);
  for (let i: usize = 0; i < 8; i++) store<u32>(out + (i << 2), bswap<u32>(unchecked(H[<i32>i])));
}
