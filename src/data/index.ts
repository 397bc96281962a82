// Public surface of the dataset layer.
export * from './dataset.js';
export { DatasetError, formatIssue, formatIssues, MAX_LISTED_ISSUES, type DataIssue } from './errors.js';
export type { LoadOptions, Candidate, ReaderOutput } from './assemble.js';
export { assembleDataset } from './assemble.js';
export { parseCsv, csvField, csvLine, type CsvRecord } from './csv.js';
export { parseNpy, writeNpy, NpyFormatError, type NpyDtype, type NpyImage } from './npy.js';
export {
  readGray,
  resizeFrame,
  resizeMaskNearest,
  binariseMask,
  ImageReadError,
  FRAME_RESIZE_KERNEL,
  MASK_RESIZE_KERNEL,
  type GrayImage,
} from './image_decode.js';
export { canonicalView, labelIndex } from './labels.js';
export { mapLimit, defaultConcurrency } from './map_limit.js';
export { readManifest, scanManifest, MANIFEST_COLUMNS, MANIFEST_LAYOUT } from './manifest_reader.js';
export { readTmed, scanTmed, tmedImageDirs, TMED_COLUMNS, type TmedOptions } from './tmed_reader.js';
export { readBackmix, scanBackmix, labelToken, BACKMIX_SPLITS, BACKMIX_MASK_DIR } from './backmix_reader.js';
export { loadDataset, detectFormat, type LoadDatasetOptions, type DetectedFormat } from './load_dataset.js';
export * from './synth/index.js';
