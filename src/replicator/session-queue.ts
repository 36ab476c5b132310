// The apply queue of a session (`start`, `start --from`, `replay`) and how
// its event stream feeds it: one measure of weight (event-weight.ts), one
// pair of marks at which the stream is paused and resumed, and the stream's
// health told where each event is as it arrives.
import type { StreamHealth } from '../health/stream-health.js';
import type { SourceEvent } from '../source/events.js';
import type { EventStream, EventStreamOptions } from '../source/threaded-source.js';
import { EventQueue } from './event-queue.js';
import { eventWeight, weightOfBytes } from './event-weight.js';

/**
 * Queue weights at which the stream is paused and resumed. Deeper queues
 * were measured to buy no speed, only memory.
 */
const QUEUE_HIGH = 10_000;
const QUEUE_LOW = 1_000;

/** A rows event from this size is a large row: held back from the stream until applied (see EventQueue.held). */
const LARGE_ROW_BYTES = 8 * 1024 * 1024;

export interface SessionQueueOptions {
  /** The session's stream, once opened: paused and resumed by the queue. */
  stream: () => EventStream | undefined;
  health?: StreamHealth | undefined;
  /** A large row still counts once taken, until the applier holds its statement instead (see the applier's onLargeInFlight). */
  holdLargeRows: boolean;
}

export interface SessionQueue {
  events: EventQueue<SourceEvent>;
  /** What the stream is opened with: its events into the queue, its failure to the queue's consumer. */
  feed: Pick<EventStreamOptions, 'onEvent' | 'onEvents' | 'onError'>;
}

export function sessionQueue(options: SessionQueueOptions): SessionQueue {
  const { health } = options;
  const events = new EventQueue<SourceEvent>({
    onHigh: () => options.stream()?.pause(),
    onLow: () => options.stream()?.resume(),
    // Weighed by rows, and by bytes for large rows (4 KiB count as a row), so
    // memory stays bounded however many or large the rows are.
    high: QUEUE_HIGH,
    low: QUEUE_LOW,
    weight: eventWeight,
    ...(options.holdLargeRows ? { held: (event: SourceEvent) => (event.type === 'rows' && event.bytes >= LARGE_ROW_BYTES ? weightOfBytes(event.bytes) : 0) } : {}),
  });
  health?.watchQueue(events);
  return {
    events,
    feed: {
      onEvent: (event) => {
        health?.observe(event);
        events.push(event);
      },
      onEvents: (batch, weight) => {
        if (health) batch.observeAll(health, Date.now());
        events.pushBatch(batch, weight);
      },
      onError: (error) => events.fail(error),
    },
  };
}
