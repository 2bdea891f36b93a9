import type { AllocationTrace, PaymentTrace } from '@fundtrace/books';
import { trailPath } from '../routes/shared';
import { type FlowDiagram, type FlowEdge, type FlowNode, flowNodesMax } from './flow';

/** Households and units drawn individually in an allocation diagram; the rest are grouped as "others". */
export const diagramPayeesMax = 150;

/** Movements whose entity has its own trail; other tranches link to their account. */
const movementTrails: ReadonlySet<string> = new Set(['receipt', 'integration', 'earmark', 'disbursement']);

/**
 * A household's trace as a flow: root allocations on the left, every tranche the money passed
 * through by level, the payments, and the household on the right.
 */
export function householdDiagram(
  partition: string,
  householdId: string,
  traces: readonly PaymentTrace[],
): FlowDiagram {
  const maxDepth = Math.max(1, ...traces.flatMap((t) => t.hops.map((h) => h.depth)));
  const nodes = new Map<string, FlowNode>();
  const edges = new Map<string, bigint>();
  const household = `household:${householdId}`;
  nodes.set(household, {
    id: household,
    column: maxDepth + 1,
    label: `户 ${householdId}`,
    href: trailPath(partition, 'household', householdId),
    kind: 'household',
  });
  const addEdge = (from: string, to: string, fen: bigint) => {
    const key = `${from}\u0000${to}`;
    edges.set(key, (edges.get(key) ?? 0n) + fen);
  };
  for (const trace of traces) {
    const paymentNode = `payment:${trace.paymentId}`;
    nodes.set(paymentNode, {
      id: paymentNode,
      column: maxDepth,
      label: `${trace.programmeCode} ${trace.period} (${trace.status})`,
      detail: `payment ${trace.paymentId}`,
      href: trailPath(trace.partition, 'payment', trace.paymentId),
      kind: trace.status === 'returned' || trace.status === 'reversed' ? 'returned' : 'payment',
    });
    addEdge(paymentNode, household, trace.amountFen);
    for (const hop of trace.hops) {
      const t = hop.parent;
      const id = `tranche:${t.partition}/${t.trancheId}`;
      if (!nodes.has(id)) {
        nodes.set(id, {
          id,
          column: maxDepth - hop.depth,
          label: `${t.partition} ${t.documentNumber}`,
          detail: `tranche ${t.trancheId} · ${t.fundSource} · ${t.purpose} · ${t.createdOn}`,
          href: movementTrails.has(t.movementKind)
            ? trailPath(t.partition, t.movementKind, t.movementId)
            : trailPath(t.partition, 'account', t.accountId),
          kind: t.isRoot ? 'source' : 'tranche',
        });
      }
      const child =
        hop.childKind === 'payment' ? paymentNode : `tranche:${hop.childPartition}/${hop.childId}`;
      addEdge(id, child, hop.tracedFen);
    }
  }
  return {
    title: `户 ${householdId} (${partition}): where its money came from`,
    nodes: [...nodes.values()].filter((n) => n.column >= 0),
    edges: toEdges(edges, nodes),
  };
}

function toEdges(edges: ReadonlyMap<string, bigint>, nodes: ReadonlyMap<string, FlowNode>): FlowEdge[] {
  const out: FlowEdge[] = [];
  for (const [key, valueFen] of edges) {
    const [from, to] = key.split('\u0000') as [string, string];
    if (nodes.has(from) && nodes.has(to)) out.push({ from, to, valueFen });
  }
  return out;
}

/**
 * An allocation traced forward: the allocation, what arrived and what is in transit, then each
 * household and implementing unit reached, what went on to lower levels and what is unspent.
 */
export function allocationDiagram(trace: AllocationTrace): FlowDiagram {
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  const allocation = 'allocation';
  const received = 'received';
  nodes.push({
    id: allocation,
    column: 0,
    label: `${trace.fromPartition} ${trace.documentNumber ?? trace.allocationId}`,
    detail: `allocation ${trace.allocationId} → ${trace.toPartition}`,
    href: trailPath(trace.fromPartition, 'allocation', trace.allocationId),
    kind: 'source',
  });
  nodes.push({
    id: received,
    column: 1,
    label: `到账 ${trace.toPartition}`,
    href: trailPath(trace.toPartition, 'allocation', trace.allocationId),
    kind: 'tranche',
  });
  edges.push({ from: allocation, to: received, valueFen: trace.receivedFen });
  if (trace.inTransitFen > 0n) {
    nodes.push({
      id: 'in-transit',
      column: 1,
      label: '在途 in transit',
      href: trailPath(trace.fromPartition, 'allocation', trace.allocationId),
      kind: 'transit',
    });
    edges.push({ from: allocation, to: 'in-transit', valueFen: trace.inTransitFen });
  }
  const payees = [
    ...trace.households.map((h) => ({
      id: `household:${h.partition}/${h.householdId}`,
      label: `户 ${h.householdId}`,
      href: trailPath(h.partition, 'household', h.householdId),
      kind: 'household' as const,
      fen: h.paidFen,
    })),
    ...trace.units.map((u) => ({
      id: `unit:${u.partition}/${u.accountId}/${u.projectId}`,
      label: `实施单位 ${u.accountId} (${u.projectId})`,
      href: trailPath(u.partition, 'project', u.projectId),
      kind: 'unit' as const,
      fen: u.disbursedFen,
    })),
  ]
    .filter((p) => p.fen > 0n)
    .sort((a, b) => (a.fen === b.fen ? (a.id < b.id ? -1 : 1) : a.fen > b.fen ? -1 : 1));
  const shown = payees.slice(0, Math.min(diagramPayeesMax, flowNodesMax - 10));
  for (const p of shown) {
    nodes.push({ id: p.id, column: 2, label: p.label, href: p.href, kind: p.kind });
    edges.push({ from: received, to: p.id, valueFen: p.fen });
  }
  const rest = payees.slice(shown.length);
  if (rest.length > 0) {
    nodes.push({
      id: 'others',
      column: 2,
      label: `${rest.length} others`,
      href: trailPath(trace.fromPartition, 'allocation', trace.allocationId),
      kind: 'household',
    });
    edges.push({ from: received, to: 'others', valueFen: rest.reduce((s, p) => s + p.fen, 0n) });
  }
  const tail: [string, string, bigint, FlowNode['kind']][] = [
    ['onward-in-transit', '下级在途 in transit below', trace.onwardInTransitFen, 'transit'],
    ['unspent', '未支出 unspent (incl. returned, reversed)', trace.unspentFen, 'unspent'],
  ];
  for (const [id, label, fen, kind] of tail) {
    if (fen <= 0n) continue;
    nodes.push({
      id,
      column: 2,
      label,
      href: trailPath(trace.toPartition, 'allocation', trace.allocationId),
      kind,
    });
    edges.push({ from: received, to: id, valueFen: fen });
  }
  return {
    title: `资金去向 ${trace.documentNumber ?? trace.allocationId}: where every fen went`,
    nodes,
    edges,
  };
}
