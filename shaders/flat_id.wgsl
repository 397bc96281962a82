// The index of an invocation on the grid grid1d (src/kernels/elementwise.ts) launches: past
// 65535 workgroups per dimension the workgroups continue along y, each y row nwg.x·WG wide.
// The including shader declares `override WG` (its workgroup size).
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }
