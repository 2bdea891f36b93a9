import type { NoteSigner } from '@fundtrace/merkle';
import type { Keeper } from '../keeper/runner';
import type { CheckpointSigner } from '../keeper/signing';

/** What the routes need besides app.db and app.jsm. */
export interface RouteDeps {
  readonly keeper: Pick<Keeper, 'streams' | 'discover'>;
  readonly checkpoints: CheckpointSigner;
  readonly signer: NoteSigner;
  readonly originPrefix: string;
  /** The tree key (JetStream stream name) of an API stream name. */
  readonly treeKey: (stream: string) => string;
}
