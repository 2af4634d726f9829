// The record a node writes of its containers' usage to the store's meta `usage/<node>` (node/usage-reporter.ts),
// which metrics.k8s.io (api/resource-metrics.ts) and the HorizontalPodAutoscaler (controllers/hpa-metrics.ts)
// read. Its shape lives here, in the model, so components share the store and this contract, not each other's code.

/** The store meta key a node's usage is written under. */
export const usageKey = (nodeName: string) => `usage/${nodeName}`;

export interface ContainerUsage { podUID: string; container: string; cpuNanoCores: number; memoryBytes: number }
export interface NodeUsage {
  /** When the sample was taken (RFC 3339) and the seconds it covers, as PodMetrics' timestamp and window. */
  timestamp: string;
  windowSeconds: number;
  containers: ContainerUsage[];
}
