/** The server-side assignors by name (`group.consumer.assignors` picks which are offered). */
import { rangeAssignor } from "./range.ts";
import type { ServerAssignor } from "./types.ts";
import { uniformAssignor } from "./uniform.ts";

export const SERVER_ASSIGNORS: ReadonlyMap<string, ServerAssignor> = new Map([
  [uniformAssignor.name, uniformAssignor],
  [rangeAssignor.name, rangeAssignor],
]);

export type { AssignorMember, AssignorTopic, ServerAssignor } from "./types.ts";
