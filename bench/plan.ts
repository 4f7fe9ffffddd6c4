/** What a run measures: the cells, the rounds and the slice length (see docs/benchmarks.md). */
import type { Plan } from "./report.ts";
import type { SystemId } from "./systems.ts";

export interface PlanOptions {
  quick?: boolean;
  /** A patched postcache runs beside the real one in every cell. */
  variant?: string;
  rounds?: number;
  seconds?: number;
  /** Only the cells whose id matches. */
  cells?: RegExp;
}

/** Seconds a plan's load takes (slices only; a slice costs about 0.15 s more than its length). */
export function loadSeconds(plan: Plan): number {
  const slices = plan.cells.reduce((n, c) => n + c.systems.length, 0) * plan.rounds;
  return slices * (plan.seconds + 0.15);
}

/**
 * What is measured. Each cell is one load shape; in every round each of its systems gets one slice,
 * back to back, in an order rotated per round. The full plan is sized to stay under 10 minutes.
 */
export function makePlan(args: PlanOptions): Plan {
  const caches: SystemId[] = args.variant ? ["nginx", "postcache", "variant", "naive"] : ["nginx", "postcache", "naive"];
  const cells: Plan["cells"] = [];
  const sizes = [1024, 16 * 1024];
  const concurrencies = args.quick ? [16] : [1, 16, 64];
  for (const bytes of sizes) {
    for (const connections of concurrencies) {
      // To fit 10 minutes: the references (the bare Bun floor, nginx pass-through, the origin) only at
      // 1 KiB c16, the naive Bun worker only at c16.
      const references: SystemId[] = bytes === 1024 ? ["floor", "nginx-pass", "origin"] : [];
      const systems: SystemId[] = connections === 16 ? [...caches, ...references] : caches.filter((s) => s !== "naive");
      cells.push({ id: `hit-${bytes}-c${connections}`, kind: "hit", bytes, connections, systems });
    }
  }
  // The same hits against a store filled to its cap first (a second postcache server, PREFILL=1).
  const full: SystemId[] = ["nginx", "postcache", "postcache-full"];
  if (args.variant) full.splice(2, 0, "variant");
  cells.push({ id: "hit-full-1024-c16", kind: "hit", bytes: 1024, connections: 16, systems: full });
  // Cloudflare's runtime, what edge users are billed for: postcache's bundle against the Cloudflare
  // docs' example, each in workerd. --quick keeps the 1 KiB hit only.
  const edge: SystemId[] = ["workerd-postcache", "workerd-naive"];
  const edgeSizes = args.quick ? [1024] : sizes;
  for (const bytes of edgeSizes)
    cells.push({ id: `hit-workerd-${bytes}-c16`, kind: "hit", bytes, connections: 16, systems: edge });
  for (const bytes of sizes) cells.push({ id: `miss-${bytes}-c16`, kind: "miss", bytes, connections: 16, systems: caches });
  if (!args.quick)
    for (const bytes of sizes)
      cells.push({ id: `miss-workerd-${bytes}-c16`, kind: "miss", bytes, connections: 16, systems: edge });
  cells.push({ id: "slow-1024-c16", kind: "slow", bytes: 1024, connections: 16, systems: ["origin", ...caches] });
  const chosen = args.cells ? cells.filter((c) => args.cells?.test(c.id)) : cells;
  return { cells: chosen, rounds: args.rounds ?? (args.quick ? 3 : 5), seconds: args.seconds ?? (args.quick ? 1 : 3) };
}

/** The systems a plan measures (so a run starts only those). */
export function systemsOf(plan: Plan): Set<SystemId> {
  return new Set(plan.cells.flatMap((c) => c.systems));
}
