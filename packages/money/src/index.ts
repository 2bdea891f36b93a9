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
export { fenSchema, positiveFenSchema, signedFenSchema } from './schema';
