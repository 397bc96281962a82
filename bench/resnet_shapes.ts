// Moved to src/bench/resnet_shapes.ts (shared with `wgml bench`).
export * from '../src/bench/resnet_shapes.js';
