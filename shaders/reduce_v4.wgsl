// reduce.wgsl over vec4s (inner % 4 == 0).
#include "unit_v4.wgsl"
#include "reduce.wgsl"
