import { QUEUED_SQL } from "./delivery-state";
/*
 * Generation-checked writes. The consumer decides what becomes of a delivery from what it
 * read, then sends, then writes, seconds later. Meanwhile an admin may have started a new
 * run (redeliver, recover, resume: a new generation), the sweeper may have sent it again
 * (a new generation), or a delete, disable or unsubscribe may have ended it (cancelled).
 * A decision holds only if the delivery is still in the run it was made for: the same
 * generation, still waiting to be sent (`pending` or `retrying`). A result that arrives
 * for an older run is kept in the attempt log and changes nothing else.
 */

/** The run a decision was made for, and the status it decided. */
export interface RunGuard {
  channelId: string;
  id: string;
  generation: number;
  status: string;
}

/** The guard of a change, as the SQL below reads it (a change may carry more fields). */
export const runGuard = ({ channelId, id, generation, status }: RunGuard): RunGuard => ({ channelId, id, generation, status });

/**
 * SQL: the delivery row `row` (an alias in the statement) is still in the run the guard
 * `g` (an SQL expression giving its JSON object) was decided for. Holding a delivery
 * (`held`) also needs its channel to be paused still: a resume that came between would
 * otherwise miss it.
 */
export const sqlRunIsCurrent = (row: string, g: string) => `(
  ${row}.generation = ${g}->>'generation' and ${row}.status in ${QUEUED_SQL}
  and (${g}->>'status' <> 'held' or exists (select 1 from channels where id = ${row}.channel_id and paused = 1)))`;

/**
 * SQL: the delivery named by the guard `g` is still in the run the decision was made for
 * (`sqlRunIsCurrent`, with its own lookup of the row). Put it in a statement that runs
 * before the delivery's own update in the same batch.
 */
export const sqlIsCurrent = (g: string) => `exists (
  select 1 from deliveries as run
  where run.channel_id = ${g}->>'channelId' and run.id = ${g}->>'id' and ${sqlRunIsCurrent("run", g)})`;
