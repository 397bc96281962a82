// reduce.wgsl over scalars (any inner).
#include "unit_s.wgsl"
#include "reduce.wgsl"
