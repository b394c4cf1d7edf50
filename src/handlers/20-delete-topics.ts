/**
 * DeleteTopics (key 20), v1-6 (Kafka 4 removed v0). By name, and from v6 by topic id.
 * Refused with TOPIC_DELETION_DISABLED (code 73) when `delete.topic.enable=false`.
 */
import { readDeleteTopicsRequest } from "../protocol/generated/delete-topics-request.ts";
import { writeDeleteTopicsResponse, type DeleteTopicsResponse } from "../protocol/generated/delete-topics-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeTopic } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

const TOPIC_DELETION_DISABLED = 73;

export const deleteTopicsHandler = defineHandler({
  apiKey: 20,
  name: "DeleteTopics",
  minVersion: 1,
  maxVersion: 6,
  readRequest: readDeleteTopicsRequest,
  writeResponse: writeDeleteTopicsResponse,
  async handle(ctx, req) {
    const { broker, apiVersion } = ctx;
    const wanted: { name: string | null; topicId: string }[] =
      apiVersion >= 6 ? (req.topics ?? []).map((t) => ({ name: t.name ?? null, topicId: t.topicId })) : (req.topicNames ?? []).map((n) => ({ name: n, topicId: ZERO_UUID }));
    const responses: DeleteTopicsResponse["responses"] = [];
    for (const w of wanted) {
      const state = w.name !== null ? broker.topics.get(w.name) : broker.topics.getById(w.topicId);
      const name = state?.record.name ?? w.name;
      const topicId = state?.record.id ?? w.topicId;
      if (name !== null && !authorizeTopic(ctx, AclOperation.DELETE, name)) {
        responses.push({ name: w.name, topicId: w.topicId, errorCode: state || w.name !== null ? AuthzError.TOPIC_AUTHORIZATION_FAILED : ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: "Authorization failed." });
        continue;
      }
      if (!broker.config.deleteTopicEnable) {
        responses.push({ name, topicId, errorCode: TOPIC_DELETION_DISABLED, errorMessage: "Topic deletion is disabled." });
        continue;
      }
      if (!state) {
        const errorCode = w.name !== null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID;
        responses.push({ name, topicId, errorCode, errorMessage: "This server does not host this topic." });
        continue;
      }
      const err = await broker.topics.delete(state.record.name);
      responses.push({ name, topicId, errorCode: err?.errorCode ?? ErrorCode.NONE, errorMessage: err?.errorMessage ?? null });
    }
    return { throttleTimeMs: 0, responses } satisfies DeleteTopicsResponse;
  },
});
