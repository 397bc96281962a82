// batchnorm.wgsl over scalars (any H·W).
#include "unit_s.wgsl"
#include "batchnorm.wgsl"
