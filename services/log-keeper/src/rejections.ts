import { defineRejections } from '@fundtrace/service-kit';

/** Every refusal of the log-keeper's HTTP API. */
export const keeperRejections = defineRejections({
  /** No such stream is kept (not one of LEDGER_/REGISTRY_/AUDIT_<code>, or it has no events yet). */
  stream_not_found: 404,
  /** No checkpoint was signed at that size (or none at all yet). */
  checkpoint_not_found: 404,
  /** The tree has not reached that size (yet). */
  size_beyond_tree: 404,
  /** The sequence is not below the tree size asked about. */
  seq_out_of_range: 422,
  /** Consistency from a larger size to a smaller one. */
  old_size_greater: 422,
  /** Consistency from the empty tree proves nothing. */
  old_size_zero: 422,
  /** An on-demand checkpoint asked for a size the tree has not caught up with in time; retry. */
  log_behind: 409,
});
