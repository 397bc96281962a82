// Walks one segment of an [outer, C, inner] view (reduce.wgsl, batchnorm.wgsl): invocation id
// of channel c = id / nseg sums elements j = k·seg … k·seg + seg − 1 (k = id − c·nseg) of the
// channel's sequence j = o·inner + i. The including shader's uniform `p` has C, inner, M, seg
// and nseg, in the units (vec4s or scalars) its x is indexed in.
//
//   var sg = segment_start(id, c);
//   while (sg.j < sg.jend) {
//     let r = segment_run(&sg, c);               // x[r.x], …, x[r.x + r.y − 1]
//     for (var t = 0u; t < r.y; t++) { … x[r.x + t] … }
//   }

struct Segment {
  j: u32,
  jend: u32,
  o: u32,
  i: u32,
}

fn segment_start(id: u32, c: u32) -> Segment {
  let j = (id - c * p.nseg) * p.seg;
  let o = j / p.inner;
  return Segment(j, min(j + p.seg, p.M), o, j - o * p.inner);
}

// The next run of contiguous elements as (first index, length): one division per segment,
// none per element.
fn segment_run(s: ptr<function, Segment>, c: u32) -> vec2u {
  let run = min(p.inner - (*s).i, (*s).jend - (*s).j);
  let base = ((*s).o * p.C + c) * p.inner + (*s).i;
  (*s).j += run;
  (*s).o += 1u;
  (*s).i = 0u;
  return vec2u(base, run);
}
