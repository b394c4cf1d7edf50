/**
 * DescribeCluster (key 60), v0-1. One broker, which is also the controller. Endpoint type 1
 * (brokers) only; asking for controllers (2) gets UNSUPPORTED_ENDPOINT_TYPE as in Kafka.
 * Skipped: authorized operations (no ACLs yet).
 */
import { readDescribeClusterRequest } from "../protocol/generated/describe-cluster-request.ts";
import { writeDescribeClusterResponse, type DescribeClusterResponse } from "../protocol/generated/describe-cluster-response.ts";
import { ErrorCode } from "../protocol/error-codes.ts";
import { defineHandler } from "./handler.ts";
import { AuthzError, authorizeCluster } from "../acl/check.ts";
import { AclOperation } from "../acl/types.ts";

const ENDPOINT_BROKERS = 1;
const UNSUPPORTED_ENDPOINT_TYPE = 120;

export const describeClusterHandler = defineHandler({
  apiKey: 60,
  name: "DescribeCluster",
  minVersion: 0,
  maxVersion: 1,
  readRequest: readDescribeClusterRequest,
  writeResponse: writeDescribeClusterResponse,
  handle(ctx, req): DescribeClusterResponse {
    const { broker, conn } = ctx;
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      return {
        throttleTimeMs: 0, errorCode: AuthzError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed.",
        endpointType: req.endpointType ?? ENDPOINT_BROKERS, clusterId: broker.clusterId, controllerId: -1, brokers: [], clusterAuthorizedOperations: -2147483648,
      };
    }
    const endpointType = req.endpointType ?? ENDPOINT_BROKERS;
    if (endpointType !== ENDPOINT_BROKERS) {
      return {
        throttleTimeMs: 0, errorCode: UNSUPPORTED_ENDPOINT_TYPE, errorMessage: "Only broker endpoints are served",
        endpointType, clusterId: broker.clusterId, controllerId: -1, brokers: [], clusterAuthorizedOperations: -2147483648,
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType,
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      brokers: [{ brokerId: broker.nodeId, ...(conn.listener?.advertised ?? broker.advertised), rack: broker.config.rack }],
      clusterAuthorizedOperations: -2147483648,
    };
  },
});
