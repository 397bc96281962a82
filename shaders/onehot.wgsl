// GradCAM's seed gradient: d(target logit)/d(logits) is one-hot at the target class, where the
// target is the row's argmax (first maximum, like torch.argmax) or a given label.

struct Params { N: u32, K: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> seed: array<f32>;

override WG: u32 = 64u;
override USE_LABELS: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= p.N) { return; }
  let row = n * p.K;
  var tgt = 0u;
  if (USE_LABELS) {
    tgt = labels[n];
  } else {
    var best = logits[row];
    for (var k = 1u; k < p.K; k++) {
      let v = logits[row + k];
      if (v > best) { best = v; tgt = k; }
    }
  }
  for (var k = 0u; k < p.K; k++) {
    seed[row + k] = select(0.0, 1.0, k == tgt);
  }
}
