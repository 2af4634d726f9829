// The process-wide Prometheus registry for what controllers and the scheduler measure of themselves (the API adds
// it to GET /metrics). Names, help and buckets are client-go's workqueue metrics and kube-scheduler's, so
// dashboards made for Kubernetes read them. Components import this, never the API.
import { Counter, Gauge, Histogram, Registry, exponentialBuckets } from 'prom-client';

export const componentRegistry = new Registry();
const registers = [componentRegistry];
// client-go: ExponentialBuckets(10e-9, 10, 10)
const queueBuckets = exponentialBuckets(10e-9, 10, 10);

export const workqueueMetrics = {
  depth: new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers }),
  adds: new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers }),
  queueDuration: new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.', labelNames: ['name'], buckets: queueBuckets, registers }),
  workDuration: new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.', labelNames: ['name'], buckets: queueBuckets, registers }),
  retries: new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers }),
};

export type ScheduleResult = 'scheduled' | 'unschedulable' | 'error';

export const schedulerMetrics = {
  attempts: new Counter({ name: 'scheduler_schedule_attempts_total', help: "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.", labelNames: ['result', 'profile'], registers }),
  // kube-scheduler: ExponentialBuckets(0.001, 2, 15)
  attemptDuration: new Histogram({ name: 'scheduler_scheduling_attempt_duration_seconds', help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)', labelNames: ['result', 'profile'], buckets: exponentialBuckets(0.001, 2, 15), registers }),
};

/** Records one scheduling attempt that started at `started` (process.hrtime.bigint()). */
export function observeScheduleAttempt(result: ScheduleResult, profile: string, started: bigint): void {
  schedulerMetrics.attempts.inc({ result, profile });
  schedulerMetrics.attemptDuration.observe({ result, profile }, Number(process.hrtime.bigint() - started) / 1e9);
}
