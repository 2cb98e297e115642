/**
 * Route table numbering: the lowest number at or above the base that nobody holds. Pure, so the store can run
 * it inside its write transaction (which is what makes two allocations never collide).
 *
 * @packageDocumentation
 */
import { RouteTableExhaustedError } from './errors.ts';
import { checkRouteTable, MAX_ROUTE_TABLE } from './records.ts';

const KERNEL_TABLES: ReadonlySet<number> = new Set([253, 254, 255]);

/**
 * @param base - the first candidate (routeTableBase, 260)
 * @param taken - numbers held by NIC records, reservations and the kernel
 * @throws {@link RouteTableExhaustedError}
 */
export function lowestFreeTable(base: number, taken: ReadonlySet<number>): number {
  checkRouteTable(base, 'base');
  for (let t = base; t <= MAX_ROUTE_TABLE; t++) {
    if (!taken.has(t) && !KERNEL_TABLES.has(t)) return t;
  }
  throw new RouteTableExhaustedError(base);
}
