export {
  absFen,
  assertFen,
  compareFen,
  type Fen,
  fenDigitsMax,
  fenMax,
  fenPerWan,
  fenPerYuan,
  isFen,
  maxFen,
  minFen,
  sumFen,
} from './fen';
export {
  type FormatWanOptions,
  type FormatYuanOptions,
  formatWan,
  formatYuan,
  wanDecimalsMax,
} from './format';
export {
  type ParseYuanOptions,
  type ParseYuanResult,
  parseYuan,
  type YuanRejectionCode,
  yuanTextLengthMax,
} from './parse';
export { roundHalfUpToUnit } from './round';
export { fenSchema, positiveFenSchema, signedFenSchema } from './schema';
export { splitByWeights, splitEvenly, splitPartsMax } from './split';
