import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Clock, debounce, KeyedDebouncer } from '../src/lib/debounce';

/** A manual clock: time moves only when the test says so. */
class FakeClock implements Clock {
  now = 0;
  private nextId = 1;
  private timers = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= until && (!next || entry[1].at < next[1].at)) {
          next = entry;
        }
      }
      if (!next) {
        break;
      }
      this.timers.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = until;
  }

  get size(): number {
    return this.timers.size;
  }
}

test('a burst of triggers for one key runs the callback once, after the quiet period', () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  const d = new KeyedDebouncer<string>(300, (k) => calls.push(`${k}@${clock.now}`), clock);
  d.trigger('a');
  clock.advance(100);
  d.trigger('a');
  clock.advance(299);
  assert.deepEqual(calls, []);
  assert.equal(d.isPending('a'), true);
  clock.advance(1);
  assert.deepEqual(calls, ['a@400']);
  assert.equal(d.isPending('a'), false);
  assert.equal(clock.size, 0);
});

test('keys do not hold each other back', () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  const d = new KeyedDebouncer<string>(300, (k) => calls.push(`${k}@${clock.now}`), clock);
  d.trigger('a');
  clock.advance(200);
  d.trigger('b');
  clock.advance(100);
  assert.deepEqual(calls, ['a@300']);
  d.trigger('b');
  clock.advance(300);
  assert.deepEqual(calls, ['a@300', 'b@600']);
  assert.equal(d.pendingCount, 0);
});

test('flush runs now, cancel drops, dispose stops everything', () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  const d = new KeyedDebouncer<string>(50, (k) => calls.push(k), clock);
  d.trigger('x');
  assert.equal(d.flush('x'), true);
  assert.equal(d.flush('x'), false);
  assert.deepEqual(calls, ['x']);
  d.trigger('y');
  d.cancel('y');
  clock.advance(100);
  assert.deepEqual(calls, ['x']);
  d.trigger('z');
  d.dispose();
  clock.advance(100);
  d.trigger('z');
  clock.advance(100);
  assert.deepEqual(calls, ['x']);
  assert.equal(clock.size, 0);
});

test('a zero delay still waits for the clock', () => {
  const clock = new FakeClock();
  let n = 0;
  const d = new KeyedDebouncer<number>(0, () => n++, clock);
  d.trigger(1);
  assert.equal(n, 0);
  clock.advance(0);
  assert.equal(n, 1);
});

test('negative delays are refused', () => {
  assert.throws(() => new KeyedDebouncer<string>(-1, () => undefined), RangeError);
});

test('single-key debounce helper', () => {
  const clock = new FakeClock();
  let n = 0;
  const d = debounce(() => n++, 10, clock);
  d();
  d();
  d();
  clock.advance(10);
  assert.equal(n, 1);
  d();
  d.cancel();
  clock.advance(10);
  assert.equal(n, 1);
});

test('works with the real clock', async () => {
  let n = 0;
  const d = new KeyedDebouncer<string>(5, () => n++);
  d.trigger('k');
  d.trigger('k');
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(n, 1);
  d.dispose();
});
