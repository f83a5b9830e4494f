/**
 * Uniform grid for cut-off repulsion, rebuilt on the CPU every step in O(n) (counting sort): every backend
 * reads the same grid, so each visits the same candidate pairs. Cell size >= repulsionCutoff, so a node's
 * neighbours within the cutoff lie in its own or the 26 adjacent cells. The grid is dense over the
 * bounding box; when that box would need more than `maxCells` cells (one node far away), cells grow,
 * which costs more candidate pairs but never changes the result (the cutoff test decides).
 */

export interface Grid {
  gx: number;
  gy: number;
  gz: number;
  cellSize: number;
  /** Cell coordinates per node, xyz interleaved (integers). */
  cellXYZ: Int32Array;
  /** Cell index per node, ((cx * gy) + cy) * gz + cz. */
  cellOf: Uint32Array;
  /** cellStart[c]..cellStart[c+1] indexes cellNodes; length ncells + 1. */
  cellStart: Uint32Array;
  /** Node indices sorted by cell, ascending index within a cell. */
  cellNodes: Uint32Array;
}

/** Largest cell count: a few per node, and below 2^24 so GLSL float indices stay exact. */
export function maxCellsFor(n: number): number {
  return Math.min((1 << 24) - 1, Math.max(64, 2 * n));
}

export function buildGrid(pos: Float32Array, n: number, cutoff: number, prev?: Grid): Grid {
  let minX = Infinity, minY = Infinity, minZ = Infinity, maxX = -Infinity, maxY = -Infinity, maxZ = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = pos[3 * i]!, y = pos[3 * i + 1]!, z = pos[3 * i + 2]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if (z < minZ) minZ = z;
    if (z > maxZ) maxZ = z;
  }
  if (n === 0) minX = minY = minZ = maxX = maxY = maxZ = 0;
  const ex = maxX - minX, ey = maxY - minY, ez = maxZ - minZ;
  let cellSize = cutoff;
  const limit = maxCellsFor(n);
  let gx = 1, gy = 1, gz = 1;
  for (let attempt = 0; attempt < 64; attempt++) {
    gx = Math.floor(ex / cellSize) + 1;
    gy = Math.floor(ey / cellSize) + 1;
    gz = Math.floor(ez / cellSize) + 1;
    const cells = gx * gy * gz;
    if (cells <= limit) break;
    cellSize *= Math.max(1.05, Math.cbrt(cells / limit));
  }
  const ncells = gx * gy * gz;
  const cellXYZ = prev && prev.cellXYZ.length === 3 * n ? prev.cellXYZ : new Int32Array(3 * n);
  const cellOf = prev && prev.cellOf.length === n ? prev.cellOf : new Uint32Array(n);
  const cellNodes = prev && prev.cellNodes.length === n ? prev.cellNodes : new Uint32Array(n);
  const cellStart = prev && prev.cellStart.length === ncells + 1 ? prev.cellStart : new Uint32Array(ncells + 1);
  cellStart.fill(0);
  const inv = 1 / cellSize;
  for (let i = 0; i < n; i++) {
    const cx = Math.min(gx - 1, Math.max(0, Math.floor((pos[3 * i]! - minX) * inv)));
    const cy = Math.min(gy - 1, Math.max(0, Math.floor((pos[3 * i + 1]! - minY) * inv)));
    const cz = Math.min(gz - 1, Math.max(0, Math.floor((pos[3 * i + 2]! - minZ) * inv)));
    cellXYZ[3 * i] = cx;
    cellXYZ[3 * i + 1] = cy;
    cellXYZ[3 * i + 2] = cz;
    const c = (cx * gy + cy) * gz + cz;
    cellOf[i] = c;
    cellStart[c + 1]!++;
  }
  for (let c = 0; c < ncells; c++) cellStart[c + 1]! += cellStart[c]!;
  // Stable fill (ascending i) so every backend sees the same order inside a cell.
  if (scratchFill.length < ncells) scratchFill = new Uint32Array(ncells);
  const fill = scratchFill;
  fill.set(cellStart.subarray(0, ncells));
  for (let i = 0; i < n; i++) cellNodes[fill[cellOf[i]!]!++] = i;
  return { gx, gy, gz, cellSize, cellXYZ, cellOf, cellStart, cellNodes };
}

let scratchFill = new Uint32Array(1);
