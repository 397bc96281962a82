// Finds Vulkan ICD manifests (the JSON files that point the Vulkan loader at a driver).
// Dawn sees only the drivers the loader sees, so wgml builds the list itself: that is how
// a software GPU outside the loader's default path (Chromium's SwiftShader) becomes usable.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export type AdapterKind = 'gpu' | 'lavapipe' | 'swiftshader';

export interface IcdFile {
  path: string;
  kind: AdapterKind;
}

/** Where distributions put ICD manifests, plus NVIDIA's container path. */
export const DEFAULT_ICD_DIRS = [
  '/usr/share/vulkan/icd.d',
  '/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/local/nvidia/share/vulkan/icd.d',
];

/** Debian/Ubuntu's chromium-common ships SwiftShader's Vulkan driver here. */
export const DEFAULT_SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json'];

export const INSTALL_HINT =
  'sudo apt-get install -y libvulkan1 chromium-common   # SwiftShader, a software GPU (or: npm run setup)';

export function classifyIcd(path: string): AdapterKind {
  const name = path.toLowerCase();
  if (name.includes('swiftshader')) return 'swiftshader';
  if (/(^|\/)lvp_icd/.test(name)) return 'lavapipe';
  return 'gpu';
}

/**
 * Lists ICD manifests. WGML_ICD_DIRS (colon-separated dirs or files) replaces every default
 * location, which is also how the tests simulate a machine without any driver.
 */
export function findIcdFiles(env: NodeJS.ProcessEnv = process.env): IcdFile[] {
  const override = env.WGML_ICD_DIRS;
  const places = override !== undefined
    ? override.split(':').filter(Boolean)
    : [...DEFAULT_ICD_DIRS, ...DEFAULT_SWIFTSHADER_ICDS];
  const found: IcdFile[] = [];
  for (const place of places) {
    if (place.endsWith('.json')) {
      if (existsSync(place)) found.push({ path: place, kind: classifyIcd(place) });
      continue;
    }
    let entries: string[] = [];
    try {
      entries = readdirSync(place).filter((f) => f.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const f of entries) found.push({ path: join(place, f), kind: classifyIcd(f) });
  }
  return found;
}

/** Classifies an adapter by the name Dawn prints for it. */
export function classifyAdapterName(name: string): AdapterKind {
  const n = name.toLowerCase();
  if (n.includes('swiftshader')) return 'swiftshader';
  if (n.includes('llvmpipe') || n.includes('lavapipe')) return 'lavapipe';
  return 'gpu';
}
