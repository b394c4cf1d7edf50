/**
 * What KIP-848 groups need to know about topics: ids (assignments carry topic ids) and partition
 * counts (new partitions trigger a new target assignment). The broker's topic manager provides it.
 */
export interface TopicInfo {
  id: string;
  name: string;
  partitions: number;
}

export interface TopicView {
  byName(name: string): TopicInfo | undefined;
  byId(id: string): TopicInfo | undefined;
  /** Every topic name (regex subscriptions are matched against these). */
  names(): Iterable<string>;
}

export const NO_TOPICS: TopicView = {
  byName: () => undefined,
  byId: () => undefined,
  names: () => [],
};
