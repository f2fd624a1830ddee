// Fair service on the single-threaded server (issue 16, item 4). Served in arrival order, a device
// that sends frame after frame at the --max-frame-work bound kept the others waiting behind all of
// them. Instead each device's frames wait in a queue of its own (bounded: a device over the bound is
// refused, the server's memory does not grow), and devices take turns: a turn serves one device's
// frames, in order, up to one quantum (--max-frame-work) of estimated work, always at least one
// frame. A frame that arrives while another device's turn runs is served after that turn, so it
// waits for at most one quantum of each other device's work.
//
// FairQueue is the pure policy; FrameScheduler drives it from the event loop.

/** Every item costs at least quantum / MIN_SHARE, so one turn serves at most this many items. */
const MIN_SHARE = 64;

interface Queued<T> {
  item: T;
  cost: number;
}

export class FairQueue<K, T> {
  readonly #queues = new Map<K, Queued<T>[]>();
  /** Keys with queued items, in turn order. */
  readonly #order: K[] = [];
  /** Keys whose consumer waits for its next item (a key is skipped while its last item is handled). */
  readonly #ready = new Set<K>();
  #turn: { key: K; budget: number } | null = null;

  /** `quantum`: the work one turn may serve; `maxQueued`: the items one key may have waiting. */
  constructor(readonly quantum: number, readonly maxQueued: number) {
    if (!(quantum > 0) || !Number.isInteger(maxQueued) || maxQueued < 1) throw new RangeError('the quantum must be positive and maxQueued an integer >= 1');
  }

  /** Queues `item` of `key` with its estimated work; false (nothing queued) when the key already has maxQueued waiting. */
  push(key: K, item: T, cost: number): boolean {
    let q = this.#queues.get(key);
    if (!q) this.#queues.set(key, (q = []));
    if (q.length >= this.maxQueued) return false;
    q.push({ item, cost: Math.max(this.quantum / MIN_SHARE, cost) });
    if (q.length === 1 && this.#turn?.key !== key) this.#order.push(key);
    return true;
  }

  /** The consumer of `key` waits for its next item. */
  ready(key: K): void {
    this.#ready.add(key);
  }

  /** The consumer of `key` stopped waiting (e.g. it timed out). */
  hold(key: K): void {
    this.#ready.delete(key);
  }

  queued(key: K): number {
    return this.#queues.get(key)?.length ?? 0;
  }

  /** Whether next() would return an item now. */
  get runnable(): boolean {
    const t = this.#turn;
    if (t && this.#ready.has(t.key) && this.queued(t.key)) return true;
    return this.#order.some((k) => this.#ready.has(k));
  }

  /** The next item to serve (its key then counts as busy until ready() again), or null. */
  next(): { key: K; item: T } | null {
    const t = this.#turn;
    if (t) {
      const q = this.#queues.get(t.key);
      const head = q?.[0];
      if (head && this.#ready.has(t.key) && head.cost <= t.budget) return this.#take(t.key, t.budget);
      this.#turn = null;
      if (head) this.#order.push(t.key);
    }
    const i = this.#order.findIndex((k) => this.#ready.has(k));
    if (i < 0) return null;
    const [key] = this.#order.splice(i, 1) as [K];
    return this.#take(key, this.quantum);
  }

  /** Forgets `key`: its queue, its place and its turn. Returns what it still had queued. */
  remove(key: K): T[] {
    const q = this.#queues.get(key) ?? [];
    this.#queues.delete(key);
    this.#ready.delete(key);
    const i = this.#order.indexOf(key);
    if (i >= 0) this.#order.splice(i, 1);
    if (this.#turn?.key === key) this.#turn = null;
    return q.map((x) => x.item);
  }

  #take(key: K, budget: number): { key: K; item: T } {
    const q = this.#queues.get(key)!;
    const { item, cost } = q.shift()!;
    this.#turn = { key, budget: budget - cost };
    this.#ready.delete(key);
    return { key, item };
  }
}

/**
 * FairQueue over the event loop: hands out one item per turn of the loop (setImmediate), so frames
 * that arrived while the server computed are read from their sockets and queued before the next
 * choice. Each key is a connection, with a consumer that takes its items.
 */
export class FrameScheduler<T> {
  readonly #queue: FairQueue<number, T>;
  readonly #consumers = new Map<number, (item: T) => void>();
  #tick: NodeJS.Immediate | null = null;

  constructor(readonly quantum: number, readonly maxQueued: number) {
    this.#queue = new FairQueue(quantum, maxQueued);
  }

  open(key: number, consume: (item: T) => void): void {
    this.#consumers.set(key, consume);
  }

  /** Queues an item of an open key; false when its queue is full. Items of closed keys are dropped. */
  push(key: number, item: T, cost: number): boolean {
    if (!this.#consumers.has(key)) return true;
    if (!this.#queue.push(key, item, cost)) return false;
    this.#schedule();
    return true;
  }

  queued(key: number): number {
    return this.#queue.queued(key);
  }

  ready(key: number): void {
    this.#queue.ready(key);
    this.#schedule();
  }

  hold(key: number): void {
    this.#queue.hold(key);
  }

  close(key: number): void {
    this.#consumers.delete(key);
    this.#queue.remove(key);
  }

  #schedule(): void {
    if (this.#tick || !this.#queue.runnable) return;
    this.#tick = setImmediate(() => {
      this.#tick = null;
      const n = this.#queue.next();
      if (n) this.#consumers.get(n.key)?.(n.item);
      this.#schedule();
    });
  }
}
