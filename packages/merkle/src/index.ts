export * from './bundle';
export * from './checkpoint';
export * from './hash';
export * from './node-store';
export * from './note';
export * from './tree';
export {
  consistencyRanges,
  inclusionRanges,
  type LeafRange,
  type NodeKey,
  perfectPieces,
  splitPoint,
} from './tree-math';
export * from './verify';
