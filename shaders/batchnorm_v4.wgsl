// batchnorm.wgsl over vec4s (H·W % 4 == 0).
#include "unit_v4.wgsl"
#include "batchnorm.wgsl"
