/**
 * Hands the broker's KIP-848 settings and topic metadata to the group coordinator, once, on the
 * first request that needs them (the coordinator is opened before these are known to it). Typed
 * structurally so the groups layer does not import the broker.
 */
import type { GroupCoordinator } from "./coordinator.ts";
import type { TopicInfo, TopicView } from "./topic-view.ts";

interface TopicStateLike {
  record: { id: string; name: string };
  logs: { length: number };
}

export interface BrokerLike {
  readonly groups: GroupCoordinator;
  readonly topics: {
    get(name: string): TopicStateLike | undefined;
    getById(id: string): TopicStateLike | undefined;
    all(): Iterable<TopicStateLike>;
  };
  readonly config: {
    groupConsumerHeartbeatIntervalMs: number;
    groupConsumerSessionTimeoutMs: number;
    groupConsumerAssignors: string[];
  };
}

const wired = new WeakSet<GroupCoordinator>();

export function consumerGroupsOf(broker: BrokerLike): GroupCoordinator {
  const coordinator = broker.groups;
  if (!wired.has(coordinator)) {
    wired.add(coordinator);
    const info = (t: TopicStateLike | undefined): TopicInfo | undefined => (t === undefined ? undefined : { id: t.record.id, name: t.record.name, partitions: t.logs.length });
    const view: TopicView = {
      byName: (name) => info(broker.topics.get(name)),
      byId: (id) => info(broker.topics.getById(id)),
      *names() {
        for (const t of broker.topics.all()) yield t.record.name;
      },
    };
    coordinator.configureConsumerGroups(
      {
        heartbeatIntervalMs: broker.config.groupConsumerHeartbeatIntervalMs,
        sessionTimeoutMs: broker.config.groupConsumerSessionTimeoutMs,
        assignors: [...broker.config.groupConsumerAssignors],
      },
      view,
    );
  }
  return coordinator;
}
